import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export type LoginTraceStatus = 'started' | 'succeeded' | 'failed';

export interface LoginTraceStep {
  at: string;
  step: string;
  detail?: string;
}

/** One login attempt: its steps, its outcome and, when it failed, why. */
@Entity({ name: 'login_traces' })
export class LoginTraceEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  idp: string;

  @Column({ type: 'varchar', length: 8 })
  protocol: string;

  @Index('ix_login_traces_status')
  @Column({ type: 'varchar', length: 16 })
  status: LoginTraceStatus;

  @Column({ name: 'reason_code', type: 'varchar', length: 64, nullable: true })
  reasonCode: string | null;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  subject: string | null;

  /** How the subject was keyed: the SAML NameID's format, or `attribute:<name>` (an IdP's subjectAttribute); null for OIDC. */
  @Column({ name: 'subject_format', type: 'varchar', length: 255, nullable: true })
  subjectFormat: string | null;

  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId: string | null;

  /** The request sent to the IdP (SAML AuthnRequest XML, or the OIDC authorization request), redacted. */
  @Column({ name: 'request_message', type: 'text', nullable: true })
  requestMessage: string | null;

  /** The IdP's answer (SAML Response XML, or the ID token's header and claims), signatures redacted. */
  @Column({ name: 'response_message', type: 'text', nullable: true })
  responseMessage: string | null;

  /** The attributes the IdP asserted. */
  @Column({ type: 'simple-json', nullable: true })
  attributes: Record<string, string[]> | null;

  @Index('ix_login_traces_started_at')
  @Column({ name: 'started_at' })
  startedAt: Date;

  @Column({ name: 'completed_at', type: Date, nullable: true })
  completedAt: Date | null;
}

/** One step of a login attempt; appended, never rewritten. */
@Entity({ name: 'login_trace_steps' })
export class LoginTraceStepEntity {
  /** Insertion order (bigint on PostgreSQL, read back as a string). */
  @PrimaryGeneratedColumn()
  id: number | string;

  @Column({ name: 'trace_id', type: 'varchar', length: 36 })
  traceId: string;

  @Column({ type: 'varchar', length: 64 })
  step: string;

  @Column({ type: 'text', nullable: true })
  detail: string | null;

  @Column()
  at: Date;
}
