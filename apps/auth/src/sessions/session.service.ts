import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { EntityManager, In, IsNull, LessThan, Repository } from 'typeorm';
import { DirectoryUser } from '@bridgekeeper/contracts';
import { insertWrite, PendingWrite } from '@bridgekeeper/data';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeysService } from '../keys/keys.service';
import { SessionEntity, UserAccessEntity } from './session.entity';

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
    @InjectRepository(UserAccessEntity) private readonly access: Repository<UserAccessEntity>,
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
  async open(
    user: DirectoryUser,
    groups: string[],
    idp: string,
    subject: SessionSubject,
  ): Promise<{ token: string; write: (em: EntityManager) => PendingWrite }> {
    const key = await this.keys.sessionKey();
    const sid = crypto.randomUUID();
    const now = new Date();
    // The cookie names the session; who the user is lives in its row (a token holding every group
    // outgrew the 4 KB a browser keeps for a cookie at about a hundred groups, and was dropped).
    const token = await new SignJWT({ idp, sid })
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
      username: user.username,
      email: user.email,
      displayName: user.displayName,
      groups,
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
      // A logout (ours or the IdP's) or the user's offboarding ends the session at once, on every instance.
      const live = await this.liveRow(claims.sid);
      if (!live) return null;
      // Sessions written before the claims moved to the row still carry them in their token.
      return live.username === null ? claims : { ...claims, username: live.username, email: live.email, name: live.displayName, groups: live.groups ?? [] };
    } catch {
      return null;
    }
  }

  /**
   * One statement: the session is not ended, and its user has not been disabled or deleted in the
   * directory since (user_access: a session written by a login in flight at that moment is refused too).
   */
  private liveRow(sid: string): Promise<Pick<SessionEntity, 'username' | 'email' | 'displayName' | 'groups'> | null> {
    return this.sessions
      .createQueryBuilder('s')
      .select(['s.id', 's.username', 's.email', 's.displayName', 's.groups'])
      .where('s.id = :sid AND s.ended_at IS NULL', { sid })
      .andWhere((qb) => `NOT EXISTS ${qb.subQuery().select('1').from(UserAccessEntity, 'a').where('a.user_id = s.user_id AND a.revoked = TRUE').getQuery()}`)
      .getOne();
  }

  /** The session behind a token (for single logout), even when its token has just expired. */
  async record(sid: string): Promise<SessionEntity | null> {
    return this.sessions.findOneBy({ id: sid, endedAt: IsNull() });
  }

  async end(sid: string): Promise<void> {
    await this.sessions.update({ id: sid, endedAt: IsNull() }, { endedAt: new Date() });
  }

  /** IdP-initiated logout: every live session of that IdP subject (and session index, when given); the ids of those it ended. */
  async endBySubject(idp: string, nameId: string, sessionIndex?: string, em: EntityManager = this.sessions.manager): Promise<string[]> {
    const sessions = em.getRepository(SessionEntity);
    const live = await sessions.find({ select: { id: true }, where: { idp, nameId, endedAt: IsNull(), ...(sessionIndex ? { sessionIndex } : {}) } });
    if (live.length === 0) return [];
    const ids = live.map((s) => s.id);
    await sessions.update({ id: In(ids), endedAt: IsNull() }, { endedAt: new Date() });
    return ids;
  }

  /** Back-channel logout: the sessions a logout token names, by OIDC `sid` and/or `sub`. */
  async endByOidcSession(idp: string, notice: { sub?: string; sid?: string }, em: EntityManager = this.sessions.manager): Promise<number> {
    const where = { idp, endedAt: IsNull(), ...(notice.sub ? { nameId: notice.sub } : {}), ...(notice.sid ? { sessionIndex: notice.sid } : {}) };
    const result = await em.getRepository(SessionEntity).update(where, { endedAt: new Date() });
    return result.affected ?? 0;
  }

  /**
   * Offboarding (the directory disabled or deleted the user at `at`): every session of the user
   * that existed then ends, on every instance at once, and until the directory says otherwise
   * (`restoreUser`, from a newer event) any other session of theirs is refused. Returns the
   * sessions ended. Events may arrive late, twice or out of order: the newest one wins.
   */
  async revokeUser(userId: string, at: Date): Promise<number> {
    await this.setAccess(userId, true, at);
    const ended = await this.sessions
      .createQueryBuilder()
      .update()
      .set({ endedAt: new Date() })
      .where('user_id = :userId AND ended_at IS NULL AND created_at <= :at', { userId, at })
      .execute();
    return ended.affected ?? 0;
  }

  /**
   * The directory enabled the user again at `at`: sessions from their next logins count. Any
   * session of theirs from before then is ended first: written by a login in flight while they
   * were disabled (or on a clock behind the directory's), it was refused all along and stays so.
   */
  async restoreUser(userId: string, at: Date): Promise<void> {
    await this.sessions
      .createQueryBuilder()
      .update()
      .set({ endedAt: new Date() })
      .where('user_id = :userId AND ended_at IS NULL AND created_at < :at', { userId, at })
      .execute();
    await this.setAccess(userId, false, at);
  }

  /** Last writer wins, by the time of the directory's event. */
  private async setAccess(userId: string, revoked: boolean, at: Date): Promise<void> {
    await this.access.createQueryBuilder().insert().values({ userId, revoked, changedAt: at }).orIgnore().execute();
    await this.access.createQueryBuilder().update().set({ revoked, changedAt: at }).where('user_id = :userId AND changed_at < :at', { userId, at }).execute();
  }

  /** A user's live sessions, newest first (the admin API). */
  async liveSessionsOf(userId: string): Promise<SessionEntity[]> {
    return this.sessions.find({ where: { userId, endedAt: IsNull() }, order: { createdAt: 'DESC' } });
  }

  /** Ends every live session of a user (an admin's decision); the ids of those it ended. */
  async endAllOf(userId: string): Promise<string[]> {
    const live = await this.liveSessionsOf(userId);
    if (live.length) await this.sessions.update({ id: In(live.map((s) => s.id)), endedAt: IsNull() }, { endedAt: new Date() });
    return live.map((s) => s.id);
  }

  async purgeExpired(): Promise<void> {
    const longAgo = new Date(Date.now() - 86_400_000);
    await this.sessions.delete({ expiresAt: LessThan(longAgo) });
    // Once every session that could have been written before it has expired, an access row guards nothing.
    await this.access.delete({ changedAt: LessThan(new Date(longAgo.getTime() - this.config.session.ttlS * 1000)) });
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
