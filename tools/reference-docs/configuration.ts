import { z } from 'zod';
import { cell, jsonSchema, table, typeOf } from './schema';

/** One service's environment: its zod schema and its config loader (which adds the checks across variables). */
export interface ServiceEnvironment {
  service: string;
  schema: z.ZodObject<z.ZodRawShape>;
  load: (env: NodeJS.ProcessEnv) => unknown;
}

/** The default a variable's schema gives when it is unset, as the service sees it (after any transform). */
function defaultOf(field: z.ZodType): unknown {
  const def = (field as any)._zod.def;
  if (def.type === 'default' || def.type === 'prefault') return typeof def.defaultValue === 'function' ? def.defaultValue() : def.defaultValue;
  if (def.type === 'pipe') return defaultOf(def.in);
  if (def.type === 'optional' || def.type === 'nullable') return defaultOf(def.innerType);
  return undefined;
}

function shownDefault(value: unknown): string {
  if (value === undefined) return 'unset';
  if (value === '') return 'empty';
  return `\`${String(value)}\``;
}

/** The variables a loader says are missing from this environment (`AUTH_MASTER_KEY: is required when …`). */
function missingIn(load: ServiceEnvironment['load'], env: NodeJS.ProcessEnv): Set<string> {
  try {
    load(env);
    return new Set();
  } catch (err) {
    const problems = ((err as { problems?: string[] }).problems ?? []).filter((p) => /required/i.test(p));
    return new Set(problems.map((p) => p.split(':')[0]));
  }
}

function rows(env: ServiceEnvironment, keys: string[]): string[][] {
  const json = jsonSchema(env.schema, 'input');
  const required = new Set<string>(json.required ?? []);
  // Asked of the loader itself, so a check across variables (a master key in production) is read from the code.
  const inProduction = missingIn(env.load, { NODE_ENV: 'production' });
  return keys.map((key) => {
    const description = json.properties[key]?.description as string | undefined;
    if (!description) throw new Error(`${env.service}: ${key} has no .describe() text in its config schema`);
    return [
      `\`${key}\``,
      cell(typeOf(json.properties[key])),
      shownDefault(defaultOf(env.schema.shape[key] as z.ZodType)),
      required.has(key) ? 'yes' : inProduction.has(key) ? 'in production' : 'no',
      cell(description),
    ];
  });
}

const HEAD = ['variable', 'type', 'default', 'required', 'meaning'];

/**
 * Every service's environment variables, from the zod schemas the services validate their
 * environment with: the variables all of them read first, then each service's own.
 */
export function renderConfiguration(services: ServiceEnvironment[], shared: readonly string[]): string {
  const parts = [`### Every service\n\n${table(HEAD, rows(services[0], [...shared]))}`];
  for (const env of services) {
    const own = Object.keys(env.schema.shape).filter((k) => !shared.includes(k));
    const missing = shared.filter((k) => !(k in env.schema.shape));
    if (missing.length) throw new Error(`${env.service} does not read the shared variables ${missing.join(', ')}`);
    parts.push(`### ${env.service}\n\n${table(HEAD, rows(env, own))}`);
  }
  return parts.join('\n\n');
}
