import { Injectable } from '@nestjs/common';
import { IdpEntity } from '../idps/idp.entity';
import { PendingTrace } from '../login-trace/login-trace.service';
import { SessionEntity } from '../sessions/session.entity';

export type Protocol = IdpEntity['protocol'];

/** Where `GET /login` sends the browser: to the IdP (a redirect or an auto-posted form), or the chooser. */
export type LoginStart =
  | { kind: 'redirect'; url: string; idp: string }
  | { kind: 'post'; action: string; fields: Record<string, string>; idp: string }
  | { kind: 'chooser'; returnTo: string; idps: { id: string; name: string }[]; lastIdp?: string; notice?: string };

/** A login the chooser has accepted: the IdP, its trace (already started), and what the browser asked for. */
export interface LoginRequest {
  idp: IdpEntity;
  trace: PendingTrace;
  returnTo: string;
  browserHash: string;
  loginHint?: string;
}

/** A protocol's start of a login (saml/, oidc/): the request to the IdP and the login state its answer needs. */
export interface LoginStarter {
  start(request: LoginRequest): Promise<Exclude<LoginStart, { kind: 'chooser' }>>;
}

/** Where the browser goes after POST /logout; for an OIDC logout, the one-time state the caller binds to the browser. */
export interface LogoutNext {
  next: string;
  oidcState?: { state: string; returnTo: string };
}

/** A protocol's logout at the IdP, once the session here has ended (saml/: a LogoutRequest; oidc/: RP-initiated logout). */
export interface IdpLogout {
  endAtIdp(idp: IdpEntity, session: SessionEntity, returnTo: string): Promise<LogoutNext>;
}

/**
 * The protocols a login can go through, as each protocol's module registers them (at module
 * init): login/ dispatches through this map and never imports saml/ or oidc/.
 */
@Injectable()
export class LoginProtocols {
  private readonly starters = new Map<Protocol, LoginStarter>();
  private readonly logouts = new Map<Protocol, IdpLogout>();

  registerLogin(protocol: Protocol, starter: LoginStarter): void {
    this.starters.set(protocol, starter);
  }

  registerLogout(protocol: Protocol, logout: IdpLogout): void {
    this.logouts.set(protocol, logout);
  }

  starter(protocol: Protocol): LoginStarter {
    const starter = this.starters.get(protocol);
    if (!starter) throw new Error(`no login is registered for protocol ${protocol}`);
    return starter;
  }

  logout(protocol: Protocol): IdpLogout {
    const logout = this.logouts.get(protocol);
    if (!logout) throw new Error(`no logout is registered for protocol ${protocol}`);
    return logout;
  }
}
