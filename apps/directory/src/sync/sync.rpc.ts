import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { SyncCommandsService } from './sync-commands.service';

/** User Sync's directory commands over NATS (provisioning sends them in bounded batches). */
@Controller()
export class SyncRpc {
  constructor(private readonly sync: SyncCommandsService) {}

  @MessagePattern(DirectoryRpc.syncState.subject)
  state(@Payload() payload: unknown) {
    return this.sync.state(DirectoryRpc.syncState.request.parse(payload));
  }

  @MessagePattern(DirectoryRpc.syncApply.subject)
  apply(@Payload() payload: unknown) {
    const parsed = DirectoryRpc.syncApply.request.safeParse(payload);
    if (!parsed.success) return { status: 'error', code: 'invalid_request', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
    return this.sync.apply(parsed.data);
  }
}
