import { Controller } from '@nestjs/common';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { RpcHandler } from '@bridgekeeper/messaging';
import { TokensService } from './tokens.service';

/** auth and provisioning verify admin tokens here: the directory owns them. */
@Controller()
export class TokensRpc {
  constructor(private readonly tokens: TokensService) {}

  @RpcHandler(DirectoryRpc.verifyToken, () => ({ valid: false as const }))
  async verify({ token }: { token: string }) {
    const principal = await this.tokens.verify(token);
    return principal ? { valid: true as const, ...principal } : { valid: false as const };
  }
}
