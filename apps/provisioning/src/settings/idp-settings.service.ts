import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Envelope, EventData, IdpCreatedV1, IdpDeletedV1, IdpUpdatedV1, MappingPresetName } from '@bridgekeeper/contracts';
import { runInTransaction, writeAudit } from '@bridgekeeper/data';
import { AttributeMapping, KEYCLOAK_DEFAULT_MAPPING, mappingPreset, NO_GRANTS, OwnershipGrants } from '@bridgekeeper/provisioning-model';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { IdpSettingsInput, mergedSettingsSchema } from './idp-settings.schemas';
import { IdpSettingsEntity } from './idp-settings.entity';
import { KnownIdpsService } from './known-idps.service';
import { mergePatch } from './merge-patch';

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

/** The settings as the document PUT takes and PATCH merges into. */
const documentOf = (s: EffectiveSettings) => ({
  model: s.model,
  mapping: s.mapping,
  updateOnLogin: s.updateOnLogin,
  grantLocalGroups: s.grantLocalGroups,
  claimLocalUsers: s.claimLocalUsers,
});

/** How long a login may use the settings it read (a change made through another instance takes effect within this). */
export const LOGIN_SETTINGS_TTL_MS = 5000;

/**
 * Provisioning settings per IdP: stored through the admin API (audited), else the environment.
 * They exist only for IdPs auth has (KnownIdpsService): the admin API answers 404 for any other,
 * and an IdP's deletion in auth removes its settings.
 */
