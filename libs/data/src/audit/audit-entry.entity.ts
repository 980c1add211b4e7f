import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every change to the directory, written in the same transaction as the change. */
@Entity({ name: 'audit_log' })
@Index('ix_audit_log_target', ['targetType', 'targetId'])
export class AuditEntryEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Index('ix_audit_log_at')
  @Column()
  at: Date;

  /** `admin-token:<id>`, `login:<traceId>`, `sync:<runId>`. */
  @Column({ type: 'varchar', length: 128 })
  actor: string;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ name: 'target_type', type: 'varchar', length: 32 })
  targetType: string;

  @Column({ name: 'target_id', type: 'varchar', length: 255 })
  targetId: string;

  @Column({ type: 'simple-json', nullable: true })
  before: any;

  @Column({ type: 'simple-json', nullable: true })
  after: any;
}
