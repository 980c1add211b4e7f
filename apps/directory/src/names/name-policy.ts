import { BadRequestException } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { checkName, NameKind, nameKey, showName } from '@bridgekeeper/names';
import { GroupEntity } from '../groups/group.entity';
import { UserEntity } from '../users/user.entity';
import { inChunks } from '../users/user.view';

/**
 * The directory's name rules (libs/names) as every writer applies them — the admin API, logins
 * (JIT), User Sync batches, and any writer after them — so each refuses the same names in the same
 * words: a name that breaks the rules (`field: reason`, the admin API's 400), or one that looks
 * like another user's or group's (its lookalike key is taken: the admin API's 409).
 */

export type NameVerdict = { ok: true; name: string } | { ok: false; reason: string };

/** The name in NFC, or why it is refused, prefixed with the field. */
export function acceptName(input: string, kind: NameKind, field: string): NameVerdict {
  const check = checkName(input, kind);
  return check.ok ? check : { ok: false, reason: `${field}: ${check.reason}` };
}

/** The name in NFC; a name that breaks the rules is a 400 naming the field. */
export function nameOrBadRequest(input: string, kind: NameKind, field: string): string {
  const verdict = acceptName(input, kind, field);
  if (!verdict.ok) throw new BadRequestException(verdict.reason);
  return verdict.name;
}

/** A user or group a writer left out because of its name (User Sync reports them instead of failing the run). */
export interface NameRefusal {
  kind: 'user' | 'group';
  name: string;
  externalId?: string;
  reason: string;
}

export const looksLike = (field: string, name: string, other: string, what: string) =>
  `${field}: ${showName(name)} looks like the existing ${what} ${showName(other)} (Unicode TR 39 confusable); rename one of them`;

/** For one name: the row that holds it (any case), and the row whose name looks like it. */
export interface NameClash<T> {
  same?: T;
  lookalike?: T;
}

export interface NamedLike<T> {
  found: T[];
  clash(name: string, key?: string): NameClash<T>;
}

function namedLike<T>(found: T[], lowerOf: (row: T) => string, keyOf: (row: T) => string | null): NamedLike<T> {
  const byLower = new Map(found.map((row) => [lowerOf(row), row]));
  const byKey = new Map(found.filter((row) => keyOf(row) !== null).map((row) => [keyOf(row)!, row]));
  return {
    found,
    clash(name, key = nameKey(name)) {
      const lower = name.toLowerCase();
      const other = byKey.get(key);
      return { same: byLower.get(lower), lookalike: other && lowerOf(other) !== lower ? other : undefined };
    },
  };
}

/**
 * The users holding these usernames (any case) or names that look like them: one indexed query
 * per 500 names (by username_lower or username_skeleton).
 */
export async function usersNamedLike(em: EntityManager, names: readonly string[]): Promise<NamedLike<UserEntity>> {
  const found: UserEntity[] = [];
  await inChunks([...new Set(names)], 500, async (chunk) => {
    found.push(...(await em.findBy(UserEntity, [{ usernameLower: In(chunk.map((n) => n.toLowerCase())) }, { usernameSkeleton: In(chunk.map((n) => nameKey(n))) }])));
  });
  return namedLike(found, (u) => u.usernameLower, (u) => u.usernameSkeleton);
}

/** As usersNamedLike, for group names. */
export async function groupsNamedLike(em: EntityManager, names: readonly string[]): Promise<NamedLike<GroupEntity>> {
  const found: GroupEntity[] = [];
  await inChunks([...new Set(names)], 500, async (chunk) => {
    found.push(...(await em.findBy(GroupEntity, [{ nameLower: In(chunk.map((n) => n.toLowerCase())) }, { nameSkeleton: In(chunk.map((n) => nameKey(n))) }])));
  });
  return namedLike(found, (g) => g.nameLower, (g) => g.nameSkeleton);
}
