import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuthRpc } from '@bridgekeeper/contracts';
import { LoginTraceService } from './login-trace.service';

/** NATS commands on login traces (queue group `auth`): thin, validate then read. */
@Controller()
export class LoginTracesRpc {
  constructor(private readonly traces: LoginTraceService) {}

  @MessagePattern(AuthRpc.loginTrace.subject)
  async get(@Payload() payload: unknown) {
    const parsed = AuthRpc.loginTrace.request.safeParse(payload);
    const trace = parsed.success ? await this.traces.find(parsed.data.traceId) : null;
    return trace ? { found: true, idp: trace.idp, subject: trace.subject, attributes: trace.attributes, protocol: trace.protocol === 'saml' || trace.protocol === 'oidc' ? trace.protocol : undefined, subjectFormat: trace.subjectFormat } : { found: false };
  }
}
