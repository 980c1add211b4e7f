import { Controller } from '@nestjs/common';
import { AuthRpc } from '@bridgekeeper/contracts';
import { RpcHandler } from '@bridgekeeper/messaging';
import { LoginTraceService } from './login-trace.service';

/** NATS commands on login traces (queue group `auth`): thin, validate then read. */
@Controller()
export class LoginTracesRpc {
  constructor(private readonly traces: LoginTraceService) {}

  @RpcHandler(AuthRpc.loginTrace, () => ({ found: false as const }))
  async get({ traceId }: { traceId: string }) {
    const trace = await this.traces.find(traceId);
    return trace
      ? {
          found: true as const,
          idp: trace.idp,
          subject: trace.subject,
          attributes: trace.attributes,
          protocol: protocolOf(trace.protocol),
          subjectFormat: trace.subjectFormat,
        }
      : { found: false as const };
  }
}

const protocolOf = (p: string): 'saml' | 'oidc' | undefined => (p === 'saml' || p === 'oidc' ? p : undefined);
