import { z } from 'zod';
import { parseEnv, port, sharedConfig, sharedEnv } from '@bridgekeeper/platform';

const schema = z.object({
  ...sharedEnv,
  DIRECTORY_PORT: port(3001),
  DIRECTORY_HOST: z.string().default('0.0.0.0'),
});

export type DirectoryConfig = ReturnType<typeof loadDirectoryConfig>;

/** The directory's one config boundary: nothing else reads process.env. */
export function loadDirectoryConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(schema, env);
  return { ...sharedConfig(e), service: 'directory' as const, http: { port: e.DIRECTORY_PORT, host: e.DIRECTORY_HOST } };
}

export const DIRECTORY_CONFIG = Symbol('DIRECTORY_CONFIG');