@Injectable()
export class IdpSettingsService {
  private readonly forLogins = new Map<string, { settings: Promise<EffectiveSettings>; until: number }>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
    private readonly known: KnownIdpsService,
  ) {}

  /**
   * The settings a login is provisioned with: read once per IdP for a few seconds rather than
   * on every login. A change through this instance's API applies to the next login at once;
   * one made through another instance within LOGIN_SETTINGS_TTL_MS. Never asks whether the IdP is
   * known: a login names an IdP auth has just used, and gets the defaults until settings exist.
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

  async effective(idp: string, em: EntityManager = this.db.manager): Promise<EffectiveSettings> {
    const row = await em.findOneBy(IdpSettingsEntity, { idp });
    if (row) return { ...view(row), origin: 'api' };
    return {
      idp,
      model: this.config.models.byIdp.get(idp) ?? this.config.models.fallback,
      mapping: KEYCLOAK_DEFAULT_MAPPING,
      updateOnLogin: true,
      ...NO_GRANTS,
      origin: 'environment',
    };
  }

  /** An IdP's settings for the admin API: 404 unless auth has the IdP. */
  async get(idp: string): Promise<EffectiveSettings> {
    await this.known.require(idp);
    return this.effective(idp);
  }

  /** PUT: the whole document (validated by the controller) replaces the settings. */
  async put(idp: string, input: IdpSettingsInput, actor: string): Promise<EffectiveSettings> {
    await this.known.require(idp);
    return this.write(idp, actor, () => input);
  }

  /** PATCH: a JSON merge patch onto the settings in force; the result is checked as PUT's document is (a ZodError: 400 naming the field). */
  async patch(idp: string, patch: unknown, actor: string): Promise<EffectiveSettings> {
    await this.known.require(idp);
    return this.write(idp, actor, (current) => mergedSettingsSchema.parse(mergePatch(documentOf(current), patch)) as IdpSettingsInput);
  }

  /**
   * A preset's mapping (one per IdP family) replaces the IdP's mapping; its model, grants and
   * updateOnLogin stay as they are. Audited like any settings write, naming the preset.
   */
  async applyPreset(idp: string, preset: MappingPresetName, actor: string): Promise<EffectiveSettings> {
    await this.known.require(idp);
    return this.write(idp, actor, (current) => ({ ...documentOf(current), mapping: mappingPreset(preset) }) as IdpSettingsInput, { mappingPreset: preset });
  }

  /** DELETE: back to the environment's defaults (audited when settings were stored). */
  async reset(idp: string, actor: string): Promise<EffectiveSettings> {
    await this.known.require(idp);
    await runInTransaction(this.db, async (em) => {
      await this.known.hold(em, idp);
      await this.remove(em, idp, actor, 'idp-settings.reset');
    });
    this.forLogins.delete(idp);
    return this.effective(idp);
  }

  /**
   * idp.created / idp.updated: the IdP exists. Created with a mapping preset: the preset is stored
   * as its mapping (audited, by the IdP's creator), unless settings exist already.
   */
  async idpChanged(event: Envelope<EventData<typeof IdpCreatedV1> | EventData<typeof IdpUpdatedV1>>): Promise<void> {
    const { idp, actor } = event.data;
    const preset = 'mappingPreset' in event.data ? event.data.mappingPreset : undefined;
    await runInTransaction(this.db, async (em) => {
      const applied = await this.known.apply(em, idp, event.occurredAt, false);
      if (!applied || !preset || (await em.existsBy(IdpSettingsEntity, { idp }))) return;
      const before = await this.effective(idp, em);
      const row = em.create(IdpSettingsEntity, {
        idp,
        model: before.model,
        mapping: mappingPreset(preset),
        updateOnLogin: true,
        ...NO_GRANTS,
        updatedAt: new Date(event.occurredAt),
      });
      await em.save(IdpSettingsEntity, row);
      const { origin: _o, ...was } = before;
      await writeAudit(em, [
        { actor, action: 'idp-settings.updated', targetType: 'idp-settings', targetId: idp, before: was, after: { ...view(row), mappingPreset: preset } },
      ]);
    });
    this.forLogins.delete(idp);
  }

  /**
   * idp.deleted: its settings go, audited with the actor who deleted the IdP. When the IdP was
   * created again since (its idp.created applied first), settings written before this deletion
   * still go: they were the old IdP's, and must not apply to a new IdP that has its id.
   */
  async idpDeleted(event: Envelope<EventData<typeof IdpDeletedV1>>): Promise<void> {
    const { idp, actor } = event.data;
    await runInTransaction(this.db, async (em) => {
      const latest = await this.known.apply(em, idp, event.occurredAt, true);
      await this.remove(em, idp, actor, 'idp-settings.deleted', latest ? undefined : new Date(event.occurredAt));
    });
    this.forLogins.delete(idp);
  }

  /** One settings write, with the IdP held (404 if auth deleted it meanwhile), audited before and after. */
  private async write(
    idp: string,
    actor: string,
    next: (current: EffectiveSettings) => IdpSettingsInput,
    auditNote: Record<string, unknown> = {},
  ): Promise<EffectiveSettings> {
    const saved = await runInTransaction(this.db, async (em) => {
      await this.known.hold(em, idp);
      const before = await this.effective(idp, em);
      const input = next(before);
      const row = em.create(IdpSettingsEntity, {
        idp,
        model: input.model,
        mapping: input.mapping as AttributeMapping,
        updateOnLogin: input.updateOnLogin,
        grantLocalGroups: input.grantLocalGroups,
        claimLocalUsers: input.claimLocalUsers,
        updatedAt: new Date(),
      });
      await em.save(IdpSettingsEntity, row);
      const { origin: _o, ...was } = before;
      await writeAudit(em, [
        { actor, action: 'idp-settings.updated', targetType: 'idp-settings', targetId: idp, before: was, after: { ...view(row), ...auditNote } },
      ]);
      return { ...view(row), origin: 'api' as const };
    });
    this.forLogins.delete(idp);
    return saved;
  }

  /** Removes an IdP's settings, audited; with `writtenBy`, only settings written no later than that. */
  private async remove(em: EntityManager, idp: string, actor: string, action: 'idp-settings.reset' | 'idp-settings.deleted', writtenBy?: Date): Promise<void> {
    const row = await em.findOneBy(IdpSettingsEntity, { idp });
    if (!row || (writtenBy && row.updatedAt > writtenBy)) return;
    await em.delete(IdpSettingsEntity, { idp });
    await writeAudit(em, [{ actor, action, targetType: 'idp-settings', targetId: idp, before: view(row), after: null }]);
  }
}
