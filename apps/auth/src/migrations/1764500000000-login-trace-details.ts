import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** Login traces keep the decoded protocol messages (redacted) and the asserted attributes. */
export class LoginTraceDetails1764500000000 implements MigrationInterface {
  name = 'LoginTraceDetails1764500000000';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumns('login_traces', [
      new TableColumn({ name: 'messages', type: t.json, isNullable: true }),
      new TableColumn({ name: 'attributes', type: t.json, isNullable: true }),
    ]);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('login_traces', 'attributes');
    await qr.dropColumn('login_traces', 'messages');
  }
}
