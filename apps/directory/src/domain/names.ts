import { checkName, NameKeys, NameKind, nameKeys, showName } from '@bridgekeeper/names';

/**
 * The name rules' pure half, as the rules modules in this folder and the writers outside it use
 * them (../names/name-policy.ts re-exports them beside the database lookups): a name's verdict,
 * the lookalike refusal's words, an index of rows by their lookalike keys, and the lookup over rows
 * already read by name.
 */

export type NameVerdict = { ok: true; name: string } | { ok: false; reason: string };

/** The name in NFC, or why it is refused, prefixed with the field. */
export function acceptName(input: string, kind: NameKind, field: string): NameVerdict {
  const check = checkName(input, kind);
  return check.ok ? check : { ok: false, reason: `${field}: ${check.reason}` };
}

/** A user, group or value a writer left out (User Sync reports them instead of failing the run). */
export interface NameRefusal {
  /** `value`: one of a user's values (its display name, a property), named in `name`; the user is written without it. */
  kind: 'user' | 'group' | 'value';
  name: string;
  externalId?: string;
  reason: string;
}

export const looksLike = (field: string, name: string, other: string, what: string) =>
  `${field}: ${showName(name)} looks like the existing ${what} ${showName(other)} (Unicode TR 39 confusable); rename one of them`;

/**
 * Rows (or names) by their lookalike keys, both kinds in one map: a name looks like a row when any
 * of its keys is any of the row's (libs/names `looksAlike`).
 */
export class NameIndex<T> {
  private readonly byKey = new Map<string, T[]>();

  add(row: T, ...keys: (string | null | undefined)[]): void {
    for (const key of new Set(keys)) if (key) this.byKey.set(key, [...(this.byKey.get(key) ?? []), row]);
  }

  /** The first row that holds one of these keys, leaving out those `skip` names (the row being renamed). */
  find(keys: NameKeys, skip: (row: T) => boolean = () => false): T | undefined {
    for (const key of [keys.folded, keys.shown]) {
      const row = this.byKey.get(key)?.find((r) => !skip(r));
      if (row !== undefined) return row;
    }
    return undefined;
  }
}

/** For one name: the row that holds it (any case), and a row whose name looks like it. */
export interface NameClash<T> {
  same?: T;
  lookalike?: T;
}

export interface NamedLike<T> {
  found: T[];
  /** `self`: the id of the row being renamed, never its own lookalike. */
  clash(name: string, self?: string): NameClash<T>;
}

/** The lookup over rows read by their names and lookalike keys (`lowerOf`: a row's lower-cased name; `keysOf`: its lookalike keys). */
export function namedLike<T extends { id: string }>(found: T[], lowerOf: (row: T) => string, keysOf: (row: T) => (string | null)[]): NamedLike<T> {
  const byLower = new Map(found.map((row) => [lowerOf(row), row]));
  const index = new NameIndex<T>();
  for (const row of found) index.add(row, ...keysOf(row));
  return {
    found,
    clash(name, self) {
      const lower = name.toLowerCase();
      return { same: byLower.get(lower), lookalike: index.find(nameKeys(name), (row) => row.id === self || lowerOf(row) === lower) };
    },
  };
}

/** The lookup over groups read by name (../names/name-policy `groupsNamedLike`, or records built in memory). */
export const groupsLike = <G extends { id: string; nameLower: string; nameSkeleton: string | null; nameSkeletonShown: string | null }>(
  found: G[],
): NamedLike<G> =>
  namedLike(
    found,
    (g) => g.nameLower,
    (g) => [g.nameSkeleton, g.nameSkeletonShown],
  );

/** The lookup over users read by username (../names/name-policy `usersNamedLike`). */
export const usersLike = <U extends { id: string; usernameLower: string; usernameSkeleton: string | null; usernameSkeletonShown: string | null }>(
  found: U[],
): NamedLike<U> =>
  namedLike(
    found,
    (u) => u.usernameLower,
    (u) => [u.usernameSkeleton, u.usernameSkeletonShown],
  );
