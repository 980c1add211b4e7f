import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * A login state remembers what its answer must match: the SAML AuthnRequest id (InResponseTo of
 * this browser's login) or, for OIDC, the PKCE code verifier and the nonce.
 */
export class LoginStateBinding1764600000001 implements MigrationInterface {
  name = 'LoginStateBinding1764600000001';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumns('login_states', [
      new TableColumn({ name: 'request_id', type: 'varchar', length: '128', isNullable: true }),
      new TableColumn({ name: 'code_verifier', type: 'varchar', length: '128', isNullable: true }),
      new TableColumn({ name: 'nonce', type: 'varchar', length: '128', isNullable: true }),
    ]);
  }

  async down(qr: QueryRunner): Promise<void> {
    for (const c of ['nonce', 'code_verifier', 'request_id']) await qr.dropColumn('login_states', c);
  }
}
