import { Logger } from '@nestjs/common';
import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';
import { nameKeys, showName } from '@bridgekeeper/names';

/**
 * Lookalike keys (libs/names `nameKeys`: the SHA-256 of a name's TR 39 skeleton in lower case, and
 * of its skeleton as written) for usernames and group names, each unique, so a name that looks
 * like another is found with one indexed lookup per column and two writers at once cannot both
 * take the same key. Existing rows get their keys in creation order; a name that already looked
 * like an earlier one (any key of it is any key of the earlier) keeps its row but no keys (the
 * unique indexes allow several empty ones), and the migration logs both names for an admin to
 * rename one: no data is changed or dropped.
 */
export class NameSkeletons1765000000000 implements MigrationInterface {
  name = 'NameSkeletons1765000000000';

  async up(qr: QueryRunner): Promise<void> {
    for (const [table, column] of COLUMNS) await qr.addColumn(table, new TableColumn({ name: column, type: 'varchar', length: '64', isNullable: true }));
    await fillKeys(qr, { table: 'users', name: 'username', key: 'username_skeleton', what: 'user' });
    await fillKeys(qr, { table: 'groups', name: 'name', key: 'name_skeleton', what: 'group' });
    for (const [table, column] of COLUMNS)
      await qr.createIndex(table, new TableIndex({ name: `uq_${table}_${column}`, columnNames: [column], isUnique: true }));
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const [table, column] of [...COLUMNS].reverse()) await qr.dropIndex(table, `uq_${table}_${column}`);
    for (const [table, column] of [...COLUMNS].reverse()) await qr.dropColumn(table, column);
  }
}

const COLUMNS = [
  ['users', 'username_skeleton'],
  ['users', 'username_skeleton_shown'],
  ['groups', 'name_skeleton'],
  ['groups', 'name_skeleton_shown'],
] as const;

async function fillKeys(qr: QueryRunner, t: { table: string; name: string; key: string; what: string }): Promise<void> {
  const pg = qr.connection.driver.options.type === 'postgres';
  const rows: { id: string; name: string }[] = await qr.query(`SELECT id, ${t.name} AS name FROM ${t.table} ORDER BY created_at, id`);
  const holder = new Map<string, string>();
  const keyed: [string, string, string][] = [];
  for (const row of rows) {
    const { folded, shown } = nameKeys(row.name);
    const earlier = holder.get(folded) ?? holder.get(shown);
    if (earlier === undefined) {
      holder.set(folded, row.name).set(shown, row.name);
      keyed.push([row.id, folded, shown]);
    } else {
      new Logger('NameSkeletons').warn(
        `${t.what} ${showName(row.name)} (${row.id}) looks like the earlier ${t.what} ${showName(earlier)}: left without a lookalike key; rename one of them`,
      );
    }
  }
  // In slices, each one statement: 100,000 users are 200 statements, not 100,000.
  const p = (n: number) => (pg ? `$${n + 1}` : '?');
  for (let i = 0; i < keyed.length; i += 500) {
    const slice = keyed.slice(i, i + 500);
    const n = slice.length;
    const params = [...slice.flatMap(([id, folded]) => [id, folded]), ...slice.flatMap(([id, , shown]) => [id, shown]), ...slice.map(([id]) => id)];
    const cases = (from: number) => slice.map((_, j) => `WHEN ${p(from + 2 * j)} THEN ${p(from + 2 * j + 1)}`).join(' ');
    const ids = slice.map((_, j) => p(4 * n + j)).join(', ');
    await qr.query(`UPDATE ${t.table} SET ${t.key} = CASE id ${cases(0)} END, ${t.key}_shown = CASE id ${cases(2 * n)} END WHERE id IN (${ids})`, params);
  }
}
