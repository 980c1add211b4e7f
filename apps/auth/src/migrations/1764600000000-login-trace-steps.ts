import { MigrationInterface, QueryRunner, Table, TableColumn, TableForeignKey, TableIndex } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/**
 * Trace steps get their own rows (appended with one INSERT, so two writers on the same trace can
 * never lose a step), and the two protocol messages their own columns (no read-modify-write).
 */
export class LoginTraceSteps1764600000000 implements MigrationInterface {
  name = 'LoginTraceSteps1764600000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.createTable(
      new Table({
        name: 'login_trace_steps',
        columns: [
          { name: 'id', type: t.serial, isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'trace_id', type: t.id, length: '36' },
          { name: 'step', type: 'varchar', length: '64' },
          { name: 'detail', type: t.text, isNullable: true },
          { name: 'at', type: t.timestamp },
        ],
        indices: [new TableIndex({ name: 'ix_login_trace_steps_trace', columnNames: ['trace_id', 'id'] })],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['trace_id'], referencedTableName: 'login_traces', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
      }),
    );
    await qr.addColumns('login_traces', [
      new TableColumn({ name: 'request_message', type: t.text, isNullable: true }),
      new TableColumn({ name: 'response_message', type: t.text, isNullable: true }),
    ]);
    const rows: { id: string; steps: unknown; messages: unknown }[] = await qr.query('SELECT id, steps, messages FROM login_traces');
    const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
    for (const row of rows) {
      for (const s of (parse(row.steps) ?? []) as { at: string; step: string; detail?: string }[]) {
        await qr.manager.insert('login_trace_steps', { trace_id: row.id, step: s.step.slice(0, 64), detail: s.detail ?? null, at: new Date(s.at) });
      }
      const m = (parse(row.messages) ?? {}) as { authnRequest?: string; response?: string };
      if (m.authnRequest || m.response)
        await qr.manager.update('login_traces', { id: row.id }, { request_message: m.authnRequest ?? null, response_message: m.response ?? null });
    }
    await qr.dropColumn('login_traces', 'messages');
    await qr.dropColumn('login_traces', 'steps');
  }

  async down(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumns('login_traces', [
      new TableColumn({ name: 'steps', type: t.json, default: "'[]'" }),
      new TableColumn({ name: 'messages', type: t.json, isNullable: true }),
    ]);
    await qr.dropColumn('login_traces', 'response_message');
    await qr.dropColumn('login_traces', 'request_message');
    await qr.dropTable('login_trace_steps');
  }
}
