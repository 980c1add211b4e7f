import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './nats-server';

export type ServiceName = 'auth' | 'directory' | 'provisioning';

/** The repository root (where pnpm-workspace.yaml is), from sources or from dist/. */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('not inside the Bridgekeeper repository');
    dir = up;
  }
  return dir;
}

const ROOT = repoRoot();

/** One service as a real process from the build (`pnpm build`), like production runs it. */
export class ServiceProcess {
  private proc?: ChildProcess;
  output = '';

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The process id while it runs (benchmarks read its memory). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    const main = join(ROOT, 'dist/apps', this.name, 'src/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run pnpm build first`);
    // NODE_ARGS: flags for node itself (e.g. --cpu-prof, which NODE_OPTIONS does not take).
    const { NODE_ARGS, ...env } = this.env;
    this.proc = spawn(process.execPath, [...(NODE_ARGS ?? '').split(' ').filter(Boolean), main], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TZ: 'UTC', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout?.on('data', (d) => (this.output += d));
    this.proc.stderr?.on('data', (d) => (this.output += d));
    await waitFor(
      `${this.name} to be ready on ${this.port}`,
      async () => {
        if (this.proc?.exitCode !== null) throw new Error(`${this.name} exited:\n${this.output.slice(-3000)}`);
        const res = await fetch(`${this.url}/health/ready`);
        return res.ok;
      },
      60_000,
      200,
    );
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface StackOptions {
  natsUrl: string;
  databaseUrl?: string;
  ports: { auth: number; directory: number; provisioning: number };
  authPublicUrl?: string;
  extraEnv?: Partial<Record<ServiceName, Record<string, string>>>;
}

/** The three services as real processes from `dist/`, on real NATS and a real database (tests and benchmarks). */
export class Stack {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'bk-stack-'));
  readonly services: Record<ServiceName, ServiceProcess>;

  constructor(opts: StackOptions) {
    const shared = { NATS_URL: opts.natsUrl, DATA_DIR: this.dataDir, ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}) };
    this.services = {
      directory: new ServiceProcess('directory', opts.ports.directory, {
        ...shared,
        DIRECTORY_PORT: String(opts.ports.directory),
        ...opts.extraEnv?.directory,
      }),
      provisioning: new ServiceProcess('provisioning', opts.ports.provisioning, {
        ...shared,
        PROVISIONING_PORT: String(opts.ports.provisioning),
        ...opts.extraEnv?.provisioning,
      }),
      auth: new ServiceProcess('auth', opts.ports.auth, {
        ...shared,
        AUTH_PORT: String(opts.ports.auth),
        AUTH_PUBLIC_URL: opts.authPublicUrl ?? `http://localhost:${opts.ports.auth}`,
        ...opts.extraEnv?.auth,
      }),
    };
  }

  async start(...names: ServiceName[]): Promise<void> {
    for (const name of names.length ? names : (['directory', 'provisioning', 'auth'] as const)) await this.services[name].start();
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.services).map((s) => s.stop()));
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Creates an admin API token with the project's CLI, as an admin would (`pnpm bk tokens create`). */
export function createAdminToken(env: { DATABASE_URL?: string; DATA_DIR?: string }, role: 'admin' | 'read-only' = 'admin'): string {
  const out = execFileSync(process.execPath, [join(ROOT, 'dist/apps/directory/src/cli.js'), 'tokens', 'create', '--name', `test-${role}`, '--role', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', NATS_URL: 'nats://127.0.0.1:1', ...env },
    encoding: 'utf8',
  });
  const token = out.trim().split('\n').pop() ?? '';
  if (!token.startsWith('bk_')) throw new Error(`the CLI printed no token:\n${out}`);
  return token;
}
