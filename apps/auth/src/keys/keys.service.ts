import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, JWK } from 'jose';
import { QueryFailedError, Repository } from 'typeorm';
import { generateSigningKeyPair } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeyEntity } from './key.entity';
import { loadMasterKey, SecretBox } from '@bridgekeeper/platform';

export interface SamlSpKey {
  id?: string;
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

  /** Seals a secret (an OIDC client secret) with the master key, bound to `context`. */
  sealSecret(secret: string, context: string): string {
    return this.box.seal(secret, context);
  }

  openSecret(sealed: string, context: string): string {
    return this.box.open(sealed, context);
  }

  /**
   * The SP's keys for one IdP in one query (a login reads them): the active signing and encryption
   * keys (made on first use) and the staged next signing key, if a rotation is under way.
   */
  async samlSpKeyRing(idpId: string): Promise<{ signing: SamlSpKey; encryption: SamlSpKey; next: SamlSpKey | null; otherDecryption: SamlSpKey[] }> {
    const signingPurpose = `saml-sp:${idpId}`;
    const encryptionPurpose = `saml-sp-enc:${idpId}`;
    const rows = await this.keys.find({ where: [{ purpose: signingPurpose }, { purpose: encryptionPurpose }], order: { createdAt: 'DESC' } });
    const active = async (purpose: string, commonName: string) =>
      rows.find((r) => r.purpose === purpose && r.active) ??
      (await this.activeOrCreate(purpose, async () => {
        const pair = await generateSigningKeyPair(commonName);
        return { privateKey: pair.privateKeyPem, publicMaterial: pair.certificatePem, notAfter: pair.notAfter };
      }));
    const latestSigning = rows.find((r) => r.purpose === signingPurpose);
    const encryption = await active(encryptionPurpose, `Bridgekeeper SP ${idpId} encryption`);
    // During a rotation assertions may be encrypted to the staged key (the IdP imported the new
    // metadata early) or still to the one just retired (it has not yet): both keep decrypting.
    const staged = rows.find((r) => r.purpose === encryptionPurpose && !r.active && r.createdAt > encryption.createdAt);
    const retired = rows.find((r) => r.purpose === encryptionPurpose && !r.active && r.createdAt < encryption.createdAt);
    return {
      signing: this.open(await active(signingPurpose, `Bridgekeeper SP ${idpId}`)),
      encryption: this.open(encryption),
      next: latestSigning && !latestSigning.active ? this.open(latestSigning) : null,
      otherDecryption: [staged, retired].filter((r): r is KeyEntity => !!r).map((r) => this.open(r)),
    };
  }

  /** Every SP key of an IdP with its state, for the admin API (never the private halves). */
  async samlSpKeyStates(idpId: string) {
    const rows = await this.keys.find({ where: [{ purpose: `saml-sp:${idpId}` }, { purpose: `saml-sp-enc:${idpId}` }], order: { createdAt: 'ASC' } });
    const active = new Map(rows.filter((r) => r.active).map((r) => [r.purpose, r]));
    return rows.map((r) => ({
      id: r.id,
      use: r.purpose.startsWith('saml-sp-enc:') ? 'encryption' : 'signing',
      status: r.active ? 'active' : r.createdAt > (active.get(r.purpose)?.createdAt ?? new Date(0)) ? 'pending' : 'retired',
      notAfter: r.notAfter,
      createdAt: r.createdAt,
    }));
  }

  /**
   * Rotation, step 1: stage new signing and encryption keys. The SP metadata publishes the new
   * signing certificate next to the current one, so the IdP can trust it before it is used.
   */
  async stageSpKeys(idpId: string): Promise<void> {
    for (const [purpose, cn] of [
      [`saml-sp:${idpId}`, `Bridgekeeper SP ${idpId}`],
      [`saml-sp-enc:${idpId}`, `Bridgekeeper SP ${idpId} encryption`],
    ]) {
      if (await this.pendingRow(purpose)) continue;
      const pair = await generateSigningKeyPair(cn);
      const id = `${purpose.replace(/[^a-z0-9]/gi, '-')}-${(await this.keys.countBy({ purpose })) + 1}`;
      await this.keys.insert({
        id,
        purpose,
        privateKeyEnc: this.box.seal(pair.privateKeyPem, id),
        publicMaterial: pair.certificatePem,
        active: false,
        notAfter: pair.notAfter,
        createdAt: new Date(),
      });
    }
  }

  /** Rotation, step 2: the staged keys become active; the old ones are retired. */
  async activateSpKeys(idpId: string): Promise<boolean> {
    let changed = false;
    await this.keys.manager.transaction(async (em) => {
      for (const purpose of [`saml-sp:${idpId}`, `saml-sp-enc:${idpId}`]) {
        const pending = await this.pendingRow(purpose, em.getRepository(KeyEntity));
        if (!pending) continue;
        await em.update(KeyEntity, { purpose, active: true }, { active: false });
        await em.update(KeyEntity, { id: pending.id }, { active: true });
        changed = true;
      }
    });
    return changed;
  }

  private async pendingRow(purpose: string, repo = this.keys): Promise<KeyEntity | null> {
    const latest = await repo.findOne({ where: { purpose }, order: { createdAt: 'DESC' } });
    return latest && !latest.active ? latest : null;
  }

  private readonly opened = new Map<string, SamlSpKey>();

  /** Decrypts a key once per row id. */
  private open(row: KeyEntity): SamlSpKey {
    let key = this.opened.get(row.id);
    if (!key) {
      key = { id: row.id, privateKeyPem: this.box.open(row.privateKeyEnc, row.id), certificatePem: row.publicMaterial };
      this.opened.set(row.id, key);
    }
    return key;
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
