import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxBatchEntity } from '../outbox/outbox-batch.entity';
import { OutboxRelay } from '../outbox/outbox.relay';
import { AuditEntryEntity } from '@bridgekeeper/data';
import { AuditController } from '@bridgekeeper/admin-api';
import { ChangeLog } from './change-log.service';

/** The change log (audit rows + outbox events) every directory feature writes through. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEntryEntity, OutboxBatchEntity])],
  controllers: [AuditController],
  providers: [ChangeLog, OutboxRelay],
  exports: [ChangeLog, OutboxRelay],
})
export class AuditModule {}
