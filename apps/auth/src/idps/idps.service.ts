import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventContract, EventInput, IdpCreatedV1, IdpDeletedV1, IdpUpdatedV1, MappingPresetName } from '@bridgekeeper/contracts';
import { EventBus } from '@bridgekeeper/messaging';
import { runInTransaction, writeAudit } from '@bridgekeeper/data';
import { discoveryUrl } from '@bridgekeeper/oidc';
import { NAMEID_TRANSIENT } from '@bridgekeeper/saml';
import { mutableSubjectAttribute } from '@bridgekeeper/saml-assertion';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeysService } from '../keys/keys.service';
import { CreateIdp, UpdateIdp } from './idp.schemas';
import { IdpEntity, IdpOptions, OidcIdpSettings } from './idp.entity';
import { discover, metadataFrom, secretContext } from './idp-sources';
import { CBC_WARNING, IdpViewsService } from './idp-views.service';

export { IdpMetadataError } from './idp-sources';

/**
 * The IdPs' administration: SAML (metadata URL, pasted XML, or by hand) and OIDC (issuer
 * discovery, client id and sealed secret), configured through the admin API, stored in auth's
 * database so every instance sees them, every change audited and announced (idp.* events). Their
 * refresh: idp-refresh.service.ts; how the API shows them: idp-views.service.ts.
 */
