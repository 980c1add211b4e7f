import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { runInTransaction, writeAudit } from '@bridgekeeper/platform';
import { AttributeMapping, KEYCLOAK_DEFAULT_MAPPING, NO_GRANTS, OwnershipGrants } from '@bridgekeeper/provisioning-model';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { IdpSettingsInput } from './idp-settings.schemas';
import { IdpSettingsEntity } from './idp-settings.entity';

export interface EffectiveSettings extends OwnershipGrants {
  idp: string;
  model: 'jit' | 'manual' | 'sync';
  mapping: AttributeMapping;
  updateOnLogin: boolean;
  /** Where they come from: stored through the API, or the environment's defaults. */
  origin: 'api' | 'environment';
}

const view = (row: IdpSettingsEntity): Omit<EffectiveSettings, 'origin'> => ({
  idp: row.idp,
  model: row.model,
  mapping: row.mapping,
  updateOnLogin: row.updateOnLogin,
  grantLocalGroups: row.grantLocalGroups ?? [],
  claimLocalUsers: row.claimLocalUsers ?? false,
});

/** How long a login may use the settings it read (a change made through another instance takes effect within this). */
export const LOGIN_SETTINGS_TTL_MS = 5000;

/** Provisioning settings per IdP: stored through the admin API (audited), else the environment. */
@Injectable()
export class IdpSettingsService {
  private readonly forLogins = new Map<string, { settings: Promise<EffectiveSettings>; until: number }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
  ) {}

  /**
   * The settings a login is provisioned with: read once per IdP for a few seconds rather than
   * on every login. A change through this instance's API applies to the next login at once;
   * one made through another instance within LOGIN_SETTINGS_TTL_MS.
   */
  forLogin(idp: string): Promise<EffectiveSettings> {
    const now = Date.now();
    const hit = this.forLogins.get(idp);
    if (hit && hit.until > now) return hit.settings;
    const settings = this.effective(idp);
    this.forLogins.set(idp, { settings, until: now + LOGIN_SETTINGS_TTL_MS });
    settings.catch(() => this.forLogins.delete(idp));
    return settings;
  }

  async effective(idp: string): Promise<EffectiveSettings> {
    const row = await this.db.getRepository(IdpSettingsEntity).findOneBy({ idp });
    if (row) return { ...view(row), origin: 'api' };
    return { idp, model: this.config.models.byIdp[idp] ?? this.config.models.fallback, mapping: KEYCLOAK_DEFAULT_MAPPING, updateOnLogin: true, ...NO_GRANTS, origin: 'environment' };
  }

  async put(idp: string, input: IdpSettingsInput, actor: string): Promise<EffectiveSettings> {
    const saved = await runInTransaction(this.db, async (em) => {
      const before = await this.effective(idp);
      const row = em.create(IdpSettingsEntity, {
        idp,
        model: input.model,
        mapping: (input.mapping as AttributeMapping | undefined) ?? KEYCLOAK_DEFAULT_MAPPING,
        updateOnLogin: input.updateOnLogin,
        grantLocalGroups: input.grantLocalGroups,
        claimLocalUsers: input.claimLocalUsers,
        updatedAt: new Date(),
      });
      await em.save(IdpSettingsEntity, row);
      const { origin: _o, ...was } = before;
      await writeAudit(em, [{ actor, action: 'idp-settings.updated', targetType: 'idp-settings', targetId: idp, before: was, after: view(row) }]);
      return { ...view(row), origin: 'api' as const };
    });
    this.forLogins.delete(idp);
    return saved;
  }
}
