import { MigrationInterface, QueryRunner } from 'typeorm';
import { createCursorKeyTable, dropCursorKeyTable } from '@bridgekeeper/data';

/** The key that signs this service's pagination cursors (libs/data cursor-key.migration.ts). */
export class CursorKey1765200000001 implements MigrationInterface {
  name = 'CursorKey1765200000001';

  async up(qr: QueryRunner): Promise<void> {
    await createCursorKeyTable(qr);
  }

  async down(qr: QueryRunner): Promise<void> {
    await dropCursorKeyTable(qr);
  }
}
