import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { KeycloakConnector } from '@bridgekeeper/keycloak';
import { loadMasterKey, runInTransaction, SecretBox, writeAudit } from '@bridgekeeper/platform';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
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

const OPTION_KEYS = ['requiredGroups', 'includeSubgroups', 'naming', 'attributes', 'vanished', 'stripGroupsOfVanished', 'maxRemovalShare'] as const;
const pickOptions = (v: Partial<ConnectorOptions>): Partial<ConnectorOptions> => Object.fromEntries(OPTION_KEYS.filter((k) => k in v).map((k) => [k, v[k]]));

/** Keycloak connectors: configured through the admin API, secrets sealed, every change audited. */
@Injectable()
export class ConnectorsService {
  private readonly box: SecretBox;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
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

  create(dto: CreateConnector, actor: string) {
    return runInTransaction(this.db, async (em) => {
      if (await em.existsBy(ConnectorEntity, { id: dto.id })) throw new ConflictException(`id: a connector ${dto.id} exists`);
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
      await writeAudit(em, [{ actor, action: 'connector.created', targetType: 'connector', targetId: c.id, after: connectorView(c) }]);
      return connectorView(c);
    });
  }

  update(id: string, patch: UpdateConnector, actor: string) {
    return runInTransaction(this.db, async (em) => {
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
      await writeAudit(em, [{ actor, action: 'connector.updated', targetType: 'connector', targetId: id, before, after: { ...after, ...(patch.clientSecret ? { clientSecret: '[changed]' } : {}) } }]);
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

  /** A live Admin API client for this connector. */
  client(c: ConnectorEntity): KeycloakConnector {
    return new KeycloakConnector({ baseUrl: c.baseUrl, realm: c.realm, clientId: c.clientId, clientSecret: this.box.open(c.clientSecretEnc, `connector:${c.id}`), timeoutMs: this.config.keycloak.timeoutMs });
  }
}
