import { z } from 'zod';

/**
 * A user property's value, the same for User Sync and logins (JIT): one string, or — for an
 * attribute with several values — a list of two or more strings. One value stays a plain string,
 * so clients of single-valued properties see no change; no value at all is no property.
 */
export type PropertyValue = string | string[];

export type Properties = Record<string, PropertyValue>;

/**
 * An attribute's values as a property value: each trimmed, blank ones and repeats left out (the
 * first of each kept), in the order the IdP gives them; one value is a plain string; none is
 * undefined (the property is absent).
 */
export function propertyValue(values: readonly string[] | undefined): PropertyValue | undefined {
  if (!values) return undefined;
  const kept: string[] = [];
  for (const raw of values) {
    const v = String(raw).trim();
    if (v !== '' && !kept.includes(v)) kept.push(v);
  }
  if (kept.length === 0) return undefined;
  return kept.length === 1 ? kept[0] : kept;
}

/**
 * The most a synced or asserted property may hold: values, and UTF-8 bytes of all its values. An
 * IdP attribute a user may edit themselves (Keycloak's account console) could otherwise carry
 * thousands of values and fail every sync batch, or every login, it rides in.
 */
export const PROPERTY_LIMITS = { values: 100, bytes: 16_384 } as const;

/** Why a property value is over the limits, or undefined. */
export function propertyValueProblem(value: PropertyValue): string | undefined {
  const values = typeof value === 'string' ? [value] : value;
  if (values.length > PROPERTY_LIMITS.values) return `has ${values.length} values, more than ${PROPERTY_LIMITS.values}`;
  const bytes = values.reduce((n, v) => n + Buffer.byteLength(v, 'utf8'), 0);
  if (bytes > PROPERTY_LIMITS.bytes) return `holds ${bytes} bytes, more than ${PROPERTY_LIMITS.bytes}`;
  return undefined;
}

/**
 * Whether two property values are the same: a list's order does not count (IdPs do not promise
 * one, and a comparison that saw a reordering as a change would write on every run).
 */
export function samePropertyValue(a: PropertyValue | undefined, b: PropertyValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

/**
 * A property value as the directory's commands and admin API take it: a string, or a list of
 * strings, kept as given but for repeats (the first kept) and empty strings, which are left out;
 * a list of one value is that string. A list with no non-empty value is refused (remove the
 * property instead).
 */
export const propertyValueSchema = z.union([z.string(), z.array(z.string()).min(1).max(1000)]).transform((v, ctx): PropertyValue => {
  if (typeof v === 'string') return v;
  const kept = [...new Set(v.filter((x) => x !== ''))];
  if (kept.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'a list needs at least one non-empty value' });
    return z.NEVER;
  }
  return kept.length === 1 ? kept[0] : kept;
});
