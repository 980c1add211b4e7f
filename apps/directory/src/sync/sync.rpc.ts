import { Controller } from '@nestjs/common';
import { z } from 'zod';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { RpcHandler } from '@bridgekeeper/messaging';
import { SyncCommandsService } from './sync-commands.service';
import { SyncStateService } from './sync-state.service';

/** User Sync's directory commands over NATS (provisioning sends them in bounded batches). */
@Controller()
export class SyncRpc {
  constructor(
    private readonly sync: SyncCommandsService,
    private readonly syncState: SyncStateService,
  ) {}

  @RpcHandler(DirectoryRpc.syncState)
  state(request: z.output<typeof DirectoryRpc.syncState.request>) {
    return this.syncState.state(request);
  }

  @RpcHandler(DirectoryRpc.syncGroups)
  groups(request: z.output<typeof DirectoryRpc.syncGroups.request>) {
    return this.syncState.groups(request);
  }

  @RpcHandler(DirectoryRpc.syncApply, (message) => ({ status: 'error' as const, code: 'invalid_request' as const, message }))
  apply(request: z.output<typeof DirectoryRpc.syncApply.request>) {
    return this.sync.apply(request);
  }
}
