import { z } from 'zod';
import { parseEnv, port, sharedConfig, sharedEnv } from '@bridgekeeper/platform';

const schema = z.object({
  ...sharedEnv,
  PROVISIONING_PORT: port(3002),
  PROVISIONING_HOST: z.string().default('0.0.0.0'),
  /** How long one directory command may take before the event is retried. */
  PROVISIONING_DIRECTORY_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** Tries of one user.authenticated event before it goes to the dead letters. */
  PROVISIONING_MAX_DELIVER: z.coerce.number().int().min(1).max(100).default(5),
});

export type ProvisioningConfig = ReturnType<typeof loadProvisioningConfig>;

/** Provisioning's one config boundary: nothing else reads process.env. */
export function loadProvisioningConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return {
    ...sharedConfig(e),
    service: 'provisioning' as const,
    http: { port: e.PROVISIONING_PORT, host: e.PROVISIONING_HOST },
    directory: { timeoutMs: e.PROVISIONING_DIRECTORY_TIMEOUT_MS },
    events: { maxDeliver: e.PROVISIONING_MAX_DELIVER },
  };
}

export const PROVISIONING_CONFIG = Symbol('PROVISIONING_CONFIG');
