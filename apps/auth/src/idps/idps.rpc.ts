import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuthRpc } from '@bridgekeeper/contracts';
import { IdpsService } from './idps.service';

/** NATS commands on IdPs (queue group `auth`): thin, validate then read. */
@Controller()
export class IdpsRpc {
  constructor(private readonly idps: IdpsService) {}

  /** Provisioning asks about an IdP it has not heard of through the idp.* events. */
  @MessagePattern(AuthRpc.idpExists.subject)
  async exists(@Payload() payload: unknown) {
    const parsed = AuthRpc.idpExists.request.safeParse(payload);
    return { exists: parsed.success && (await this.idps.find(parsed.data.idp)) !== null };
  }

  /** The mapping simulator reads a pasted SAML response as this IdP's logins are read. */
  @MessagePattern(AuthRpc.idpSubjectPolicy.subject)
  async subjectPolicy(@Payload() payload: unknown) {
    const parsed = AuthRpc.idpSubjectPolicy.request.safeParse(payload);
    const idp = parsed.success ? await this.idps.find(parsed.data.idp) : null;
    if (!idp) return { found: false };
    return { found: true, protocol: idp.protocol, nameIdFormat: idp.options.nameIdFormat ?? null, subjectAttribute: idp.options.subjectAttribute ?? null };
  }
}
