import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, LessThan, Repository } from 'typeorm';
import { runInTransaction } from '@bridgekeeper/platform';
import { LoginTraceEntity, LoginTraceStep, LoginTraceStepEntity } from './login-trace.entity';

export interface TracePatch {
  subject?: string;
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

/**
 * The steps of a login that is being completed, kept in memory (each with the time it
 * happened) and written together with its outcome in one transaction: one commit per login
 * instead of one per step. A login cut short by a crash of the service keeps its earlier steps
 * (the start, the request) and shows as started.
 */
export class PendingTrace {
  private readonly columns: Partial<LoginTraceEntity> = {};
  private readonly rows: StepRow[] = [];
  private done = false;

  constructor(
    readonly id: string,
    private readonly write: (id: string, columns: Partial<LoginTraceEntity>, rows: StepRow[], alongside?: (em: EntityManager) => Promise<unknown>) => Promise<void>,
  ) {}

  step(step: string, detail?: string, patch: TracePatch = {}): void {
    Object.assign(this.columns, patchColumns(patch));
    this.rows.push(stepRow(step, detail));
  }

  /** Ends the trace as a success; `alongside` (the session's row) commits in the same transaction. */
  async succeed<T>(userId: string, detail: string, alongside: (em: EntityManager) => Promise<T>): Promise<T> {
    let out: T | undefined;
    await this.end({ status: 'succeeded', userId }, 'succeeded', detail, async (em) => (out = await alongside(em)));
    return out as T;
  }

  fail(code: string, reason: string): Promise<void> {
    return this.end({ status: 'failed', reasonCode: code, reason: reason.slice(0, 2000) }, 'failed', `${code}: ${reason}`);
  }

  /** Succeeded or failed: written (or being written). */
  get ended(): boolean {
    return this.done;
  }

  private end(outcome: Partial<LoginTraceEntity>, step: string, detail: string, alongside?: (em: EntityManager) => Promise<unknown>): Promise<void> {
    if (this.done) return Promise.resolve();
    this.done = true;
    this.step(step, detail);
    const rows = this.rows.splice(0);
    const written = this.write(this.id, { ...this.columns, ...outcome, completedAt: new Date() }, rows, alongside);
    // When the work alongside fails, nothing was written: the trace can still end as a failure.
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

  /** A login being completed: steps kept until it succeeds or fails (see PendingTrace). */
  pending(id: string): PendingTrace {
    return new PendingTrace(id, (traceId, columns, rows, alongside) =>
      runInTransaction(this.db, async (em) => {
        await alongside?.(em);
        await em.update(LoginTraceEntity, { id: traceId }, columns);
        await em.insert(LoginTraceStepEntity, rows.map((r) => ({ traceId, ...r })));
      }),
    );
  }

  async start(idp: string, protocol: 'saml' | 'oidc', step: string, detail?: string): Promise<string> {
    const id = crypto.randomUUID();
    await this.traces.insert({
      id,
      idp,
      protocol,
      status: 'started',
      reasonCode: null,
      reason: null,
      subject: null,
      userId: null,
      requestMessage: null,
      responseMessage: null,
      attributes: null,
      startedAt: new Date(),
      completedAt: null,
    });
    await this.append(id, step, detail);
    return id;
  }

  async step(id: string, step: string, detail?: string, patch: TracePatch = {}): Promise<void> {
    const columns = patchColumns(patch);
    if (Object.keys(columns).length > 0) await this.traces.update({ id }, columns);
    await this.append(id, step, detail);
  }

  /** Drops traces older than the retention period (their steps go with them: ON DELETE CASCADE). */
  async purgeOlderThan(days: number): Promise<number> {
    const result = await this.traces.delete({ startedAt: LessThan(new Date(Date.now() - days * 86_400_000)) });
    return result.affected ?? 0;
  }

  async fail(id: string, code: string, reason: string): Promise<void> {
    await this.finish(id, { status: 'failed', reasonCode: code, reason: reason.slice(0, 2000) }, 'failed', `${code}: ${reason}`);
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

  private async finish(id: string, patch: Partial<LoginTraceEntity>, step: string, detail: string): Promise<void> {
    await this.traces.update({ id }, { ...patch, completedAt: new Date() });
    await this.append(id, step, detail);
  }

  private async append(traceId: string, step: string, detail?: string): Promise<void> {
    await this.steps.insert({ traceId, ...stepRow(step, detail) });
  }
}
