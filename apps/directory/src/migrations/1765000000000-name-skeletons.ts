import { Logger } from '@nestjs/common';
import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { nameKey, showName } from '@bridgekeeper/names';

/**
 * Lookalike keys (libs/names `nameKey`: the SHA-256 of a name's case-insensitive TR 39 skeleton)
 * for usernames and group names, unique, so a name that looks like another is found with one
 * indexed lookup and two writers at once cannot both take it. Existing rows get their key in
 * creation order; a name that already looked like an earlier one keeps its row but no key (the
 * unique index allows several empty ones), and the migration logs both names for an admin to
 * rename one: no data is changed or dropped.
 */
export class NameSkeletons1765000000000 implements MigrationInterface {
  name = 'NameSkeletons1765000000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn('users', new TableColumn({ name: 'username_skeleton', type: 'varchar', length: '64', isNullable: true }));
    await qr.addColumn('groups', new TableColumn({ name: 'name_skeleton', type: 'varchar', length: '64', isNullable: true }));
    await fillKeys(qr, { table: 'users', name: 'username', key: 'username_skeleton', what: 'user' });
    await fillKeys(qr, { table: 'groups', name: 'name', key: 'name_skeleton', what: 'group' });
    await qr.createIndex('users', new TableIndex({ name: 'uq_users_username_skeleton', columnNames: ['username_skeleton'], isUnique: true }));
    await qr.createIndex('groups', new TableIndex({ name: 'uq_groups_name_skeleton', columnNames: ['name_skeleton'], isUnique: true }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex('groups', 'uq_groups_name_skeleton');
    await qr.dropIndex('users', 'uq_users_username_skeleton');
    await qr.dropColumn('groups', 'name_skeleton');
    await qr.dropColumn('users', 'username_skeleton');
  }
}

async function fillKeys(qr: QueryRunner, t: { table: string; name: string; key: string; what: string }): Promise<void> {
  const pg = qr.connection.driver.options.type === 'postgres';
  const rows: { id: string; name: string }[] = await qr.query(`SELECT id, ${t.name} AS name FROM ${t.table} ORDER BY created_at, id`);
  const holder = new Map<string, string>();
  const keyed: [string, string][] = [];
  for (const row of rows) {
    const key = nameKey(row.name);
    const earlier = holder.get(key);
    if (earlier === undefined) {
      holder.set(key, row.name);
      keyed.push([row.id, key]);
    } else {
      new Logger('NameSkeletons').warn(`${t.what} ${showName(row.name)} (${row.id}) looks like the earlier ${t.what} ${showName(earlier)}: left without a lookalike key; rename one of them`);
    }
  }
  // In slices, each one statement: 100,000 users are 200 statements, not 100,000.
  for (let i = 0; i < keyed.length; i += 500) {
    const slice = keyed.slice(i, i + 500);
    const params = [...slice.flat(), ...slice.map(([id]) => id)];
    const p = (n: number) => (pg ? `$${n + 1}` : '?');
    const cases = slice.map((_, j) => `WHEN ${p(2 * j)} THEN ${p(2 * j + 1)}`).join(' ');
    const ids = slice.map((_, j) => p(2 * slice.length + j)).join(', ');
    await qr.query(`UPDATE ${t.table} SET ${t.key} = CASE id ${cases} END WHERE id IN (${ids})`, params);
  }
}
