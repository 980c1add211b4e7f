import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { defineEvent } from '@bridgekeeper/contracts';
import { renderConfiguration } from './configuration';
import { renderEvents } from './events';
import { emptyGenerated, fillGenerated } from './markers';
import { renderReferencePages } from './reference-docs';
import { fieldRows, jsonSchema, typeOf } from './schema';

const root = join(__dirname, '../..');

/** The first line where two texts part, for a failure a person can act on. */
function firstDifference(committed: string, generated: string): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  const i = a.findIndex((line, n) => line !== b[n]);
  const at = i < 0 ? a.length : i;
  return `line ${at + 1}:\n  committed: ${a[at] ?? '(end of page)'}\n  generated: ${b[at] ?? '(end of page)'}`;
}

describe('the reference pages (docs/reference)', () => {
  it('say what the code says: config schemas, the event catalogue, every route', async () => {
    const stale: string[] = [];
    for (const page of await renderReferencePages(root)) {
      const committed = readFileSync(join(root, page.path), 'utf8');
      if (committed !== page.text) stale.push(`${page.path}, ${firstDifference(committed, page.text)}`);
    }
    if (stale.length) throw new Error(`out of date: run \`pnpm docs:reference\` and commit the pages\n${stale.join('\n')}`);
  }, 60_000);

  it('document every environment variable, event, command and admin route (the checks the hand-written pages had)', () => {
    const configuration = readFileSync(join(root, 'docs/reference/configuration.md'), 'utf8');
    const events = readFileSync(join(root, 'docs/reference/events.md'), 'utf8');
    const adminApi = readFileSync(join(root, 'docs/reference/admin-api.md'), 'utf8');
    expect(configuration).toContain('| `AUTH_MASTER_KEY` |');
    expect(configuration).toContain('| `DIRECTORY_SEAT_LIMIT` |');
    expect(configuration).toContain('| `PROVISIONING_MODELS` |');
    expect(events).toContain('| `user.authenticated` | 1 | `BK_USERS` |');
    expect(events).toContain('| `rpc.directory.users.provision` |');
    expect(adminApi).toContain('| GET | `/api/v1/users/{id}` | `read-only`, `admin` |');
    expect(adminApi).toContain('| GET | `/api/v1/tokens` | `admin` |');
    expect(adminApi).toContain('| POST | `/saml/{idp}/acs` |');
  });
});

describe('generated parts', () => {
  const page = `# Title\n\nProse before.\n\n${emptyGenerated('x')}\nProse after.\n`;

  it('replace only what is between their markers, again and again alike', () => {
    const once = fillGenerated(page, 'x', '| a |');
    expect(once).toMatch(/^# Title\n\nProse before\.\n\n<!-- GENERATED x: [^\n]*-->\n\n\| a \|\n\n<!-- END GENERATED x -->\n\nProse after\.\n$/);
    expect(fillGenerated(once, 'x', '| a |')).toBe(once);
    expect(fillGenerated(once, 'x', '| b |')).toContain('| b |');
    expect(fillGenerated(once, 'x', '| b |')).not.toContain('| a |');
  });

  it('are refused on a page without their markers', () => {
    expect(() => fillGenerated(page, 'y', 'z')).toThrow(/no GENERATED y markers/);
  });
});

describe('the configuration reference', () => {
  const shared = { NODE_ENV: z.enum(['development', 'production']).default('development').describe('the environment') };
  const schema = z.object({
    ...shared,
    X_PORT: z.coerce.number().int().min(1).max(65535).default(3000).describe('the port'),
    X_FLAG: z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .transform((v) => v === 'true')
      .default(true)
      .describe('a flag'),
    X_KEY: z.string().optional().describe('a key'),
  });
  const load = (env: NodeJS.ProcessEnv) => {
    const e = schema.parse(env);
    if (e.NODE_ENV === 'production' && !e.X_KEY) throw Object.assign(new Error('bad'), { problems: ['X_KEY: is required when NODE_ENV=production'] });
    return e;
  };

  it('gives each variable its type, default, whether it is required and its description', () => {
    const out = renderConfiguration([{ service: 'x', schema, load }], ['NODE_ENV']);
    expect(out).toContain('| `NODE_ENV` | `development` \\| `production` | `development` | no | the environment |');
    expect(out).toContain('| `X_PORT` | integer (1–65535) | `3000` | no | the port |');
    expect(out).toContain('| `X_FLAG` | boolean (`true`/`false`, `1`/`0`, `yes`/`no`) | `true` | no | a flag |');
    expect(out).toContain('| `X_KEY` | string | unset | in production | a key |');
  });

  it('refuses a variable without a description', () => {
    const bare = schema.extend({ X_BARE: z.string().optional() });
    expect(() => renderConfiguration([{ service: 'x', schema: bare, load }], ['NODE_ENV'])).toThrow(/x: X_BARE has no \.describe\(\) text/);
  });
});

describe('the events reference', () => {
  it('refuses an event that no one is said to publish or consume', () => {
    const stray = defineEvent({ subject: 'stray.happened', v: 1, stream: 'BK_STRAY', data: z.object({}), description: 'a stray' });
    expect(() => renderEvents([stray], [])).toThrow(/stray\.happened is not described/);
  });

  it('lists nested fields below their parent, with their descriptions', () => {
    const rows = fieldRows(jsonSchema(z.object({ user: z.object({ id: z.uuid().describe('its id') }), tags: z.array(z.string()).max(5).optional() })));
    expect(rows).toEqual([
      { path: 'user', type: 'object', required: true, default: undefined, description: undefined },
      { path: 'user.id', type: 'UUID', required: true, default: undefined, description: 'its id' },
      { path: 'tags', type: 'string[] (≤ 5)', required: false, default: undefined, description: undefined },
    ]);
    expect(typeOf(jsonSchema(z.string().nullable()))).toBe('string | null');
  });
});
