import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { CacheItem } from '@node-saml/node-saml';
import type { RequestIdStore } from '@bridgekeeper/saml';
import { LessThan, MoreThan, Repository } from 'typeorm';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { SamlRequestEntity } from './saml-request.entity';

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
