import { Injectable } from '@nestjs/common';
import { IdpEntity } from '../idps/idp.entity';
import { PendingTrace } from '../login-trace/login-trace.service';

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

/**
 * The protocols a login can go through, as each protocol's module registers them (at module
 * init): login/ dispatches through this map and never imports saml/ or oidc/.
 */
@Injectable()
export class LoginProtocols {
  private readonly starters = new Map<Protocol, LoginStarter>();

  registerLogin(protocol: Protocol, starter: LoginStarter): void {
    this.starters.set(protocol, starter);
  }

  starter(protocol: Protocol): LoginStarter {
    const starter = this.starters.get(protocol);
    if (!starter) throw new Error(`no login is registered for protocol ${protocol}`);
    return starter;
  }
}
