import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxEventEntity } from '../outbox/outbox-event.entity';
import { OutboxRelay } from '../outbox/outbox.relay';
import { AuditEntryEntity } from './audit-entry.entity';
import { AuditController } from './audit.controller';
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
