import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DirectoryClientModule } from '../directory-client/directory-client.module';
import { JitService } from '../jit/jit.service';
import { ManualService } from '../manual/manual.service';
import { SettingsModule } from '../settings/settings.module';
import { SyncModule } from '../sync/sync.module';
import { LoginsEvents } from './logins.events';
import { LoginsService } from './logins.service';
import { ProcessedEventEntity } from './processed-event.entity';
import { ProcessedEventsController } from './processed-events.controller';

/** Provisioning behind each login, by the IdP's model: JIT, Manual or User Sync. */
@Module({
  imports: [TypeOrmModule.forFeature([ProcessedEventEntity]), DirectoryClientModule, SyncModule, SettingsModule],
  controllers: [ProcessedEventsController],
  providers: [LoginsService, LoginsEvents, JitService, ManualService],
})
export class LoginsModule {}
