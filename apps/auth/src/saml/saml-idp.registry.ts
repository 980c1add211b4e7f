import { Inject, Injectable, Logger } from '@nestjs/common';
import { safeFetchText } from '@bridgekeeper/platform';
import { IdpMetadata, parseIdpMetadata, SamlServiceProvider } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeysService } from '../keys/keys.service';
import { SamlRequestStore } from './saml-stores.service';

export interface SamlIdp {
  id: string;
  name: string;
  metadataUrl: string;
}

export class UnknownIdpError extends Error {}
export class IdpUnavailableError extends Error {}

interface Loaded {
  sp: SamlServiceProvider;
  metadata: IdpMetadata;
  loadedAt: number;
}

/**
 * The configured SAML IdPs and a service provider for each. IdP metadata is fetched on first
 * use and refreshed on an interval; a failed refresh keeps the last good metadata.
 */
@Injectable()
export class SamlIdpRegistry {
  private readonly logger = new Logger(SamlIdpRegistry.name);
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<Loaded>>();

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly keys: KeysService,
    private readonly requests: SamlRequestStore,
  ) {}

  list(): SamlIdp[] {
    return this.config.saml.idps;
  }

  get(id: string): SamlIdp {
    const idp = this.config.saml.idps.find((i) => i.id === id);
    if (!idp) throw new UnknownIdpError(`no identity provider '${id}' is configured`);
    return idp;
  }

  /** Service-provider metadata needs only our own key, not the IdP. */
  async spMetadata(id: string): Promise<string> {
    const idp = this.get(id);
    const current = this.loaded.get(idp.id);
    if (current) return current.sp.metadata();
    const key = await this.keys.samlSpKey(idp.id);
    const placeholder: IdpMetadata = { entityId: 'urn:unknown', ssoRedirectUrl: 'http://unused.invalid/', signingCertificates: [], wantAuthnRequestsSigned: false };
    return this.build(idp, placeholder, key).metadata();
  }

  async serviceProvider(id: string): Promise<SamlServiceProvider> {
    const idp = this.get(id);
    const current = this.loaded.get(idp.id);
    if (current && Date.now() - current.loadedAt < this.config.saml.metadataRefreshMs) return current.sp;
    let pending = this.loading.get(idp.id);
    if (!pending) {
      pending = this.load(idp).finally(() => this.loading.delete(idp.id));
      this.loading.set(idp.id, pending);
    }
    try {
      return (await pending).sp;
    } catch (err) {
      if (current) {
        this.logger.warn(`refreshing the metadata of ${idp.id} failed, keeping the last good copy: ${(err as Error).message}`);
        return current.sp;
      }
      throw new IdpUnavailableError(`the metadata of identity provider '${idp.id}' could not be loaded from ${idp.metadataUrl}: ${(err as Error).message}`);
    }
  }

  private async load(idp: SamlIdp): Promise<Loaded> {
    const [xml, key] = await Promise.all([safeFetchText(idp.metadataUrl), this.keys.samlSpKey(idp.id)]);
    const metadata = parseIdpMetadata(xml);
    const loaded = { sp: this.build(idp, metadata, key), metadata, loadedAt: Date.now() };
    this.loaded.set(idp.id, loaded);
    this.logger.log(`loaded SAML metadata of ${idp.id} (${metadata.entityId}, ${metadata.signingCertificates.length} signing certificate(s))`);
    return loaded;
  }

  private build(idp: SamlIdp, metadata: IdpMetadata, key: { privateKeyPem: string; certificatePem: string }): SamlServiceProvider {
    return new SamlServiceProvider({
      idpId: idp.id,
      publicUrl: this.config.publicUrl,
      idp: metadata,
      signingKey: key.privateKeyPem,
      signingCert: key.certificatePem,
      binding: this.config.saml.binding,
      clockSkewMs: this.config.saml.clockSkewMs,
      requestTtlMs: this.config.saml.requestTtlMs,
      requestStore: this.requests,
    });
  }
}
