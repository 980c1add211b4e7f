import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { SyncCommandsService } from './sync-commands.service';
import { SyncRpc } from './sync.rpc';

@Module({ imports: [UsersModule], controllers: [SyncRpc], providers: [SyncCommandsService] })
export class SyncModule {}
