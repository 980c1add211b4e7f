import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, LessThan, Repository } from 'typeorm';
import { insertWrite, PendingWrite, writeTogether } from '@bridgekeeper/data';
import { LoginTraceEntity, LoginTraceStep, LoginTraceStepEntity } from './login-trace.entity';

export interface TracePatch {
  subject?: string;
  /** How the subject was keyed (SAML): the NameID's format or `attribute:<name>`. */
  subjectFormat?: string;
  attributes?: Record<string, string[]>;
  /** A protocol message to keep (already redacted): what we asked the IdP, or what it answered. */
  message?: { kind: 'request' | 'response'; text: string };
}

/** A trace as the API shows it: the attempt, its messages and its steps in order. */
export type LoginTraceView = Omit<LoginTraceEntity, 'requestMessage' | 'responseMessage'> & {
  messages: { request: string | null; response: string | null };
  steps: LoginTraceStep[];
};

type StepRow = { step: string; detail: string | null; at: Date };

const patchColumns = ({ message, ...rest }: TracePatch): Partial<LoginTraceEntity> => ({
  ...rest,
  ...(message?.kind === 'request' ? { requestMessage: message.text } : {}),
  ...(message?.kind === 'response' ? { responseMessage: message.text } : {}),
});

const stepRow = (step: string, detail?: string): StepRow => ({ step: step.slice(0, 64), detail: detail ?? null, at: new Date() });

type TraceWrite = (id: string, columns: Partial<LoginTraceEntity>, rows: StepRow[], alongside?: (em: EntityManager) => PendingWrite[]) => Promise<void>;

/**
 * A login's trace as it happens: its steps kept in memory (each with the time it happened) and
 * written with the login's own rows, atomically (one transaction: `writeTogether`), when the
 * login starts (`save`, with its login state) and when it ends (with its session): one commit
 * each instead of one per step. A login cut short by a crash of the service keeps what its start
 * wrote (the request) and shows as started.
 */
export class PendingTrace {
  private columns: Partial<LoginTraceEntity> = {};
  private readonly rows: StepRow[] = [];
  private done = false;

  constructor(
    readonly id: string,
    private readonly write: TraceWrite,
  ) {}

  step(step: string, detail?: string, patch: TracePatch = {}): void {
    Object.assign(this.columns, patchColumns(patch));
    this.rows.push(stepRow(step, detail));
  }

  /** Writes the steps so far, the trace staying started, with the writes `alongside` builds (the login state). */
  async save(alongside?: (em: EntityManager) => PendingWrite[]): Promise<void> {
    const [columns, rows] = [this.columns, this.rows.splice(0)];
    try {
      await this.write(this.id, columns, rows, alongside);
      this.columns = {};
    } catch (err) {
      this.rows.unshift(...rows);
      throw err;
    }
  }

  /** Ends the trace as a success; the writes `alongside` builds (the session's row) land with it or not at all. */
  succeed(userId: string, detail: string, alongside: (em: EntityManager) => PendingWrite[]): Promise<void> {
    return this.end({ status: 'succeeded', userId }, 'succeeded', detail, alongside);
  }

  fail(code: string, reason: string): Promise<void> {
    return this.end({ status: 'failed', reasonCode: code, reason: reason.slice(0, 2000) }, 'failed', `${code}: ${reason}`);
  }

  /** Succeeded or failed: written (or being written). */
  get ended(): boolean {
    return this.done;
  }

  private end(outcome: Partial<LoginTraceEntity>, step: string, detail: string, alongside?: (em: EntityManager) => PendingWrite[]): Promise<void> {
    if (this.done) return Promise.resolve();
    this.done = true;
    this.step(step, detail);
    const rows = this.rows.splice(0);
    const written = this.write(this.id, { ...this.columns, ...outcome, completedAt: new Date() }, rows, alongside);
    // When the writes fail, none landed: the trace can still end as a failure.
    return written.catch((err) => {
      this.done = false;
      this.rows.unshift(...rows.slice(0, -1));
      throw err;
    });
  }
}

