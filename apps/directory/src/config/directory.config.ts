import { z } from 'zod';
import { parseEnv, port, sharedConfig, sharedEnv } from '@bridgekeeper/platform';

export const directoryEnvSchema = z.object({
  ...sharedEnv,
  DIRECTORY_PORT: port(3001).describe('The port the directory listens on.'),
  DIRECTORY_HOST: z.string().default('0.0.0.0').describe('The address the directory listens on.'),
  DIRECTORY_SEAT_LIMIT: z.coerce.number().int().min(0).default(0).describe('Licence seats: the active users allowed; `0` means no limit.'),
  DIRECTORY_SEAT_POLICY: z
    .enum(['refuse', 'warn'])
    .default('refuse')
    .describe('Over the limit: refuse new or re-enabled users, or allow them and warn in the log.'),
  DIRECTORY_OUTBOX_RETENTION_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24)
    .describe('Published outbox batches are deleted after this many hours (the events stay in JetStream, the changes in the audit log).'),
});

export type DirectoryConfig = ReturnType<typeof loadDirectoryConfig>;

/** The directory's one config boundary: nothing else reads process.env. */
export function loadDirectoryConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(directoryEnvSchema, env);
  return {
    ...sharedConfig(e),
    service: 'directory' as const,
    http: { port: e.DIRECTORY_PORT, host: e.DIRECTORY_HOST },
    seats: { limit: e.DIRECTORY_SEAT_LIMIT, policy: e.DIRECTORY_SEAT_POLICY },
    outbox: { retentionMs: e.DIRECTORY_OUTBOX_RETENTION_HOURS * 3600_000 },
  };
}

export const DIRECTORY_CONFIG = Symbol('DIRECTORY_CONFIG');
