import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { CacheItem } from '@node-saml/node-saml';
import type { RequestIdStore } from '@bridgekeeper/saml';
import { LessThan, MoreThan, QueryFailedError, Repository } from 'typeorm';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { SamlAssertionEntity, SamlRequestEntity } from './saml-request.entity';

/** Outstanding request ids, in the database so every auth instance sees the same requests. */
@Injectable()
export class SamlRequestStore implements RequestIdStore {
  constructor(
    @InjectRepository(SamlRequestEntity) private readonly requests: Repository<SamlRequestEntity>,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const createdAt = Date.now();
    await this.requests.insert({ id: key, value, expiresAt: new Date(createdAt + this.config.saml.requestTtlMs) });
    return { value, createdAt };
  }

  async getAsync(key: string): Promise<string | null> {
    const row = await this.requests.findOneBy({ id: key });
    return row && row.expiresAt.getTime() > Date.now() ? row.value : null;
  }

  /** One DELETE: of two instances answering the same id at once, exactly one wins. */
  async consume(id: string): Promise<boolean> {
    const result = await this.requests.delete({ id, expiresAt: MoreThan(new Date()) });
    return (result.affected ?? 0) === 1;
  }

  async removeAsync(key: string | null): Promise<string | null> {
    if (!key) return null;
    const result = await this.requests.delete({ id: key });
    return result.affected ? key : null;
  }

  async purgeExpired(): Promise<void> {
    await this.requests.delete({ expiresAt: LessThan(new Date()) });
  }
}

/** Remembers accepted assertion ids until they expire, across instances (primary-key insert). */
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
