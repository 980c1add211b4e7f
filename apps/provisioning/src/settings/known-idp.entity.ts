import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An IdP provisioning has heard of, from auth's idp.* events (or, for one no event named, from
 * auth's answer to rpc.auth.idps.exists). Settings are kept only for IdPs known here and not
 * deleted. A deleted IdP keeps its row, so an older event that arrives late cannot bring it back.
 */
@Entity({ name: 'known_idps' })
export class KnownIdpEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  idp: string;

  /** auth announced its deletion. */
  @Column({ type: 'boolean' })
  deleted: boolean;

  /**
   * The `occurredAt` of the last event applied (auth's clock, ISO 8601 in UTC with milliseconds, so
   * text order is time order); the epoch when only auth's answer told of the IdP, so every event wins.
   */
  @Column({ type: 'varchar', length: 24 })
  version: string;
}
