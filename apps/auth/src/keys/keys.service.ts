import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, JWK } from 'jose';
import { QueryFailedError, Repository } from 'typeorm';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeyEntity } from './key.entity';
import { loadMasterKey, SecretBox } from '@bridgekeeper/platform';

export interface SamlSpKey {
  privateKeyPem: string;
  certificatePem: string;
}

export interface SessionKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * Keys live in auth's database (private halves sealed with the master key), so every auth
 * instance signs with the same keys and a restart keeps them. Created on first use.
 */
@Injectable()
export class KeysService {
  private readonly logger = new Logger(KeysService.name);
  private readonly box: SecretBox;
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(
    @InjectRepository(KeyEntity) private readonly keys: Repository<KeyEntity>,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {
    this.box = new SecretBox(loadMasterKey(config.masterKey, config.database.dataDir, 'auth'));
  }

  /** The SP's signing key for one IdP. */
  samlSpKey(idpId: string): Promise<SamlSpKey> {
    return this.spKey(`saml-sp:${idpId}`, `Bridgekeeper SP ${idpId}`);
  }

  /** The SP's encryption key for one IdP: IdPs that encrypt assertions use its certificate. */
  samlSpEncryptionKey(idpId: string): Promise<SamlSpKey> {
    return this.spKey(`saml-sp-enc:${idpId}`, `Bridgekeeper SP ${idpId} encryption`);
  }

  private spKey(purposeName: string, commonName: string): Promise<SamlSpKey> {
    return this.cached(purposeName, async (purpose) => {
      const row = await this.activeOrCreate(purpose, async () => {
        const pair = await generateSigningKeyPair(commonName);
        return { privateKey: pair.privateKeyPem, publicMaterial: pair.certificatePem, notAfter: pair.notAfter };
      });
      return { privateKeyPem: this.box.open(row.privateKeyEnc, row.id), certificatePem: row.publicMaterial };
    });
  }

  sessionKey(): Promise<SessionKey> {
    return this.cached('session', async (purpose) => {
      const row = await this.activeOrCreate(purpose, async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
        return { privateKey: await exportPKCS8(privateKey), publicMaterial: JSON.stringify(await exportJWK(publicKey)), notAfter: null };
      });
      const privateKey = await importPKCS8(this.box.open(row.privateKeyEnc, row.id), 'ES256');
      return { kid: row.id, privateKey, publicJwk: { ...JSON.parse(row.publicMaterial), kid: row.id, alg: 'ES256', use: 'sig' } };
    });
  }

  /** Public keys that verify session tokens (all active ones, for rotation). */
  async sessionJwks(): Promise<{ keys: JWK[] }> {
    const key = await this.sessionKey();
    return { keys: [key.publicJwk] };
  }

  private cached<T>(purpose: string, load: (purpose: string) => Promise<T>): Promise<T> {
    let p = this.cache.get(purpose) as Promise<T> | undefined;
    if (!p) {
      p = load(purpose).catch((err) => {
        this.cache.delete(purpose);
        throw err;
      });
      this.cache.set(purpose, p);
    }
    return p;
  }

  private async activeOrCreate(
    purpose: string,
    create: () => Promise<{ privateKey: string; publicMaterial: string; notAfter: Date | null }>,
  ): Promise<KeyEntity> {
    const existing = await this.keys.findOne({ where: { purpose, active: true }, order: { createdAt: 'DESC' } });
    if (existing) return existing;
    const made = await create();
    // Deterministic id per purpose for the first key: two instances starting at once agree on one.
    const id = `${purpose.replace(/[^a-z0-9]/gi, '-')}-1`;
    const row = this.keys.create({
      id,
      purpose,
      privateKeyEnc: this.box.seal(made.privateKey, id),
      publicMaterial: made.publicMaterial,
      active: true,
      notAfter: made.notAfter,
      createdAt: new Date(),
    });
    try {
      await this.keys.insert(row);
      this.logger.log(`generated a new ${purpose} key`);
      return row;
    } catch (err) {
      if (err instanceof QueryFailedError) return this.keys.findOneByOrFail({ id });
      throw err;
    }
  }
}
