import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

/**
 * A group a User Sync connector manages records the IdP group it is (Keycloak's group id), so a
 * group renamed or moved in Keycloak is renamed in place instead of replaced by a new, empty one.
 * Existing groups start without one; a connector's next run links each of its groups to the IdP
 * group of the same name. One directory group per IdP group and source.
 */
export class GroupExternalIds1765500000002 implements MigrationInterface {
  name = 'GroupExternalIds1765500000002';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn('groups', new TableColumn({ name: 'external_id', type: 'varchar', length: '255', isNullable: true }));
    await qr.createIndex('groups', new TableIndex({ name: 'uq_groups_source_external_id', columnNames: ['source', 'external_id'], isUnique: true }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropIndex('groups', 'uq_groups_source_external_id');
    await qr.dropColumn('groups', 'external_id');
  }
}
