import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { SamlValidationError } from './errors';
import { SamlServiceProvider, ValidatedLogin } from './service-provider';
import verifyInline, { VerifyOutcome, VerifyTask } from './validation-worker';

/**
 * Verifies SAML responses on worker threads, so one heavy response (a large signed document, an
 * encrypted assertion) never stalls the event loop that serves every other login. With 0 threads
 * it verifies inline (unit tests run the TypeScript sources, where there is no compiled worker).
 */
export class SamlValidationPool {
  private readonly pool: Piscina<VerifyTask, VerifyOutcome> | null;

  constructor(threads: number) {
    const filename = join(__dirname, 'validation-worker.js');
    if (threads > 0 && !existsSync(filename)) throw new Error(`the SAML validation worker ${filename} is missing: build first (pnpm build), or use 0 threads`);
    this.pool = threads > 0 ? new Piscina({ filename, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 }) : null;
  }

  /** Worker threads in use (0: inline). */
  get threads(): number {
    return this.pool ? this.pool.options.maxThreads : 0;
  }

  /** The verified login, and how long the verification itself took (for the login trace). */
  async verify(sp: SamlServiceProvider, samlResponse: string): Promise<ValidatedLogin & { verifyMs: number }> {
    const task: VerifyTask = { config: sp.verifierConfig, samlResponse };
    const outcome = this.pool ? await this.pool.run(task) : await verifyInline(task);
    if (!outcome.ok) throw new SamlValidationError(outcome.code, outcome.message);
    return { ...outcome.login, verifyMs: outcome.ms };
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }

  /** Nest calls this on shutdown. */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }
}
