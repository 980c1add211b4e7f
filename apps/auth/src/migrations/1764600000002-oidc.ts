import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { portableTypes } from '@bridgekeeper/data';

/** OIDC IdPs next to SAML ones (protocol, settings, sealed client secret); sessions keep the ID token for logout. */
export class Oidc1764600000002 implements MigrationInterface {
  name = 'Oidc1764600000002';

  async up(qr: QueryRunner): Promise<void> {
    const t = portableTypes(qr);
    await qr.addColumns('idps', [
      new TableColumn({ name: 'protocol', type: 'varchar', length: '8', default: "'saml'" }),
      new TableColumn({ name: 'oidc', type: t.json, isNullable: true }),
      new TableColumn({ name: 'client_secret_enc', type: t.text, isNullable: true }),
    ]);
    await qr.addColumn('sessions', new TableColumn({ name: 'id_token', type: t.text, isNullable: true }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('sessions', 'id_token');
    for (const c of ['client_secret_enc', 'oidc', 'protocol']) await qr.dropColumn('idps', c);
  }
}
