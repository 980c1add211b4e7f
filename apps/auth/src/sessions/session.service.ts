import { Inject, Injectable } from '@nestjs/common';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { DirectoryUser } from '@bridgekeeper/contracts';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeysService } from '../keys/keys.service';

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

/** The application session: an ES256-signed token in an HttpOnly cookie, verifiable with our JWKS. */
@Injectable()
export class SessionService {
  constructor(
    private readonly keys: KeysService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async issue(user: DirectoryUser, groups: string[], idp: string, sessionIndex?: string): Promise<string> {
    const key = await this.keys.sessionKey();
    return new SignJWT({ username: user.username, email: user.email, name: user.displayName, groups, idp, sid: sessionIndex ?? crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(this.config.publicUrl)
      .setAudience(this.config.publicUrl)
      .setIssuedAt()
      .setExpirationTime(`${this.config.session.ttlS}s`)
      .sign(key.privateKey);
  }

  /** The claims of a valid session token, or null. */
  async verify(token: string | undefined): Promise<SessionClaims | null> {
    if (!token) return null;
    try {
      const jwks = createLocalJWKSet(await this.keys.sessionJwks());
      const { payload } = await jwtVerify(token, jwks, { issuer: this.config.publicUrl, audience: this.config.publicUrl, algorithms: ['ES256'] });
      return payload as unknown as SessionClaims;
    } catch {
      return null;
    }
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
