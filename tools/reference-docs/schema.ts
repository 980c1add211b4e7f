import { z } from 'zod';

/** A JSON Schema object as zod writes it (draft 2020-12). */
export type JsonSchema = Record<string, any>;

/** The JSON Schema of a zod schema, as the OpenAPI documents describe bodies (libs/admin-api's openApiSchema does the same). */
export const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;

/** What an environment flag takes (libs/platform's envBool). */
const BOOLEAN_WORDS = ['0', '1', 'false', 'no', 'true', 'yes'];

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function range(min: number | undefined, max: number | undefined, unit = ''): string {
  const hasMax = max !== undefined && max < Number.MAX_SAFE_INTEGER;
  if (min !== undefined && hasMax) return ` (${min}–${max}${unit})`;
  if (min !== undefined && min > 0) return ` (≥ ${min}${unit})`;
  if (hasMax) return ` (≤ ${max}${unit})`;
  return '';
}

const FORMATS: Record<string, string> = { uuid: 'UUID', uri: 'URL', email: 'email', 'date-time': 'date-time (ISO 8601)' };

/** A short type for a table cell: `integer (1–65535)`, `UUID`, `` `saml` | `oidc` ``, `string[]`. */
export function typeOf(s: JsonSchema): string {
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return (variants as JsonSchema[]).map(typeOf).join(' | ');
  if (s.const !== undefined) return code(s.const);
  if (s.enum) {
    const values = [...(s.enum as unknown[])].map(String);
    if (values.length === BOOLEAN_WORDS.length && [...values].sort().every((v, i) => v === BOOLEAN_WORDS[i]))
      return 'boolean (`true`/`false`, `1`/`0`, `yes`/`no`)';
    return (s.enum as unknown[]).map(code).join(' | ');
  }
  if (Array.isArray(s.type)) return (s.type as string[]).map((type) => typeOf({ ...s, type })).join(' | ');
  switch (s.type) {
    case 'string':
      if (s.format && FORMATS[s.format]) return FORMATS[s.format];
      return `string${range(s.minLength > 1 ? s.minLength : undefined, s.maxLength, ' characters')}${s.pattern ? ` matching \`${s.pattern}\`` : ''}`;
    case 'integer':
    case 'number':
      return `${s.type}${range(s.minimum, s.maximum)}`;
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const item = s.items ? typeOf(s.items) : 'any';
      return `${item.includes(' ') ? `(${item})` : item}[]${s.maxItems !== undefined ? ` (≤ ${s.maxItems})` : ''}`;
    }
    case 'object':
      if (!s.properties && s.additionalProperties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
      return 'object';
    default:
      return 'any';
  }
}

export interface FieldRow {
  /** `user.id`, `groups[]`, `users[].properties` */
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

/** The object inside a nullable object or a list of objects, whose fields are listed below it. */
function nested(s: JsonSchema): { schema: JsonSchema; suffix: string } | undefined {
  if (s.type === 'object' && s.properties) return { schema: s, suffix: '.' };
  if (s.type === 'array' && s.items?.type === 'object' && s.items.properties) return { schema: s.items, suffix: '[].' };
  const variants = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  const objects = variants?.filter((v) => v.type !== 'null');
  if (objects?.length === 1) return nested(objects[0]);
  return undefined;
}

/** Every field of an object schema, nested objects' fields below their parent (dotted paths). */
export function fieldRows(s: JsonSchema, prefix = '', depth = 0): FieldRow[] {
  const rows: FieldRow[] = [];
  const required = new Set<string>(s.required ?? []);
  for (const [name, prop] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
    const path = `${prefix}${name}`;
    rows.push({ path, type: typeOf(prop), required: required.has(name), default: prop.default, description: prop.description });
    const inner = nested(prop);
    if (inner && depth < 3) rows.push(...fieldRows(inner.schema, `${path}${inner.suffix}`, depth + 1));
  }
  return rows;
}

/** The alternatives of a union of objects (an RPC reply by `status`), each named by its constant fields; one unnamed alternative otherwise. */
export function alternatives(s: JsonSchema): { label?: string; schema: JsonSchema }[] {
  const variants = (s.oneOf ?? s.anyOf) as JsonSchema[] | undefined;
  if (!variants || s.properties) return [{ schema: s }];
  return variants.map((v) => {
    const constants = Object.entries((v.properties ?? {}) as Record<string, JsonSchema>).filter(([, p]) => p.const !== undefined);
    return { label: constants.map(([k, p]) => `${k}: ${JSON.stringify(p.const)}`).join(', ') || undefined, schema: v };
  });
}

/** A table cell: one line, pipes escaped. */
export const cell = (text: string | undefined) => (text ?? '').replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

/** A markdown table. */
export function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** A field table: field, type, required, default, description. */
export function fieldTable(rows: FieldRow[]): string {
  if (!rows.length) return '_no fields_';
  return table(
    ['field', 'type', 'required', 'default', 'description'],
    rows.map((r) => [`\`${r.path}\``, cell(r.type), r.required ? 'yes' : 'no', r.default !== undefined ? cell(code(r.default)) : '', cell(r.description)]),
  );
}
