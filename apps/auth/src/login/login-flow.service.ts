import { Inject, Injectable } from '@nestjs/common';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpsService } from '../idps/idps.service';
import { LoginTraceService } from '../login-trace/login-trace.service';
import { safeReturnTo } from '../return-to';
import { LoginError } from './login-error';
import { LoginProtocols, LoginStart } from './login-protocol';
import { SignInService } from './sign-in.service';

export type { LoginStart } from './login-protocol';

/**
 * The start of a login: which IdP (`?idp=`, an email's domain, the only one, or the chooser), the
 * address to return to, the trace; then the IdP's protocol (saml/, oidc/, registered in
 * LoginProtocols) sends the request and leaves the login state its answer needs.
 */
@Injectable()
export class LoginFlowService {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly idps: IdpsService,
    private readonly traces: LoginTraceService,
    private readonly signIn: SignInService,
    private readonly protocols: LoginProtocols,
  ) {}

  /**
   * Starts a login: `?idp=` picks the IdP; otherwise an email (`login_hint`) routes by domain; one
   * enabled IdP means no chooser; else the chooser, with the last IdP used first.
   */
  async start(requested: string | undefined, rawReturnTo: unknown, browserHash: string, loginHint?: string, lastIdp?: string): Promise<LoginStart> {
    const ownOrigin = new URL(this.config.publicUrl).origin;
    const returnTo = safeReturnTo(rawReturnTo, ownOrigin, this.config.allowedReturnOrigins);
    let idpId = requested;
    if (!idpId) {
      const idps = await this.idps.enabled();
      const domain = loginHint?.includes('@') ? loginHint.split('@').pop()!.trim().toLowerCase() : undefined;
      const routed = domain ? idps.find((i) => i.options.emailDomains.includes(domain)) : undefined;
      if (routed) idpId = routed.id;
      else if (idps.length === 1) idpId = idps[0].id;
      else {
        const choices = idps.map((i) => ({ id: i.id, name: i.name })).sort((a, b) => Number(b.id === lastIdp) - Number(a.id === lastIdp));
        const notice = domain ? `No sign-in is set up for ${domain}; choose one below.` : undefined;
        return { kind: 'chooser', returnTo: returnTo ?? '/', idps: choices, lastIdp, notice };
      }
    }
    const idp = await this.signIn.enabledIdp(idpId);
    const trace = this.traces.begin(idpId, idp.protocol, 'login.started');
    return this.signIn.recorded(trace, async () => {
      if (returnTo === null) {
        const reason = `returnTo ${String(rawReturnTo).slice(0, 200)} is not an allowed address`;
        await trace.fail('return_to_refused', reason);
        throw new LoginError(400, 'return_to_refused', { traceId: trace.id, detail: reason });
      }
      return this.protocols.starter(idp.protocol).start({ idp, trace, returnTo, browserHash, loginHint });
    });
  }
}
