import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { Gauge, Registry } from 'prom-client';
import { DataSource, IsNull, Not } from 'typeorm';
import { METRICS_REGISTRY, runInTransaction, safeFetchText, writeAudit } from '@bridgekeeper/platform';
import { certificateInfo, normaliseCertificate, parseIdpMetadata, spUrls } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { CreateIdp, UpdateIdp } from './idp.schemas';
import { IdpEntity, IdpMetadataState, IdpOptions } from './idp.entity';

export class IdpMetadataError extends BadRequestException {}

/**
 * The SAML IdPs: configured through the admin API (metadata URL, pasted XML, or by hand), stored
 * in auth's database so every instance sees them, refreshed on a schedule, every change audited.
 */
@Injectable()
export class IdpsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(IdpsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly scheduler: SchedulerRegistry,
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

  /** The IdP named by the environment exists from the first start (the zero-setup dev stack). */
  async onApplicationBootstrap(): Promise<void> {
    for (const boot of this.config.saml.idps) {
      if (await this.db.getRepository(IdpEntity).existsBy({ id: boot.id })) continue;
      const now = new Date();
      await this.db.getRepository(IdpEntity).insert({
        id: boot.id,
        name: boot.name,
        enabled: true,
        metadataUrl: boot.metadataUrl,
        metadata: null,
        metadataFetchedAt: null,
        metadataError: null,
        options: { binding: this.config.saml.binding, emailDomains: [], forceAuthn: false, nameIdFormat: null },
        createdAt: now,
        updatedAt: now,
      }).catch(() => undefined); // another instance created it first
    }
    const timer = setInterval(() => void this.refreshAll(), this.config.saml.metadataRefreshMs);
    timer.unref();
    this.scheduler.addInterval('idp-metadata-refresh', timer);
  }

  view(e: IdpEntity) {
    const urls = spUrls(this.config.publicUrl, e.id);
    return {
      id: e.id,
      name: e.name,
      enabled: e.enabled,
      ...e.options,
      metadataUrl: e.metadataUrl,
      metadataFetchedAt: e.metadataFetchedAt,
      metadataError: e.metadataError,
      idp: e.metadata && {
        entityId: e.metadata.entityId,
        ssoRedirectUrl: e.metadata.ssoRedirectUrl ?? null,
        ssoPostUrl: e.metadata.ssoPostUrl ?? null,
        sloUrl: e.metadata.sloRedirectUrl ?? e.metadata.sloPostUrl ?? null,
        certificates: e.metadata.signingCertificates.map((c) => certificateInfo(c, this.config.saml.certificateWarnDays)),
      },
      sp: { entityId: urls.entityId, acsUrl: urls.acs, sloUrl: urls.slo, metadataUrl: urls.entityId },
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
    };
  }

  async list() {
    return (await this.db.getRepository(IdpEntity).find({ order: { name: 'ASC' } })).map((e) => this.view(e));
  }

  enabled(): Promise<IdpEntity[]> {
    return this.db.getRepository(IdpEntity).find({ where: { enabled: true }, order: { name: 'ASC' } });
  }

  async find(id: string): Promise<IdpEntity | null> {
    return this.db.getRepository(IdpEntity).findOneBy({ id });
  }

  async get(id: string): Promise<IdpEntity> {
    const e = await this.find(id);
    if (!e) throw new NotFoundException(`no identity provider ${id}`);
    return e;
  }

  /** The IdP with usable metadata (fetched now when it has none yet). */
  async withMetadata(e: IdpEntity): Promise<IdpEntity & { metadata: IdpMetadataState }> {
    if (e.metadata) return e as IdpEntity & { metadata: IdpMetadataState };
    await this.refresh(e.id);
    const fresh = await this.get(e.id);
    if (!fresh.metadata) throw new IdpMetadataError(fresh.metadataError ?? `identity provider ${e.id} has no metadata`);
    return fresh as IdpEntity & { metadata: IdpMetadataState };
  }

  async create(dto: CreateIdp, actor: string) {
    const metadata = await this.metadataFrom(dto);
    return runInTransaction(this.db, async (em) => {
      if (await em.existsBy(IdpEntity, { id: dto.id })) throw new ConflictException(`id: an identity provider ${dto.id} exists`);
      const now = new Date();
      const e = em.create(IdpEntity, {
        id: dto.id,
        name: dto.name,
        enabled: dto.enabled,
        metadataUrl: dto.metadataUrl ?? null,
        metadata,
        metadataFetchedAt: now,
        metadataError: null,
        options: pickOptions(dto) as IdpOptions,
        createdAt: now,
        updatedAt: now,
      });
      await em.insert(IdpEntity, e);
      await writeAudit(em, [{ actor, action: 'idp.created', targetType: 'idp', targetId: e.id, after: this.auditView(e) }]);
      return this.view(e);
    });
  }

  async update(id: string, dto: UpdateIdp, actor: string) {
    const metadata = dto.metadataUrl !== undefined || dto.metadataXml !== undefined || dto.manual !== undefined ? await this.metadataFrom(dto) : undefined;
    return runInTransaction(this.db, async (em) => {
      const e = await em.findOneBy(IdpEntity, { id });
      if (!e) throw new NotFoundException(`no identity provider ${id}`);
      const before = this.auditView(e);
      if (dto.name !== undefined) e.name = dto.name;
      if (dto.enabled !== undefined) e.enabled = dto.enabled;
      e.options = { ...e.options, ...pickOptions(dto) };
      if (metadata) {
        e.metadata = metadata;
        e.metadataUrl = dto.metadataUrl ?? null;
        e.metadataFetchedAt = new Date();
        e.metadataError = null;
      }
      e.updatedAt = new Date();
      await em.save(IdpEntity, e);
      await writeAudit(em, [{ actor, action: 'idp.updated', targetType: 'idp', targetId: id, before, after: this.auditView(e) }]);
      return this.view(e);
    });
  }

  remove(id: string, actor: string) {
    return runInTransaction(this.db, async (em) => {
      const e = await em.findOneBy(IdpEntity, { id });
      if (!e) throw new NotFoundException(`no identity provider ${id}`);
      await em.delete(IdpEntity, { id });
      await writeAudit(em, [{ actor, action: 'idp.deleted', targetType: 'idp', targetId: id, before: this.auditView(e) }]);
    });
  }

  /** An audit row for a change that is not the IdP's own settings (key rotation). */
  async audit(actor: string, action: string, id: string): Promise<void> {
    await writeAudit(this.db.manager, [{ actor, action, targetType: 'idp', targetId: id }]);
  }

  /** Marks the IdP changed, so every instance rebuilds its service provider. */
  async touch(id: string): Promise<void> {
    await this.db.getRepository(IdpEntity).update({ id }, { updatedAt: new Date() });
  }

  /** Fetches the metadata URL again; on failure the last good metadata stays and the error is kept. */
  async refresh(id: string) {
    const e = await this.get(id);
    if (!e.metadataUrl) throw new BadRequestException(`identity provider ${id} has no metadata URL to refresh from`);
    try {
      const metadata = await this.fetchMetadata(e.metadataUrl);
      await this.db.getRepository(IdpEntity).update({ id }, { metadata, metadataFetchedAt: new Date(), metadataError: null, updatedAt: new Date() });
      for (const c of metadata.signingCertificates.map((cert) => certificateInfo(cert, this.config.saml.certificateWarnDays))) {
        if (c.status !== 'valid') this.logger.warn(`identity provider ${id}: signing certificate ${c.subject} ${c.status === 'expired' ? 'expired' : `expires in ${c.daysLeft} days`} (${c.notAfter})`);
      }
    } catch (err) {
      const message = `refreshing the metadata from ${e.metadataUrl} failed at ${new Date().toISOString()}: ${(err as Error).message}`;
      await this.db.getRepository(IdpEntity).update({ id }, { metadataError: message });
      this.logger.warn(message + (e.metadata ? ' (the last good metadata stays in use)' : ''));
    }
    return this.view(await this.get(id));
  }

  async refreshAll(): Promise<void> {
    for (const e of await this.db.getRepository(IdpEntity).findBy({ metadataUrl: Not(IsNull()), enabled: true })) await this.refresh(e.id).catch(() => undefined);
  }

  private async metadataFrom(dto: { metadataUrl?: string; metadataXml?: string; manual?: { entityId: string; ssoUrl: string; sloUrl?: string; certificates: string[] } }): Promise<IdpMetadataState> {
    try {
      if (dto.metadataUrl) return await this.fetchMetadata(dto.metadataUrl);
      if (dto.metadataXml) return parseIdpMetadata(dto.metadataXml);
      const m = dto.manual!;
      return { entityId: m.entityId, ssoRedirectUrl: m.ssoUrl, ssoPostUrl: m.ssoUrl, sloRedirectUrl: m.sloUrl, sloPostUrl: m.sloUrl, signingCertificates: m.certificates.map(normaliseCertificate), wantAuthnRequestsSigned: true };
    } catch (err) {
      throw new IdpMetadataError(`metadata: ${(err as Error).message}`);
    }
  }

  private async fetchMetadata(url: string): Promise<IdpMetadataState> {
    return parseIdpMetadata(await safeFetchText(url, { allowPrivate: this.config.saml.metadataAllowPrivate }));
  }

  private auditView(e: IdpEntity) {
    return { name: e.name, enabled: e.enabled, metadataUrl: e.metadataUrl, entityId: e.metadata?.entityId ?? null, certificates: e.metadata?.signingCertificates.length ?? 0, ...e.options };
  }
}

function pickOptions(v: Partial<IdpOptions>): Partial<IdpOptions> {
  const out: Partial<IdpOptions> = {};
  if (v.binding !== undefined) out.binding = v.binding;
  if (v.emailDomains !== undefined) out.emailDomains = v.emailDomains;
  if (v.forceAuthn !== undefined) out.forceAuthn = v.forceAuthn;
  if (v.isPassive !== undefined) out.isPassive = v.isPassive;
  if (v.nameIdFormat !== undefined) out.nameIdFormat = v.nameIdFormat;
  if (v.allowIdpInitiated !== undefined) out.allowIdpInitiated = v.allowIdpInitiated;
  return out;
}