@Injectable()
export class IdpsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(IdpsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly keys: KeysService,
    private readonly bus: EventBus,
    private readonly views: IdpViewsService,
  ) {}

  /** The IdP named by the environment exists from the first start (the zero-setup dev stack). */
  async onApplicationBootstrap(): Promise<void> {
    for (const boot of this.config.saml.idps) {
      if (await this.db.getRepository(IdpEntity).existsBy({ id: boot.id })) continue;
      const now = new Date();
      await this.db
        .getRepository(IdpEntity)
        .insert({
          id: boot.id,
          name: boot.name,
          enabled: true,
          metadataUrl: boot.metadataUrl,
          metadata: null,
          metadataFetchedAt: null,
          metadataError: null,
          options: { binding: this.config.saml.binding, emailDomains: [], forceAuthn: false, nameIdFormat: null },
          protocol: 'saml',
          oidc: null,
          clientSecretEnc: null,
          createdAt: now,
          updatedAt: now,
        })
        .catch(() => undefined); // another instance created it first
    }
    const boot = this.config.oidc.idp;
    if (boot && !(await this.db.getRepository(IdpEntity).existsBy({ id: boot.id }))) {
      const now = new Date();
      const settings: OidcIdpSettings = {
        issuer: boot.issuer,
        clientId: boot.clientId,
        scopes: ['openid', 'email', 'profile'],
        groupsClaim: 'groups',
        idTokenAlgorithm: 'RS256',
        userinfo: true,
        discovery: null,
      };
      await this.db
        .getRepository(IdpEntity)
        .insert({
          id: boot.id,
          name: boot.name,
          enabled: true,
          protocol: 'oidc',
          oidc: settings,
          clientSecretEnc: this.keys.sealSecret(boot.clientSecret, secretContext(boot.id)),
          metadataUrl: discoveryUrl(boot.issuer),
          metadata: null,
          metadataFetchedAt: null,
          metadataError: null,
          options: { binding: 'HTTP-Redirect', emailDomains: [], forceAuthn: false, nameIdFormat: null },
          createdAt: now,
          updatedAt: now,
        })
        .catch(() => undefined);
    }
  }

  async list() {
    return (await this.db.getRepository(IdpEntity).find({ order: { name: 'ASC' } })).map((e) => this.views.view(e));
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

  async create(dto: CreateIdp, actor: string) {
    const common = { id: dto.id, name: dto.name, enabled: dto.enabled };
    if (dto.protocol === 'oidc') {
      const o = dto.oidc!;
      const discovery = await discover(o.issuer, this.config.saml.metadataAllowPrivate);
      return this.insert(actor, dto.mappingPreset, {
        ...common,
        protocol: 'oidc',
        oidc: {
          issuer: o.issuer,
          clientId: o.clientId,
          scopes: o.scopes,
          groupsClaim: o.groupsClaim,
          idTokenAlgorithm: o.idTokenAlgorithm,
          userinfo: o.userinfo,
          discovery,
        },
        clientSecretEnc: this.keys.sealSecret(o.clientSecret, secretContext(dto.id)),
        metadataUrl: discoveryUrl(o.issuer),
        metadata: null,
        options: { binding: 'HTTP-Redirect', emailDomains: dto.emailDomains, forceAuthn: false, nameIdFormat: null },
      });
    }
    checkSubjectOptions(pickOptions(dto));
    const metadata = await metadataFrom(dto, this.config.saml.metadataAllowPrivate);
    const created = await this.insert(actor, dto.mappingPreset, {
      ...common,
      protocol: 'saml',
      oidc: null,
      clientSecretEnc: null,
      metadataUrl: dto.metadataUrl ?? null,
      metadata,
      options: pickOptions(dto) as IdpOptions,
    });
    this.warnIfWeakened(dto.id, dto, actor);
    return created;
  }

  /** A new IdP row, audited, in one transaction; its id must be free. The mapping preset goes with idp.created (provisioning stores it). */
  private async insert(
    actor: string,
    mappingPreset: MappingPresetName | undefined,
    fields: Omit<IdpEntity, 'metadataFetchedAt' | 'metadataError' | 'createdAt' | 'updatedAt'>,
  ) {
    const e = await runInTransaction(this.db, async (em) => {
      if (await em.existsBy(IdpEntity, { id: fields.id })) throw new ConflictException(`id: an identity provider ${fields.id} exists`);
      const now = new Date();
      const e = em.create(IdpEntity, { ...fields, metadataFetchedAt: now, metadataError: null, createdAt: now, updatedAt: now });
      await em.insert(IdpEntity, e);
      await writeAudit(em, [{ actor, action: 'idp.created', targetType: 'idp', targetId: e.id, after: this.auditView(e) }]);
      return e;
    });
    await this.announce(IdpCreatedV1, { ...lifecycle(e), actor, ...(mappingPreset ? { mappingPreset } : {}) }, e.updatedAt);
    return { ...this.views.view(e), ...(mappingPreset ? { mappingPreset } : {}) };
  }

  async update(id: string, dto: UpdateIdp, actor: string) {
    const existing = await this.get(id);
    if (existing.protocol === 'oidc') return this.updateOidc(existing, dto, actor);
    if (dto.oidc !== undefined) throw new BadRequestException(`oidc: identity provider ${id} is a SAML IdP`);
    const metadata =
      dto.metadataUrl !== undefined || dto.metadataXml !== undefined || dto.manual !== undefined
        ? await metadataFrom(dto, this.config.saml.metadataAllowPrivate)
        : undefined;
    const saved = await runInTransaction(this.db, async (em) => {
      const e = await em.findOneBy(IdpEntity, { id });
      if (!e) throw new NotFoundException(`no identity provider ${id}`);
      const before = this.auditView(e);
      if (dto.name !== undefined) e.name = dto.name;
      if (dto.enabled !== undefined) e.enabled = dto.enabled;
      e.options = { ...e.options, ...pickOptions(dto) };
      checkSubjectOptions(e.options, pickOptions(dto));
      if (metadata) {
        e.metadata = metadata;
        e.metadataUrl = dto.metadataUrl ?? null;
        e.metadataFetchedAt = new Date();
        e.metadataError = null;
      }
      e.updatedAt = new Date();
      await em.save(IdpEntity, e);
      await writeAudit(em, [{ actor, action: 'idp.updated', targetType: 'idp', targetId: id, before, after: this.auditView(e) }]);
      return e;
    });
    await this.announce(IdpUpdatedV1, { ...lifecycle(saved), actor }, saved.updatedAt);
    this.warnIfWeakened(id, dto, actor);
    return this.views.view(saved);
  }

  /** An admin turned a protection off: the log says so, and why it matters. */
  private warnIfWeakened(id: string, set: Partial<IdpOptions>, actor: string): void {
    if (set.allowCbcEncryption) this.logger.warn(`identity provider ${id}: ${CBC_WARNING} (set by ${actor})`);
  }

  private async updateOidc(existing: IdpEntity, dto: UpdateIdp, actor: string) {
    const samlOnly = (
      [
        'metadataUrl',
        'metadataXml',
        'manual',
        'binding',
        'forceAuthn',
        'isPassive',
        'nameIdFormat',
        'subjectAttribute',
        'allowIdpInitiated',
        'allowCbcEncryption',
      ] as const
    ).filter((k) => dto[k] !== undefined);
    if (samlOnly.length) throw new BadRequestException(`${samlOnly.join(', ')}: identity provider ${existing.id} is an OIDC IdP`);
    const o = dto.oidc ?? {};
    const issuerChanged = o.issuer !== undefined && o.issuer !== existing.oidc!.issuer;
    const discovery = issuerChanged ? await discover(o.issuer!, this.config.saml.metadataAllowPrivate) : existing.oidc!.discovery;
    const saved = await runInTransaction(this.db, async (em) => {
      const e = await em.findOneBy(IdpEntity, { id: existing.id });
      if (!e) throw new NotFoundException(`no identity provider ${existing.id}`);
      const before = this.auditView(e);
      if (dto.name !== undefined) e.name = dto.name;
      if (dto.enabled !== undefined) e.enabled = dto.enabled;
      if (dto.emailDomains !== undefined) e.options = { ...e.options, emailDomains: dto.emailDomains };
      const { clientSecret, ...settings } = o;
      e.oidc = { ...e.oidc!, ...settings, discovery };
      if (issuerChanged) {
        e.metadataUrl = discoveryUrl(o.issuer!);
        e.metadataFetchedAt = new Date();
        e.metadataError = null;
      }
      if (clientSecret !== undefined) e.clientSecretEnc = this.keys.sealSecret(clientSecret, secretContext(e.id));
      e.updatedAt = new Date();
      await em.save(IdpEntity, e);
      const after = this.auditView(e);
      await writeAudit(em, [
        {
          actor,
          action: 'idp.updated',
          targetType: 'idp',
          targetId: e.id,
          before,
          after: clientSecret !== undefined ? { ...after, clientSecret: '(changed)' } : after,
        },
      ]);
      return e;
    });
    await this.announce(IdpUpdatedV1, { ...lifecycle(saved), actor }, saved.updatedAt);
    return this.views.view(saved);
  }

  async remove(id: string, actor: string): Promise<void> {
    const deletedAt = await runInTransaction(this.db, async (em) => {
      const e = await em.findOneBy(IdpEntity, { id });
      if (!e) throw new NotFoundException(`no identity provider ${id}`);
      await em.delete(IdpEntity, { id });
      await writeAudit(em, [{ actor, action: 'idp.deleted', targetType: 'idp', targetId: id, before: this.auditView(e) }]);
      return new Date();
    });
    await this.announce(IdpDeletedV1, { idp: id, actor }, deletedAt);
  }

  /**
   * Tells the other services (provisioning keeps settings per IdP) about a change once it is
   * committed — never one that did not happen — stamped with the time it was made inside its
   * transaction, by which consumers order an IdP's events. A publish that fails is logged and the
   * change stands: provisioning asks auth about an IdP it has not heard of, and only a lost
   * idp.deleted leaves that IdP's settings behind (docs/provisioning.md).
   */
  private async announce<C extends EventContract>(contract: C, data: EventInput<C>, at: Date): Promise<void> {
    try {
      await this.bus.publish(contract, data, { occurredAt: at });
    } catch (err) {
      this.logger.error(`could not announce ${contract.subject} (${JSON.stringify(data)}): ${(err as Error).message}`);
    }
  }

  /** An audit row for a change that is not the IdP's own settings (key rotation). */
  async audit(actor: string, action: string, id: string): Promise<void> {
    await writeAudit(this.db.manager, [{ actor, action, targetType: 'idp', targetId: id }]);
  }

  /** Marks the IdP changed, so every instance rebuilds its service provider. */
  async touch(id: string): Promise<void> {
    await this.db.getRepository(IdpEntity).update({ id }, { updatedAt: new Date() });
  }

  private auditView(e: IdpEntity) {
    if (e.protocol === 'oidc') {
      const { discovery: _d, ...settings } = e.oidc!;
      return { name: e.name, enabled: e.enabled, protocol: 'oidc', ...settings, emailDomains: e.options.emailDomains };
    }
    return {
      name: e.name,
      enabled: e.enabled,
      protocol: 'saml',
      metadataUrl: e.metadataUrl,
      entityId: e.metadata?.entityId ?? null,
      certificates: e.metadata?.signingCertificates.length ?? 0,
      ...e.options,
    };
  }
}

