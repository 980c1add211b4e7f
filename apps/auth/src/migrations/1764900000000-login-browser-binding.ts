import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * A login state keeps the SHA-256 of the browser's binding cookie (login/browser-binding.ts): its
 * answer is taken only in the browser that started it. States written before have none and are
 * taken by no browser (they expire within the request lifetime).
 */
export class LoginBrowserBinding1764900000000 implements MigrationInterface {
  name = 'LoginBrowserBinding1764900000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn('login_states', new TableColumn({ name: 'browser_hash', type: 'varchar', length: '64', isNullable: true }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('login_states', 'browser_hash');
  }
}
