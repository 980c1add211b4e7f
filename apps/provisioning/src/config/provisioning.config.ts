import { z } from 'zod';
import { masterKeyEnv, parseEnv, port, sharedConfig, sharedEnv } from '@bridgekeeper/platform';

export const provisioningEnvSchema = z.object({
  ...sharedEnv,
  PROVISIONING_PORT: port(3002).describe('The port provisioning listens on.'),
  PROVISIONING_HOST: z.string().default('0.0.0.0').describe('The address provisioning listens on.'),
  PROVISIONING_DIRECTORY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(5000)
    .describe('How long one directory command may take before the event is retried.'),
  PROVISIONING_KEYCLOAK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15000)
    .describe(
      "One Keycloak Admin API request's time limit (User Sync, connection tests); a request over it holds the run. Raise it for large realms: a page of 10,000 users takes a few seconds, more on a Keycloak just started (its first page at 100,000 users took over 15 s in the bench).",
    ),
  PROVISIONING_MAX_DELIVER: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(5)
    .describe('Tries of one `user.authenticated` event before it goes to the dead letters.'),
  PROVISIONING_MASTER_KEY: masterKeyEnv.describe(
    '32 bytes, base64 (`openssl rand -base64 32`): encrypts connector secrets at rest. Unset in development: one is generated in `DATA_DIR`.',
  ),
  PROVISIONING_FIRST_LOGIN_SYNC_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(500)
    .default(5000)
    .describe('How long a first login waits for the single-user sync of a user not synced yet (User Sync model).'),
  PROVISIONING_SCHEDULE_RECONCILE_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(60_000)
    .describe(
      'How often each provisioning instance reads the User Sync schedules from the database again, besides at once on every `sync.connector.changed` event: the safety net for an instance that missed one.',
    ),
  PROVISIONING_DEFAULT_MODEL: z.enum(['jit', 'manual', 'sync']).default('jit').describe('The provisioning model of IdPs not named in `PROVISIONING_MODELS`.'),
  PROVISIONING_MODELS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      // A Map, not an object: an IdP named `constructor` or `__proto__` must find nothing it did not set.
      const map = new Map<string, 'jit' | 'manual' | 'sync'>();
      for (const pair of v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [idp, model] = pair.split('=').map((p) => p.trim());
        if (!idp || (model !== 'jit' && model !== 'manual' && model !== 'sync')) {
          ctx.addIssue({ code: 'custom', message: `'${pair}' is not <idp>=jit|manual|sync` });
          continue;
        }
        map.set(idp, model);
      }
      return map;
    })
    .describe('Per-IdP provisioning models, `<idp>=jit|manual|sync`, comma-separated, e.g. `keycloak=manual,okta=jit`.'),
});

export type ProvisioningConfig = ReturnType<typeof loadProvisioningConfig>;

/** Provisioning's one config boundary: nothing else reads process.env. */
export function loadProvisioningConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(
    provisioningEnvSchema.refine((v) => v.NODE_ENV !== 'production' || !!v.PROVISIONING_MASTER_KEY, {
      path: ['PROVISIONING_MASTER_KEY'],
      message: 'is required when NODE_ENV=production',
    }),
    env,
  );
  return {
    ...sharedConfig(e),
    service: 'provisioning' as const,
    http: { port: e.PROVISIONING_PORT, host: e.PROVISIONING_HOST },
    directory: { timeoutMs: e.PROVISIONING_DIRECTORY_TIMEOUT_MS },
    keycloak: { timeoutMs: e.PROVISIONING_KEYCLOAK_TIMEOUT_MS },
    events: { maxDeliver: e.PROVISIONING_MAX_DELIVER },
    models: { byIdp: e.PROVISIONING_MODELS, fallback: e.PROVISIONING_DEFAULT_MODEL },
    masterKey: e.PROVISIONING_MASTER_KEY,
    sync: { firstLoginTimeoutMs: e.PROVISIONING_FIRST_LOGIN_SYNC_TIMEOUT_MS, reconcileMs: e.PROVISIONING_SCHEDULE_RECONCILE_MS },
  };
}

export const PROVISIONING_CONFIG = Symbol('PROVISIONING_CONFIG');
