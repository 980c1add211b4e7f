import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { LoginTraceEntity, LoginTraceStep } from './login-trace.entity';

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
      startedAt: new Date(),
      completedAt: null,
    });
    return id;
  }

  async step(id: string, step: string, detail?: string, patch: Partial<Pick<LoginTraceEntity, 'subject'>> = {}): Promise<void> {
    const trace = await this.traces.findOneBy({ id });
    if (!trace) return;
    await this.traces.update({ id }, { ...patch, steps: [...trace.steps, this.entry(step, detail)] });
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
