import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { z } from 'zod';

/** `<SERVICE>_MASTER_KEY`: 32 bytes, base64 — encrypts private keys and IdP secrets at rest. */
export const masterKeyEnv = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
  .optional();

/**
 * The configured master key, or in development one generated once into DATA_DIR (production
 * refuses to start without a configured key; the config boundary checks that).
 */
export function loadMasterKey(configured: string | undefined, dataDir: string, service: string): Buffer {
  if (configured) return Buffer.from(configured, 'base64');
  const dir = resolve(dataDir);
  const file = join(dir, `${service}-master.key`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    new Logger('MasterKey').warn(`${service.toUpperCase()}_MASTER_KEY is not set: generated a development master key in ${file}`);
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}
