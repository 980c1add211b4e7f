import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { TokensService } from './tokens.service';

/** auth and provisioning verify admin tokens here: the directory owns them. */
@Controller()
export class TokensRpc {
  constructor(private readonly tokens: TokensService) {}

  @MessagePattern(DirectoryRpc.verifyToken.subject)
  async verify(@Payload() payload: unknown) {
    const parsed = DirectoryRpc.verifyToken.request.safeParse(payload);
    const principal = parsed.success ? await this.tokens.verify(parsed.data.token) : null;
    return principal ? { valid: true, ...principal } : { valid: false };
  }
}
