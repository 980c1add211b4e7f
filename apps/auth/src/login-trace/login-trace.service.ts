import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { LoginTraceEntity, LoginTraceStep } from './login-trace.entity';

export interface TracePatch {
  subject?: string;
  attributes?: Record<string, string[]>;
  /** A protocol message to keep (already redacted). */
  message?: { kind: 'authnRequest' | 'response'; xml: string };
}

/** Records every login attempt; error pages show its id so an admin can look it up. */
@Injectable()
export class LoginTraceService {
  constructor(@InjectRepository(LoginTraceEntity) private readonly traces: Repository<LoginTraceEntity>) {}

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
      steps: [this.entry(step, detail)],
      messages: null,
      attributes: null,
      startedAt: new Date(),
      completedAt: null,
    });
    return id;
  }

  async step(id: string, step: string, detail?: string, patch: TracePatch = {}): Promise<void> {
    const trace = await this.traces.findOneBy({ id });
    if (!trace) return;
    const { message, ...rest } = patch;
    const messages = message ? { ...(trace.messages ?? {}), [message.kind]: message.xml } : undefined;
    await this.traces.update({ id }, { ...rest, ...(messages ? { messages } : {}), steps: [...trace.steps, this.entry(step, detail)] });
  }

  /** Drops traces older than the retention period. */
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

  private async finish(id: string, patch: Partial<LoginTraceEntity>, step: string, detail: string): Promise<void> {
    const trace = await this.traces.findOneBy({ id });
    if (!trace) return;
    await this.traces.update({ id }, { ...patch, completedAt: new Date(), steps: [...trace.steps, this.entry(step, detail)] });
  }

  private entry(step: string, detail?: string): LoginTraceStep {
    return { at: new Date().toISOString(), step, ...(detail ? { detail } : {}) };
  }
}
