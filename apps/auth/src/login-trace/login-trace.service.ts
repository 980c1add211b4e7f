import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
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

/**
 * Records every login attempt; error pages show its id so an admin can look it up. Steps are
 * appended rows and each message has its own column, so concurrent writers never lose anything.
 */
@Injectable()
export class LoginTraceService {
  constructor(
    @InjectRepository(LoginTraceEntity) private readonly traces: Repository<LoginTraceEntity>,
    @InjectRepository(LoginTraceStepEntity) private readonly steps: Repository<LoginTraceStepEntity>,
  ) {}

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
    const { message, ...rest } = patch;
    const columns: Partial<LoginTraceEntity> = { ...rest };
    if (message?.kind === 'request') columns.requestMessage = message.text;
    if (message?.kind === 'response') columns.responseMessage = message.text;
    if (Object.keys(columns).length > 0) await this.traces.update({ id }, columns);
    await this.append(id, step, detail);
  }

  /** Drops traces older than the retention period (their steps go with them: ON DELETE CASCADE). */
  async purgeOlderThan(days: number): Promise<number> {
    const result = await this.traces.delete({ startedAt: LessThan(new Date(Date.now() - days * 86_400_000)) });
    return result.affected ?? 0;
  }

  async succeed(id: string, userId: string, detail: string): Promise<void> {
    await this.finish(id, { status: 'succeeded', userId }, 'succeeded', detail);
  }

  async fail(id: string, code: string, reason: string): Promise<void> {
    await this.finish(id, { status: 'failed', reasonCode: code, reason: reason.slice(0, 2000) }, 'failed', `${code}: ${reason}`);
  }

  find(id: string): Promise<LoginTraceEntity | null> {
    return this.traces.findOneBy({ id });
  }

  /** The trace with its messages and steps, for the admin API. */
  async view(trace: LoginTraceEntity): Promise<LoginTraceView> {
    const steps = await this.steps.find({ where: { traceId: trace.id }, order: { id: 'ASC' } });
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
    await this.steps.insert({ traceId, step: step.slice(0, 64), detail: detail ?? null, at: new Date() });
  }
}
