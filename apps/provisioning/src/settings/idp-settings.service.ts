import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { runInTransaction, writeAudit } from '@bridgekeeper/platform';
import { AttributeMapping, KEYCLOAK_DEFAULT_MAPPING } from '@bridgekeeper/provisioning-model';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { IdpSettingsInput } from './idp-settings.schemas';
import { IdpSettingsEntity } from './idp-settings.entity';

export interface EffectiveSettings {
  idp: string;
  model: 'jit' | 'manual' | 'sync';
  mapping: AttributeMapping;
  updateOnLogin: boolean;
  /** Where they come from: stored through the API, or the environment's defaults. */
  origin: 'api' | 'environment';
}

/** Provisioning settings per IdP: stored through the admin API (audited), else the environment. */
@Injectable()
export class IdpSettingsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
  ) {}

  async effective(idp: string): Promise<EffectiveSettings> {
    const row = await this.db.getRepository(IdpSettingsEntity).findOneBy({ idp });
    if (row) return { idp, model: row.model, mapping: row.mapping, updateOnLogin: row.updateOnLogin, origin: 'api' };
    return { idp, model: this.config.models.byIdp[idp] ?? this.config.models.fallback, mapping: KEYCLOAK_DEFAULT_MAPPING, updateOnLogin: true, origin: 'environment' };
  }

  put(idp: string, input: IdpSettingsInput, actor: string): Promise<EffectiveSettings> {
    return runInTransaction(this.db, async (em) => {
      const before = await this.effective(idp);
      const row = em.create(IdpSettingsEntity, { idp, model: input.model, mapping: (input.mapping as AttributeMapping | undefined) ?? KEYCLOAK_DEFAULT_MAPPING, updateOnLogin: input.updateOnLogin, updatedAt: new Date() });
      await em.save(IdpSettingsEntity, row);
      const { origin: _o, ...was } = before;
      await writeAudit(em, [{ actor, action: 'idp-settings.updated', targetType: 'idp-settings', targetId: idp, before: was, after: { idp, model: row.model, mapping: row.mapping, updateOnLogin: row.updateOnLogin } }]);
      return { idp, model: row.model, mapping: row.mapping, updateOnLogin: row.updateOnLogin, origin: 'api' as const };
    });
  }
}
