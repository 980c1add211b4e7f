import { ConflictException, Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConnectorField, KeycloakConnector } from '@bridgekeeper/keycloak';
import { runInTransaction, writeAudit } from '@bridgekeeper/data';
import { loadMasterKey, SecretBox } from '@bridgekeeper/platform';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { KnownIdpsService } from '../settings/known-idps.service';
import { CreateConnector, UpdateConnector } from './connector.schemas';
import { ConnectorEntity, ConnectorOptions } from './connector.entity';

/** What the API shows of a connector: everything but the secret. */
export const connectorView = (c: ConnectorEntity) => ({
  id: c.id,
  idp: c.idp,
  baseUrl: c.baseUrl,
  realm: c.realm,
  clientId: c.clientId,
  clientSecret: '[stored encrypted]',
  schedule: c.schedule,
  changesSchedule: c.changesSchedule,
  enabled: c.enabled,
  ...c.options,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

/** Settings whose change is checked against Keycloak when a connector is saved (the connection test, and the required groups). */
const KEYCLOAK_KEYS = ['baseUrl', 'realm', 'clientId', 'clientSecret', 'requiredGroups', 'attributes'] as const;

const OPTION_KEYS = ['requiredGroups', 'includeSubgroups', 'naming', 'attributes', 'vanished', 'stripGroupsOfVanished', 'maxRemovalShare'] as const;
const pickOptions = (v: Partial<ConnectorOptions>): Partial<ConnectorOptions> => Object.fromEntries(OPTION_KEYS.filter((k) => k in v).map((k) => [k, v[k]]));

/** Keycloak connectors: configured through the admin API, secrets sealed, every change audited. */
@Injectable()
export class ConnectorsService {
  private readonly box: SecretBox;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
    private readonly knownIdps: KnownIdpsService,
  ) {
    this.box = new SecretBox(loadMasterKey(config.masterKey, config.database.dataDir, 'provisioning'));
  }

  async list() {
    return (await this.db.getRepository(ConnectorEntity).find({ order: { id: 'ASC' } })).map(connectorView);
  }

  async get(id: string): Promise<ConnectorEntity> {
    const c = await this.db.getRepository(ConnectorEntity).findOneBy({ id });
    if (!c) throw new NotFoundException(`no connector ${id}`);
    return c;
  }

  async forIdp(idp: string): Promise<ConnectorEntity | null> {
    return this.db.getRepository(ConnectorEntity).findOneBy({ idp, enabled: true });
  }

  async create(dto: CreateConnector, actor: string, opts: { verify: boolean } = { verify: true }) {
    if (await this.db.getRepository(ConnectorEntity).existsBy({ id: dto.id })) throw new ConflictException(`id: a connector ${dto.id} exists`);
    await this.verify({ ...dto, baseUrl: dto.baseUrl.replace(/\/$/, '') }, { idp: true, keycloak: opts.verify });
    return runInTransaction(this.db, async (em) => {
      if (await em.existsBy(ConnectorEntity, { id: dto.id })) throw new ConflictException(`id: a connector ${dto.id} exists`);
      await this.knownIdps.hold(em, dto.idp); // deleted in auth since the check: not saved
      const now = new Date();
      const c = em.create(ConnectorEntity, {
        id: dto.id,
        idp: dto.idp,
        baseUrl: dto.baseUrl.replace(/\/$/, ''),
        realm: dto.realm,
        clientId: dto.clientId,
        clientSecretEnc: this.box.seal(dto.clientSecret, `connector:${dto.id}`),
        options: pickOptions(dto) as ConnectorOptions,
        schedule: dto.schedule,
        changesSchedule: dto.changesSchedule,
        enabled: dto.enabled,
        createdAt: now,
        updatedAt: now,
      });
      await em.insert(ConnectorEntity, c);
      await writeAudit(em, [
        {
          actor,
          action: 'connector.created',
          targetType: 'connector',
          targetId: c.id,
          after: { ...connectorView(c), ...(opts.verify ? {} : { verifiedWithKeycloak: false }) },
        },
      ]);
      return connectorView(c);
    });
  }

  async update(id: string, patch: UpdateConnector, actor: string, opts: { verify: boolean } = { verify: true }) {
    // What the connector would be, checked before anything is written (the settings the patch names).
    const current = await this.get(id);
    const keycloak =
      opts.verify &&
      (KEYCLOAK_KEYS.some((k) => patch[k] !== undefined) ||
        (patch.changesSchedule !== undefined && patch.changesSchedule !== '' && current.changesSchedule === ''));
    const verified = patch.idp !== undefined || keycloak;
    if (verified) {
      const merged = { ...current.options, ...pickOptions(patch) };
      await this.verify(
        {
          id,
          idp: patch.idp ?? current.idp,
          baseUrl: (patch.baseUrl ?? current.baseUrl).replace(/\/$/, ''),
          realm: patch.realm ?? current.realm,
          clientId: patch.clientId ?? current.clientId,
          clientSecret: patch.clientSecret ?? this.box.open(current.clientSecretEnc, `connector:${id}`),
          changesSchedule: patch.changesSchedule ?? current.changesSchedule,
          requiredGroups: merged.requiredGroups,
          attributes: merged.attributes,
        },
        { idp: patch.idp !== undefined, keycloak },
      );
    }
    return runInTransaction(this.db, async (em) => {
      if (verified) {
        // What was checked is what is written to: the connector as read before the check (the
        // no-op update holds its row, PostgreSQL), and the IdP still known (held likewise).
        const unchanged = await em.update(ConnectorEntity, { id, updatedAt: current.updatedAt }, { updatedAt: current.updatedAt });
        if (!unchanged.affected)
          throw new ConflictException(`connector ${id} was changed or deleted while this change was being checked: read it again and retry`);
        if (patch.idp !== undefined) await this.knownIdps.hold(em, patch.idp);
      }
      const c = await em.findOneBy(ConnectorEntity, { id });
      if (!c) throw new NotFoundException(`no connector ${id}`);
      const before = connectorView(c);
      if (patch.idp !== undefined) c.idp = patch.idp;
      if (patch.baseUrl !== undefined) c.baseUrl = patch.baseUrl.replace(/\/$/, '');
      if (patch.realm !== undefined) c.realm = patch.realm;
      if (patch.clientId !== undefined) c.clientId = patch.clientId;
      if (patch.clientSecret !== undefined) c.clientSecretEnc = this.box.seal(patch.clientSecret, `connector:${id}`);
      if (patch.schedule !== undefined) c.schedule = patch.schedule;
      if (patch.changesSchedule !== undefined) c.changesSchedule = patch.changesSchedule;
      if (patch.enabled !== undefined) c.enabled = patch.enabled;
      c.options = { ...c.options, ...pickOptions(patch) };
      c.updatedAt = new Date();
      await em.save(ConnectorEntity, c);
      const after = connectorView(c);
      await writeAudit(em, [
        {
          actor,
          action: 'connector.updated',
          targetType: 'connector',
          targetId: id,
          before,
          after: { ...after, ...(patch.clientSecret ? { clientSecret: '[changed]' } : {}), ...(opts.verify ? {} : { verifiedWithKeycloak: false }) },
        },
      ]);
      return after;
    });
  }

  remove(id: string, actor: string) {
    return runInTransaction(this.db, async (em) => {
      const c = await em.findOneBy(ConnectorEntity, { id });
      if (!c) throw new NotFoundException(`no connector ${id}`);
      await em.delete(ConnectorEntity, { id });
      await writeAudit(em, [{ actor, action: 'connector.deleted', targetType: 'connector', targetId: id, before: connectorView(c) }]);
    });
  }

  /**
   * A connector is saved only as it can work: its IdP is one auth has; Keycloak accepts its realm,
   * client and secret, its service account has the roles, the attributes can come through, the
   * realm saves admin events if a changes schedule is set (the connection test's answer), and
   * every required group exists in the realm. Otherwise 422, each problem naming its setting and
   * saying what Keycloak said; nothing is stored. Keycloak unreachable is a problem too (of
   * `baseUrl`): settings that do not touch Keycloak (enabled, the full schedule, naming, vanished, …)
   * are saved without asking it, so a connector can always be disabled or rescheduled; `verify:
   * false` (the admin's explicit opt-out, audited) skips the Keycloak checks, not the IdP's.
   */
  private async verify(
    c: {
      id: string;
      idp: string;
      baseUrl: string;
      realm: string;
      clientId: string;
      clientSecret: string;
      changesSchedule: string;
      requiredGroups: string[];
      attributes: string[];
    },
    what: { idp: boolean; keycloak: boolean },
  ): Promise<void> {
    const errors: { field: ConnectorField | 'idp'; message: string }[] = [];
    if (what.idp) {
      try {
        await this.knownIdps.require(c.idp);
      } catch (err) {
        if (!(err instanceof NotFoundException)) throw err; // auth could not be asked: 503, try again
        errors.push({
          field: 'idp',
          message: `auth has no identity provider ${c.idp} (the connector serves the logins of one of auth's IdPs: GET /api/v1/idps on auth lists them)`,
        });
      }
    }
    if (what.keycloak) {
      const kc = new KeycloakConnector({
        baseUrl: c.baseUrl,
        realm: c.realm,
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        timeoutMs: this.config.keycloak.timeoutMs,
      });
      const check = await kc.check(c.attributes, { changes: c.changesSchedule !== '', requiredGroups: c.requiredGroups });
      errors.push(...check.issues);
    }
    if (errors.length) {
      throw new UnprocessableEntityException({ message: `connector ${c.id} not saved: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors });
    }
  }

  /** A live Admin API client for this connector. */
  client(c: ConnectorEntity): KeycloakConnector {
    return new KeycloakConnector({
      baseUrl: c.baseUrl,
      realm: c.realm,
      clientId: c.clientId,
      clientSecret: this.box.open(c.clientSecretEnc, `connector:${c.id}`),
      timeoutMs: this.config.keycloak.timeoutMs,
    });
  }
}
