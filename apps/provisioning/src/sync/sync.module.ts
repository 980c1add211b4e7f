import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectorEntity } from '../connectors/connector.entity';
import { ConnectorsController } from '../connectors/connectors.controller';
import { ConnectorsService } from '../connectors/connectors.service';
import { DirectoryClientModule } from '../directory-client/directory-client.module';
import { SettingsModule } from '../settings/settings.module';
import { SyncLockEntity, SyncRunEntity } from './sync-run.entity';
import { SyncRunsController } from './sync-runs.controller';
import { SyncLoginService } from './sync-login.service';
import { SyncEvents } from './sync.events';
import { SyncScheduler } from './sync.scheduler';
import { SyncService } from './sync.service';

/** User Sync: connectors, runs (scheduled, on demand, by event), and the first-login single-user sync. */
@Module({
  imports: [TypeOrmModule.forFeature([ConnectorEntity, SyncRunEntity, SyncLockEntity]), DirectoryClientModule, SettingsModule],
  controllers: [ConnectorsController, SyncRunsController],
  providers: [ConnectorsService, SyncService, SyncLoginService, SyncScheduler, SyncEvents],
  exports: [SyncLoginService],
})
export class SyncModule {}
