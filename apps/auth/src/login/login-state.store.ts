import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, LessThan, MoreThan, Repository } from 'typeorm';
import { insertWrite, PendingWrite } from '@bridgekeeper/data';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { LoginStateEntity } from './login-state.entity';

/**
 * The state a started login leaves for its answer (SAML RelayState, OIDC state): written with the
 * trace's start, taken once, and only by the browser that started the login.
 */
@Injectable()
export class LoginStateStore {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @InjectRepository(LoginStateEntity) private readonly states: Repository<LoginStateEntity>,
  ) {}

  /** The login state a started login leaves for its answer, expiring with the request; written with the trace's start. */
  write(em: EntityManager, state: Omit<LoginStateEntity, 'expiresAt'>): PendingWrite {
    const row: LoginStateEntity = { ...state, expiresAt: new Date(Date.now() + this.config.saml.requestTtlMs) };
    return insertWrite(em, LoginStateEntity, row);
  }

  /**
   * The login state a RelayState (SAML) or state (OIDC) names, taken once and only by the browser
   * that started it (`browserHash`): one DELETE … RETURNING where the database has it. When nothing
   * is taken, `elsewhere` says whether the state is held by another browser (or this browser lost
   * its cookie): that state is left as it was, for its own browser.
   */
  async take(relayState: string, idpId: string, browserHash: string | null): Promise<{ state: LoginStateEntity | null; elsewhere: boolean }> {
    let state: LoginStateEntity | null = null;
    if (browserHash) {
      const bound = { relayState, browserHash };
      if (this.states.manager.connection.driver.isReturningSqlSupported('delete')) {
        const { raw } = await this.states.createQueryBuilder().delete().where(bound).returning('*').execute();
        const row = (raw as Record<string, unknown>[])[0];
        state = row ? this.states.create() : null;
        for (const column of row ? this.states.metadata.columns : []) column.setEntityValue(state!, row[column.databaseName]);
      } else {
        state = await this.states.findOneBy(bound);
        if (state && !(await this.states.delete(bound)).affected) state = null;
      }
    }
    if (!state) return { state: null, elsewhere: await this.states.existsBy({ relayState, idp: idpId, expiresAt: MoreThan(new Date()) }) };
    if (state.idp !== idpId || state.expiresAt.getTime() < Date.now()) return { state: null, elsewhere: false };
    return { state, elsewhere: false };
  }

  async purgeExpired(): Promise<void> {
    await this.states.delete({ expiresAt: LessThan(new Date()) });
  }
}
