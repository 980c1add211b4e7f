import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, QueryFailedError, Repository } from 'typeorm';
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
      if (err instanceof QueryFailedError && /unique|duplicate|primary/i.test(err.message)) return false;
      throw err;
    }
  }

  async purgeExpired(): Promise<void> {
    await this.assertions.delete({ expiresAt: LessThan(new Date()) });
  }
}
