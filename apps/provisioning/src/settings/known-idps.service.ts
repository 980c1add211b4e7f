import { Injectable, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { sourceIdSchema } from '@bridgekeeper/contracts';
import { DirectoryClient } from '../directory-client/directory.client';
import { KnownIdpEntity } from './known-idp.entity';

/** The version of what only auth's answer told: older than any event, so every event wins over it. */
const EPOCH = new Date(0).toISOString();

/**
 * Which IdPs exist, as auth announces them (idp.created / idp.updated / idp.deleted, applied in the
 * order they happened, whatever order they arrive in). An IdP no event has named yet (one created
 * before auth announced IdPs, or one whose event is still on its way) is asked about at auth.
 * Only the admin API asks: logins never wait for this (a login names an IdP auth just used).
 */
@Injectable()
export class KnownIdpsService {
  private readonly logger = new Logger(KnownIdpsService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly nats: DirectoryClient,
  ) {}

  /** Resolves when auth has this IdP; 404 (problem+json) for an unknown id or one no IdP can have. */
  async require(idp: string): Promise<void> {
    if (!sourceIdSchema.safeParse(idp).success) throw new NotFoundException('unknown identity provider: no IdP has such an id');
    const row = await this.db.getRepository(KnownIdpEntity).findOneBy({ idp });
    if (row && !row.deleted) return;
    if (!(await this.askAuth(idp))) throw new NotFoundException(`unknown identity provider ${idp}`);
    // Recorded no newer than what was known, so an event (even one older than this answer) still decides.
    if (!row) await this.db.createQueryBuilder().insert().into(KnownIdpEntity).values({ idp, deleted: false, version: EPOCH }).orIgnore().execute();
    else await this.db.getRepository(KnownIdpEntity).update({ idp, version: row.version }, { deleted: false });
  }

  /**
   * Holds a known IdP for a settings write in `em`, or 404 if it was deleted since `require`. The
   * no-op update locks its row (PostgreSQL), so the write and a deletion's removal of the settings
   * happen one after the other, never leaving settings behind a deleted IdP.
   */
  async hold(em: EntityManager, idp: string): Promise<void> {
    const held = await em.update(KnownIdpEntity, { idp, deleted: false }, { idp });
    if (!held.affected) throw new NotFoundException(`unknown identity provider ${idp}`);
  }

  /**
   * Applies an idp.* event in `em` unless one that happened later was applied already (a
   * redelivery or a reordering); true when it was applied. Locks the IdP's row like `hold`.
   */
  async apply(em: EntityManager, idp: string, occurredAt: string, deleted: boolean): Promise<boolean> {
    const version = new Date(occurredAt).toISOString();
    const updated = await em
      .createQueryBuilder()
      .update(KnownIdpEntity)
      .set({ deleted, version })
      .where('idp = :idp AND version <= :version', { idp, version })
      .execute();
    if (updated.affected) return true;
    await em.createQueryBuilder().insert().into(KnownIdpEntity).values({ idp, deleted, version }).orIgnore().execute();
    const row = await em.findOneBy(KnownIdpEntity, { idp });
    return row?.version === version && row.deleted === deleted;
  }

  private async askAuth(idp: string): Promise<boolean> {
    try {
      return (await this.nats.idpExists(idp)).exists;
    } catch (err) {
      this.logger.warn(`could not ask auth whether identity provider ${idp} exists: ${(err as Error).message}`);
      throw new ServiceUnavailableException(`could not ask auth whether identity provider ${idp} exists; try again`);
    }
  }
}
