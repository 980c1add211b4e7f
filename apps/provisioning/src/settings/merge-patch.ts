type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Sets a member as an own property, so a key such as `__proto__` stays a key (for the schema to refuse), never a prototype. */
const define = (o: JsonObject, key: string, value: unknown) => Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });

/**
 * JSON Merge Patch (RFC 7396, section 2): each member of the patch replaces the target's, objects
 * merge member by member, `null` removes a member, and a patch that is not an object replaces the
 * whole target. Returns a new value; neither input is changed. (The `json-merge-patch` package
 * stops at a `__proto__` member and returns what it merged so far, a silently partial result.)
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = {};
  if (isObject(target)) for (const [key, value] of Object.entries(target)) define(result, key, value);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else define(result, key, mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value));
  }
  return result;
}
