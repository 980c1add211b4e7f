import { Controller } from '@nestjs/common';
import { AuthRpc } from '@bridgekeeper/contracts';
import { RpcHandler } from '@bridgekeeper/messaging';
import { IdpsService } from './idps.service';

/** NATS commands on IdPs (queue group `auth`): thin, validate then read. */
@Controller()
export class IdpsRpc {
  constructor(private readonly idps: IdpsService) {}

  /** Provisioning asks about an IdP it has not heard of through the idp.* events. */
  @RpcHandler(AuthRpc.idpExists, () => ({ exists: false }))
  async exists({ idp }: { idp: string }) {
    return { exists: (await this.idps.find(idp)) !== null };
  }

  /** The mapping simulator reads a pasted SAML response as this IdP's logins are read. */
  @RpcHandler(AuthRpc.idpSubjectPolicy, () => ({ found: false as const }))
  async subjectPolicy(request: { idp: string }) {
    const idp = await this.idps.find(request.idp);
    if (!idp) return { found: false as const };
    return {
      found: true as const,
      protocol: idp.protocol,
      nameIdFormat: idp.options.nameIdFormat ?? null,
      subjectAttribute: idp.options.subjectAttribute ?? null,
    };
  }
}
