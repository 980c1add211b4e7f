import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * A login trace keeps how its subject was keyed (the SAML NameID's format, or `attribute:<name>`
 * for an IdP that keys users on an attribute), so the mapping simulator replays a traced login as
 * the login was: a persistent NameID or an attribute-keyed id never serves as a username. Traces
 * from before have none (the simulator then reads the subject as an unspecified NameID, as before).
 */
export class LoginTraceSubjectFormat1765600000000 implements MigrationInterface {
  name = 'LoginTraceSubjectFormat1765600000000';

  async up(qr: QueryRunner): Promise<void> {
    await qr.addColumn('login_traces', new TableColumn({ name: 'subject_format', type: 'varchar', length: '255', isNullable: true }));
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.dropColumn('login_traces', 'subject_format');
  }
}
