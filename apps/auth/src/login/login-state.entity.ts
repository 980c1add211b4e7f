import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What a login started with (where to return, its trace), keyed by the opaque RelayState. */
@Entity({ name: 'login_states' })
export class LoginStateEntity {
  @PrimaryColumn({ name: 'relay_state', type: 'varchar', length: 64 })
  relayState: string;

  @Column({ type: 'varchar', length: 64 })
  idp: string;

  @Column({ name: 'return_to', type: 'text' })
  returnTo: string;

  @Column({ name: 'trace_id', type: 'varchar', length: 36 })
  traceId: string;

  @Column({ name: 'expires_at' })
  expiresAt: Date;
}
