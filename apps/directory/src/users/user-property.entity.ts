import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PropertyValue } from '@bridgekeeper/contracts';

/**
 * Extra attributes (from the IdP or User Sync) kept as key/value per user. A value is one string,
 * or (`list`) a JSON array of two or more strings: a multi-valued attribute keeps every value.
 * Read and write them through propertyValueOf / propertyRow only.
 */
@Entity({ name: 'user_properties' })
export class UserPropertyEntity {
  @PrimaryColumn({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  key: string;

  /** The value, or with `list` the values as a JSON array. */
  @Column({ type: 'text' })
  value: string;

  @Column({ type: 'boolean', default: false })
  list: boolean;
}

/** A stored property's value: its string, or its list. */
export function propertyValueOf(row: Pick<UserPropertyEntity, 'value' | 'list'>): PropertyValue {
  return row.list ? (JSON.parse(row.value) as string[]) : row.value;
}

/** The row that stores a value (a list of one is stored as its string). */
export function propertyRow(userId: string, key: string, value: PropertyValue): UserPropertyEntity {
  const list = Array.isArray(value) && value.length > 1;
  return { userId, key, value: list ? JSON.stringify(value) : Array.isArray(value) ? value[0] : value, list };
}
