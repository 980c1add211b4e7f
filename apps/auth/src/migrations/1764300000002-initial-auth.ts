import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** Keys, login traces, login states and the SAML request / assertion caches. */
export class InitialAuth1764300000002 implements MigrationInterface {
  name = 'InitialAuth1764300000002';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'keys',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'purpose', type: 'varchar', length: '96' },
          { name: 'private_key_enc', type: t.text },
          { name: 'public_material', type: t.text },
          { name: 'active', type: t.bool, default: true },
          { name: 'not_after', type: t.timestamp, isNullable: true },
          { name: 'created_at', type: t.timestamp },
        ],
        indices: [new TableIndex({ name: 'ix_keys_purpose', columnNames: ['purpose', 'active'] })],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'login_traces',
        columns: [
          { name: 'id', type: t.id, length: '36', isPrimary: true },
          { name: 'idp', type: 'varchar', length: '64' },
          { name: 'protocol', type: 'varchar', length: '8' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'reason_code', type: 'varchar', length: '64', isNullable: true },
          { name: 'reason', type: t.text, isNullable: true },
          { name: 'subject', type: 'varchar', length: '255', isNullable: true },
          { name: 'user_id', type: t.id, length: '36', isNullable: true },
          { name: 'steps', type: t.json },
          { name: 'started_at', type: t.timestamp },
          { name: 'completed_at', type: t.timestamp, isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'ix_login_traces_status', columnNames: ['status'] }),
          new TableIndex({ name: 'ix_login_traces_started_at', columnNames: ['started_at'] }),
        ],
      }),
    );
    await qr.createTable(
      new Table({
        name: 'login_states',
        columns: [
          { name: 'relay_state', type: 'varchar', length: '64', isPrimary: true },
          { name: 'idp', type: 'varchar', length: '64' },
          { name: 'return_to', type: t.text },
          { name: 'trace_id', type: t.id, length: '36' },
          { name: 'expires_at', type: t.timestamp },
        ],
      }),
    );
    for (const name of ['saml_requests', 'saml_assertions']) {
      await qr.createTable(
        new Table({
          name,
          columns: [
            { name: 'id', type: 'varchar', length: '128', isPrimary: true },
            name === 'saml_requests' ? { name: 'value', type: 'varchar', length: '64' } : { name: 'idp', type: 'varchar', length: '64' },
            { name: 'expires_at', type: t.timestamp },
          ],
          indices: [new TableIndex({ name: `ix_${name}_expires_at`, columnNames: ['expires_at'] })],
        }),
      );
    }
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const table of ['saml_assertions', 'saml_requests', 'login_states', 'login_traces', 'keys']) await qr.dropTable(table);
  }
}
