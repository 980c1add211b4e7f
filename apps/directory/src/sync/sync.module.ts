import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { NamesHeldRpc } from './names-held.rpc';
import { SyncCommandsService } from './sync-commands.service';
import { SyncStateService } from './sync-state.service';
import { SyncRpc } from './sync.rpc';

@Module({ imports: [UsersModule], controllers: [SyncRpc, NamesHeldRpc], providers: [SyncCommandsService, SyncStateService] })
export class SyncModule {}
