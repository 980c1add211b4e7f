import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxEventEntity } from '../outbox/outbox-event.entity';
import { OutboxRelay } from '../outbox/outbox.relay';
import { AuditEntryEntity } from '@bridgekeeper/platform';
import { AuditController } from '@bridgekeeper/platform';
import { ChangeLog } from './change-log.service';

/** The change log (audit rows + outbox events) every directory feature writes through. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEntryEntity, OutboxEventEntity])],
  controllers: [AuditController],
  providers: [ChangeLog, OutboxRelay],
  exports: [ChangeLog, OutboxRelay],
})
export class AuditModule {}