/**
 * Records every login attempt; error pages show its id so an admin can look it up. Steps are
 * appended rows and each message has its own column, so concurrent writers never lose anything.
 */
@Injectable()
export class LoginTraceService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(LoginTraceEntity) private readonly traces: Repository<LoginTraceEntity>,
    @InjectRepository(LoginTraceStepEntity) private readonly steps: Repository<LoginTraceStepEntity>,
  ) {}

  /** A new attempt's trace, in memory until its start is saved or it ends (see PendingTrace). */
  begin(idp: string, protocol: 'saml' | 'oidc', step: string, detail?: string): PendingTrace {
    const startedAt = new Date();
    let stored = false;
    const trace = new PendingTrace(crypto.randomUUID(), async (id, columns, rows, alongside) => {
      // The first write inserts the row; later ones change its columns.
      const row: LoginTraceEntity = {
        id,
        idp,
        protocol,
        status: 'started',
        reasonCode: null,
        reason: null,
        subject: null,
        subjectFormat: null,
        userId: null,
        requestMessage: null,
        responseMessage: null,
        attributes: null,
        startedAt,
        completedAt: null,
        ...columns,
      };
      await this.writeTrace(stored ? { id, columns } : { row }, rows, alongside);
      stored = true;
    });
    trace.step(step, detail);
    return trace;
  }

  /** The stored trace of a login being completed: its steps kept until it succeeds or fails (see PendingTrace). */
  pending(id: string): PendingTrace {
    return new PendingTrace(id, (traceId, columns, rows, alongside) => this.writeTrace({ id: traceId, columns }, rows, alongside));
  }

  /** A step from outside the login's own flow (a dead letter), written as it comes. */
  step(id: string, step: string, detail?: string, patch: TracePatch = {}): Promise<void> {
    return this.writeTrace({ id, columns: patchColumns(patch) }, [stepRow(step, detail)]);
  }

  /** Drops traces older than the retention period (their steps go with them: ON DELETE CASCADE). */
  async purgeOlderThan(days: number): Promise<number> {
    const result = await this.traces.delete({ startedAt: LessThan(new Date(Date.now() - days * 86_400_000)) });
    return result.affected ?? 0;
  }

  find(id: string): Promise<LoginTraceEntity | null> {
    return this.traces.findOneBy({ id });
  }

  /** The trace with its messages and steps, for the admin API. */
  async view(trace: LoginTraceEntity): Promise<LoginTraceView> {
    // In the order they happened: a login's own steps are written when it ends, a step from elsewhere (a dead letter) as it comes.
    const steps = await this.steps.find({ where: { traceId: trace.id }, order: { at: 'ASC', id: 'ASC' } });
    const { requestMessage, responseMessage, ...rest } = trace;
    return {
      ...rest,
      messages: { request: requestMessage, response: responseMessage },
      steps: steps.map((s) => ({ at: s.at.toISOString(), step: s.step, ...(s.detail ? { detail: s.detail } : {}) })),
    };
  }

  /** The trace's row (new, or its changed columns) and its new steps, with the writes `alongside` builds: together or not at all. */
  private writeTrace(
    trace: { row: LoginTraceEntity } | { id: string; columns: Partial<LoginTraceEntity> },
    rows: StepRow[],
    alongside?: (em: EntityManager) => PendingWrite[],
  ): Promise<void> {
    const id = 'row' in trace ? trace.row.id : trace.id;
    return writeTogether(this.db, (em) => {
      const writes = alongside?.(em) ?? [];
      if ('row' in trace) writes.push(insertWrite(em, LoginTraceEntity, trace.row));
      else if (Object.keys(trace.columns).length) writes.push(em.createQueryBuilder().update(LoginTraceEntity).set(trace.columns).where({ id }));
      if (rows.length)
        writes.push(
          insertWrite(
            em,
            LoginTraceStepEntity,
            rows.map((r) => ({ traceId: id, ...r })),
          ),
        );
      return writes;
    });
  }
}
