import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { EntityManager, IsNull, LessThan, Repository } from 'typeorm';
import { DirectoryUser } from '@bridgekeeper/contracts';
import { insertWrite, PendingWrite } from '@bridgekeeper/platform';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeysService } from '../keys/keys.service';
import { SessionEntity } from './session.entity';

/** Who the identity provider said signed in: what single logout needs later. */
export interface SessionSubject {
  nameId: string;
  nameIdFormat?: string;
  sessionIndex?: string;
  idToken?: string;
}

export interface SessionClaims {
  sub: string;
  username: string;
  email: string | null;
  name: string | null;
  groups: string[];
  idp: string;
  sid: string;
  exp: number;
  iat: number;
}

/**
 * The application session: an ES256-signed token in an HttpOnly cookie, verifiable with our JWKS,
 * naming a session record that single logout can end.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly keys: KeysService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
  ) {}

  /** A session for the user: its row and the signed cookie token. */
  async issue(user: DirectoryUser, groups: string[], idp: string, subject: SessionSubject): Promise<string> {
    const session = await this.open(user, groups, idp, subject);
    await session.write(this.sessions.manager).execute();
    return session.token;
  }

  /**
   * A session not yet stored: the signed cookie token, and the write of its row, for the caller
   * to land together with its own (a login's trace: `writeTogether`).
   */
  async open(user: DirectoryUser, groups: string[], idp: string, subject: SessionSubject): Promise<{ token: string; write: (em: EntityManager) => PendingWrite }> {
    const key = await this.keys.sessionKey();
    const sid = crypto.randomUUID();
    const now = new Date();
    const token = await new SignJWT({ username: user.username, email: user.email, name: user.displayName, groups, idp, sid })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(this.config.publicUrl)
      .setAudience(this.config.publicUrl)
      .setIssuedAt()
      .setExpirationTime(`${this.config.session.ttlS}s`)
      .sign(key.privateKey);
    const row: SessionEntity = {
      id: sid,
      userId: user.id,
      idp,
      nameId: subject.nameId.slice(0, 255),
      nameIdFormat: subject.nameIdFormat?.slice(0, 255) ?? null,
      sessionIndex: subject.sessionIndex?.slice(0, 255) ?? null,
      idToken: subject.idToken ?? null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.session.ttlS * 1000),
      endedAt: null,
    };
    return { token, write: (em) => insertWrite(em, SessionEntity, row) };
  }

  /** The claims of a valid session token, or null. */
  async verify(token: string | undefined): Promise<SessionClaims | null> {
    if (!token) return null;
    try {
      const jwks = createLocalJWKSet(await this.keys.sessionJwks());
      const { payload } = await jwtVerify(token, jwks, { issuer: this.config.publicUrl, audience: this.config.publicUrl, algorithms: ['ES256'] });
      const claims = payload as unknown as SessionClaims;
      // A logout (ours or the IdP's) ends the session at once, on every instance.
      const live = await this.sessions.existsBy({ id: claims.sid, endedAt: IsNull() });
      return live ? claims : null;
    } catch {
      return null;
    }
  }

  /** The session behind a token (for single logout), even when its token has just expired. */
  async record(sid: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ id: sid, endedAt: IsNull() });
  }

  async end(sid: string): Promise<void> {
    await this.sessions.update({ id: sid, endedAt: IsNull() }, { endedAt: new Date() });
  }

  /** IdP-initiated logout: every live session of that IdP subject (and session index, when given). */
  async endBySubject(idp: string, nameId: string, sessionIndex?: string): Promise<number> {
    const result = await this.sessions.update({ idp, nameId, endedAt: IsNull(), ...(sessionIndex ? { sessionIndex } : {}) }, { endedAt: new Date() });
    return result.affected ?? 0;
  }

  /** Back-channel logout: the sessions a logout token names, by OIDC `sid` and/or `sub`. */
  async endByOidcSession(idp: string, notice: { sub?: string; sid?: string }): Promise<number> {
    const where = { idp, endedAt: IsNull(), ...(notice.sub ? { nameId: notice.sub } : {}), ...(notice.sid ? { sessionIndex: notice.sid } : {}) };
    const result = await this.sessions.update(where, { endedAt: new Date() });
    return result.affected ?? 0;
  }

  async purgeExpired(): Promise<void> {
    await this.sessions.delete({ expiresAt: LessThan(new Date(Date.now() - 86_400_000)) });
  }

  cookieOptions() {
    return {
      httpOnly: true,
      secure: this.config.session.secure,
      sameSite: 'lax' as const,
      path: '/',
      maxAge: this.config.session.ttlS * 1000,
    };
  }
}
