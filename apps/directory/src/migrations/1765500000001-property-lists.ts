import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/**
 * Multi-valued properties: a property whose `list` is set holds a JSON array of two or more
 * values in `value` (every value of a multi-valued attribute). Existing rows are single values.
 */
export class PropertyLists1765500000001 implements MigrationInterface {
  name = 'PropertyLists1765500000001';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumn('user_properties', new TableColumn({ name: 'list', type: t.bool, default: false }));
  }

  async down(qr: QueryRunner): Promise<void> {
    // A list keeps its first value: the single-valued model it goes back to.
    const rows: { user_id: string; key: string; value: string }[] = await qr.query(
      `SELECT user_id, key, value FROM user_properties WHERE list = ${qr.connection.driver.options.type === 'postgres' ? 'true' : '1'}`,
    );
    const p = (n: number) => (qr.connection.driver.options.type === 'postgres' ? `$${n}` : '?');
    for (const r of rows)
      await qr.query(`UPDATE user_properties SET value = ${p(1)} WHERE user_id = ${p(2)} AND key = ${p(3)}`, [
        (JSON.parse(r.value) as string[])[0],
        r.user_id,
        r.key,
      ]);
    await qr.dropColumn('user_properties', 'list');
  }
}
