import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Extra attributes (from the IdP or User Sync) kept as key/value per user. */
@Entity({ name: 'user_properties' })
export class UserPropertyEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  key: string;

  @Column({ type: 'text' })
  value: string;
}