/** An IdP as its lifecycle events carry it. */
const lifecycle = (e: IdpEntity) => ({ idp: e.id, name: e.name, protocol: e.protocol, enabled: e.enabled });

/**
 * Asking for transient NameIDs, which never key a user, needs an attribute that does; and that
 * attribute must be an id the IdP assigns, never a name or an address (the next holder of a
 * reassigned name would inherit the account). Only a change of subjectAttribute is checked for
 * the second, so an IdP saved before the check still takes other changes (its view warns).
 */
function checkSubjectOptions(o: Partial<IdpOptions>, changed: Partial<IdpOptions> = o): void {
  const mutable = changed.subjectAttribute ? mutableSubjectAttribute(changed.subjectAttribute) : undefined;
  if (mutable) throw new BadRequestException(`subjectAttribute: ${mutable}`);
  if (o.nameIdFormat === NAMEID_TRANSIENT && !o.subjectAttribute) {
    throw new BadRequestException(
      'nameIdFormat: a transient NameID changes at every login and cannot identify a user; set subjectAttribute to the attribute that carries a stable id, or ask for a persistent NameID',
    );
  }
}

function pickOptions(v: Partial<IdpOptions>): Partial<IdpOptions> {
  const out: Partial<IdpOptions> = {};
  if (v.binding !== undefined) out.binding = v.binding;
  if (v.emailDomains !== undefined) out.emailDomains = v.emailDomains;
  if (v.forceAuthn !== undefined) out.forceAuthn = v.forceAuthn;
  if (v.isPassive !== undefined) out.isPassive = v.isPassive;
  if (v.nameIdFormat !== undefined) out.nameIdFormat = v.nameIdFormat;
  if (v.subjectAttribute !== undefined) out.subjectAttribute = v.subjectAttribute;
  if (v.allowIdpInitiated !== undefined) out.allowIdpInitiated = v.allowIdpInitiated;
  if (v.allowCbcEncryption !== undefined) out.allowCbcEncryption = v.allowCbcEncryption;
  return out;
}
