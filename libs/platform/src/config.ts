import { z } from 'zod';

/** Raised at boot with every problem in the environment, not just the first. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates `env` against a zod schema of environment variables, once, at boot. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return result.data;
}

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Variables every service reads. */
export const sharedEnv = {
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe(
      '`production` requires the master keys (`AUTH_MASTER_KEY`, `PROVISIONING_MASTER_KEY`) and turns off the development allowances (private metadata addresses, OIDC over http).',
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('The pino log level.'),
  LOG_PRETTY: bool.optional().describe('Human-readable logs. Unset: on when stdout is a terminal in development, JSON lines otherwise.'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave unset for the embedded SQLite default)')
    .optional()
    .describe('`postgres://…`; each service uses its own schema. Unset: embedded SQLite files in `DATA_DIR`.'),
  DATA_DIR: z.string().default('data').describe('Where the SQLite files (and, in development, the generated master keys) live.'),
  NATS_URL: z.string().default('nats://127.0.0.1:4222').describe('NATS with JetStream; comma-separated for a cluster.'),
  METRICS_ENABLED: bool.default(true).describe('`false` turns `/metrics` off (403).'),
  ADMIN_RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(600)
    .describe('Calls per client address per minute to the routes that need an admin token (429 beyond).'),
};

export const envBool = bool;
export const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

export interface SharedConfig {
  env: 'development' | 'production' | 'test';
  log: { level: string; pretty: boolean };
  database: { url?: string; dataDir: string };
  nats: { url: string };
  metrics: { enabled: boolean };
  adminApi: { rateLimitPerMinute: number };
}

export function sharedConfig(e: {
  NODE_ENV: 'development' | 'production' | 'test';
  LOG_LEVEL: string;
  LOG_PRETTY?: boolean;
  DATABASE_URL?: string;
  DATA_DIR: string;
  NATS_URL: string;
  METRICS_ENABLED: boolean;
  ADMIN_RATE_LIMIT_PER_MINUTE: number;
}): SharedConfig {
  return {
    env: e.NODE_ENV,
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY ?? (e.NODE_ENV === 'development' && !!process.stdout.isTTY) },
    database: { url: e.DATABASE_URL, dataDir: e.DATA_DIR },
    nats: { url: e.NATS_URL },
    metrics: { enabled: e.METRICS_ENABLED },
    adminApi: { rateLimitPerMinute: e.ADMIN_RATE_LIMIT_PER_MINUTE },
  };
}
