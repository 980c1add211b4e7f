import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, LessThan, Repository } from 'typeorm';
import { isUniqueViolation, runInTransaction } from '@bridgekeeper/data';
import { SamlAssertionEntity } from './replay.entity';

/**
 * Ids honoured once, until they expire, across instances (primary-key insert): SAML assertion ids,
 * LogoutRequest ids and OIDC logout tokens' jti (the table keeps its first name, saml_assertions).
 */
@Injectable()
export class AssertionReplayStore {
  constructor(@InjectRepository(SamlAssertionEntity) private readonly assertions: Repository<SamlAssertionEntity>) {}

  /** false when the assertion was seen before. */
  async remember(idp: string, id: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.assertions.insert({ id: `${idp}:${id}`.slice(0, 128), idp, expiresAt });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /**
   * Honours an id once, together with what it does: the id is remembered in the transaction that
   * does `work`, so a message whose work failed (auth's database, mid-way) is not remembered and
   * the IdP's retry is honoured, while two deliveries at once still run the work once.
   * `undefined` when the id was seen before.
   */
  async once<T>(idp: string, id: string, expiresAt: Date, work: (em: EntityManager) => Promise<T>): Promise<{ result: T } | undefined> {
    try {
      return await runInTransaction(this.assertions.manager.connection, async (em) => {
        try {
          await em.insert(SamlAssertionEntity, { id: `${idp}:${id}`.slice(0, 128), idp, expiresAt });
        } catch (err) {
          // Only the id's own insert means "seen before": a unique violation inside `work` is a failure like any other.
          throw isUniqueViolation(err) ? new SeenBefore() : err;
        }
        return { result: await work(em) };
      });
    } catch (err) {
      if (err instanceof SeenBefore) return undefined;
      throw err;
    }
  }

  async purgeExpired(): Promise<void> {
    await this.assertions.delete({ expiresAt: LessThan(new Date()) });
  }
}

class SeenBefore extends Error {}
