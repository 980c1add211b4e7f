import { BadRequestException, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, Registry } from 'prom-client';
import { DataSource, IsNull, Not } from 'typeorm';
import { METRICS_REGISTRY } from '@bridgekeeper/platform';
import { OidcDiscovery } from '@bridgekeeper/oidc';
import { certificateInfo } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeysService } from '../keys/keys.service';
import { IdpEntity, IdpMetadataState, OidcIdpSettings } from './idp.entity';
import { discover, fetchMetadata, IdpMetadataError, secretContext } from './idp-sources';
import { IdpViewsService } from './idp-views.service';
import { IdpsService } from './idps.service';

/**
 * The IdPs' metadata (SAML) and discovery documents (OIDC), refreshed on a schedule (the last good
 * copy stays when a refresh fails) and on demand, fetched on first use; the metrics on their
 * certificates and refreshes.
 */
@Injectable()
export class IdpRefreshService implements OnApplicationBootstrap {
  private readonly logger = new Logger(IdpRefreshService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly keys: KeysService,
    private readonly idps: IdpsService,
    private readonly views: IdpViewsService,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    // Read at each scrape, so every instance reports the same, current state.
    const repo = () => this.db.getRepository(IdpEntity);
    new Gauge({
      name: 'bridgekeeper_idp_certificate_days_left',
      help: 'Days until the soonest-expiring signing certificate of each IdP expires (alert well before 0)',
      labelNames: ['idp'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const e of await repo().find()) {
          const days = (e.metadata?.signingCertificates ?? []).map((c) => certificateInfo(c).daysLeft);
          if (days.length) this.set({ idp: e.id }, Math.min(...days));
        }
      },
    });
    new Gauge({
      name: 'bridgekeeper_idp_metadata_refresh_failing',
      help: '1 while the last metadata refresh of an IdP failed (the last good metadata stays in use)',
      labelNames: ['idp'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const e of await repo().find()) this.set({ idp: e.id }, e.metadataError ? 1 : 0);
      },
    });
  }

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.refreshAll(), this.config.saml.metadataRefreshMs);
    timer.unref();
    this.scheduler.addInterval('idp-metadata-refresh', timer);
  }

  /** The IdP with usable metadata (fetched now when it has none yet). */
  async withMetadata(e: IdpEntity): Promise<IdpEntity & { metadata: IdpMetadataState }> {
    if (e.metadata) return e as IdpEntity & { metadata: IdpMetadataState };
    await this.refresh(e.id);
    const fresh = await this.idps.get(e.id);
    if (!fresh.metadata) throw new IdpMetadataError(fresh.metadataError ?? `identity provider ${e.id} has no metadata`);
    return fresh as IdpEntity & { metadata: IdpMetadataState };
  }

  /** The OIDC IdP with its discovery document and opened client secret (discovered now when it has none yet). */
  async withDiscovery(e: IdpEntity): Promise<{ settings: OidcIdpSettings & { discovery: OidcDiscovery }; clientSecret: string }> {
    let current = e;
    if (!current.oidc?.discovery) {
      await this.refresh(e.id);
      current = await this.idps.get(e.id);
      if (!current.oidc?.discovery) throw new IdpMetadataError(current.metadataError ?? `identity provider ${e.id} has no discovery document`);
    }
    if (!current.clientSecretEnc) throw new IdpMetadataError(`identity provider ${e.id} has no client secret`);
    return {
      settings: current.oidc as OidcIdpSettings & { discovery: OidcDiscovery },
      clientSecret: this.keys.openSecret(current.clientSecretEnc, secretContext(e.id)),
    };
  }

  /** Fetches the metadata URL again; on failure the last good metadata stays and the error is kept. */
  async refresh(id: string) {
    const e = await this.idps.get(id);
    if (!e.metadataUrl) throw new BadRequestException(`identity provider ${id} has no metadata URL to refresh from`);
    try {
      if (e.protocol === 'oidc') {
        const discovery = await discover(e.oidc!.issuer, this.config.saml.metadataAllowPrivate);
        await this.db
          .getRepository(IdpEntity)
          .update({ id }, { oidc: { ...e.oidc!, discovery }, metadataFetchedAt: new Date(), metadataError: null, updatedAt: new Date() });
        return this.views.view(await this.idps.get(id));
      }
      const metadata = await fetchMetadata(e.metadataUrl, this.config.saml.metadataAllowPrivate);
      await this.db.getRepository(IdpEntity).update({ id }, { metadata, metadataFetchedAt: new Date(), metadataError: null, updatedAt: new Date() });
      for (const c of metadata.signingCertificates.map((cert) => certificateInfo(cert, this.config.saml.certificateWarnDays))) {
        if (c.status !== 'valid')
          this.logger.warn(
            `identity provider ${id}: signing certificate ${c.subject} ${c.status === 'expired' ? 'expired' : `expires in ${c.daysLeft} days`} (${c.notAfter})`,
          );
      }
    } catch (err) {
      const message = `refreshing the metadata from ${e.metadataUrl} failed at ${new Date().toISOString()}: ${(err as Error).message}`;
      await this.db.getRepository(IdpEntity).update({ id }, { metadataError: message });
      this.logger.warn(message + (e.metadata || e.oidc?.discovery ? ' (the last good copy stays in use)' : ''));
    }
    return this.views.view(await this.idps.get(id));
  }

  async refreshAll(): Promise<void> {
    for (const e of await this.db.getRepository(IdpEntity).findBy({ metadataUrl: Not(IsNull()), enabled: true }))
      await this.refresh(e.id).catch(() => undefined);
  }
}
