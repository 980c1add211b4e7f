import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Environment variables the configuration reference (docs/reference/configuration.md, generated) names in its tables' first column. */
export function readmeEnvVars(): Set<string> {
  const readme = readFileSync(join(__dirname, '../../../docs/reference/configuration.md'), 'utf8');
  const names = new Set<string>();
  for (const line of readme.split('\n')) {
    const first = line.match(/^\|\s*([^|]+)\|/)?.[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]);
  }
  return names;
}
