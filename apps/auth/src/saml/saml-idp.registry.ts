import { Inject, Injectable } from '@nestjs/common';
import { IdpMetadata, SamlServiceProvider } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpEntity } from '../idps/idp.entity';
import { IdpUnavailableError, UnknownIdpError } from '../idps/idp-errors';
import { IdpRefreshService } from '../idps/idp-refresh.service';
import { IdpsService } from '../idps/idps.service';
import { KeysService } from '../keys/keys.service';
import { SamlRequestStore } from './saml-stores.service';

type SpKey = { privateKeyPem: string; certificatePem: string };

/**
 * A SAML service provider per IdP, built from the IdP's stored metadata and our own key, and
 * rebuilt when the IdP changes (new metadata, a key rollover, new options).
 */
@Injectable()
export class SamlIdpRegistry {
  private readonly built = new Map<string, { updatedAt: number; sp: SamlServiceProvider }>();

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly idps: IdpsService,
    private readonly refreshes: IdpRefreshService,
    private readonly keys: KeysService,
    private readonly requests: SamlRequestStore,
  ) {}

  /** Enabled IdPs, for the chooser. */
  list(): Promise<IdpEntity[]> {
    return this.idps.enabled();
  }

  /** The enabled SAML IdP `id` (an OIDC IdP is unknown here: it has no metadata to wait for). */
  async get(id: string): Promise<IdpEntity> {
    const idp = await this.idps.find(id);
    if (!idp || !idp.enabled) throw new UnknownIdpError(`no identity provider '${id}' is configured`);
    if (idp.protocol !== 'saml') throw new UnknownIdpError(`identity provider '${id}' does not use SAML`);
    return idp;
  }

  /** SP metadata needs only our own key, not the IdP's metadata. */
  async spMetadata(id: string): Promise<string> {
    const idp = await this.idps.find(id);
    if (!idp || idp.protocol !== 'saml') throw new UnknownIdpError(`no SAML identity provider '${id}' is configured`);
    const placeholder: IdpMetadata = {
      entityId: 'urn:unknown',
      ssoRedirectUrl: 'http://unused.invalid/',
      signingCertificates: [],
      wantAuthnRequestsSigned: false,
    };
    const ring = await this.keys.samlSpKeyRing(id);
    return this.build(idp, placeholder, ring.signing, ring.encryption, ring.next).metadata();
  }

  /** The IdP's service provider; pass the IdP when the caller has already read it. */
  async serviceProvider(idOrIdp: string | IdpEntity): Promise<SamlServiceProvider> {
    let idp = typeof idOrIdp === 'string' ? await this.get(idOrIdp) : idOrIdp;
    const id = idp.id;
    // Every change that shapes the service provider (metadata, options, SP keys staged or
    // activated) moves the IdP's updatedAt, which the caller has just read: an unchanged IdP
    // reuses its service provider without reading and opening the key ring again.
    const hit = this.built.get(id);
    if (hit?.updatedAt === idp.updatedAt.getTime()) return hit.sp;
    try {
      idp = await this.refreshes.withMetadata(idp);
    } catch (err) {
      throw new IdpUnavailableError(`the metadata of identity provider '${id}' could not be loaded: ${(err as Error).message}`);
    }
    const { signing, encryption, next, otherDecryption } = await this.keys.samlSpKeyRing(id);
    // Keyed on what was read (withMetadata may have fetched the metadata just now: a newer updatedAt).
    const updatedAt = idp.updatedAt.getTime();
    const sp = this.build(idp, idp.metadata!, signing, encryption, next, `${id}:${updatedAt}`, otherDecryption);
    this.built.set(id, { updatedAt, sp });
    return sp;
  }

  private build(
    idp: IdpEntity,
    metadata: IdpMetadata,
    key: SpKey,
    encryption: SpKey,
    next: SpKey | null,
    version?: string,
    otherDecryption: SpKey[] = [],
  ): SamlServiceProvider {
    return new SamlServiceProvider({
      version,
      otherDecryptionKeys: otherDecryption.map((k) => k.privateKeyPem),
      idpId: idp.id,
      publicUrl: this.config.publicUrl,
      idp: metadata,
      signingKey: key.privateKeyPem,
      signingCert: key.certificatePem,
      nextSigningCert: next?.certificatePem,
      encryptionKey: encryption.privateKeyPem,
      encryptionCert: encryption.certificatePem,
      binding: idp.options.binding,
      forceAuthn: idp.options.forceAuthn,
      passive: idp.options.isPassive ?? false,
      allowIdpInitiated: idp.options.allowIdpInitiated ?? false,
      allowCbcEncryption: idp.options.allowCbcEncryption ?? false,
      nameIdFormat: idp.options.nameIdFormat ?? undefined,
      clockSkewMs: this.config.saml.clockSkewMs,
      requestTtlMs: this.config.saml.requestTtlMs,
      maxAssertionAgeMs: this.config.saml.maxAssertionAgeMs,
      requestStore: this.requests,
    });
  }
}
