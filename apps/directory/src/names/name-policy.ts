import { BadRequestException } from '@nestjs/common';
import type { PropertyValue } from '@bridgekeeper/contracts';
import { EntityManager, In } from 'typeorm';
import { NameKind, nameKeys } from '@bridgekeeper/names';
import { nameProblem, printable, textProblem } from '@bridgekeeper/platform';
import { GroupEntity } from '../groups/group.entity';
import { UserEntity } from '../users/user.entity';
import { inChunks } from '@bridgekeeper/data';
import { acceptName, groupsLike, NamedLike, usersLike } from '../domain/names';

// The pure half lives with the rules (../domain/names.ts); writers keep importing it from here.
export { acceptName, looksLike, NameIndex } from '../domain/names';
export type { NameClash, NamedLike, NameRefusal, NameVerdict } from '../domain/names';

/**
 * The directory's name rules (libs/names) as every writer applies them — the admin API, logins
 * (JIT), User Sync batches, and any writer after them — so each refuses the same names in the same
 * words: a name that breaks the rules (`field: reason`, the admin API's 400), or one that looks
 * like another user's or group's (its lookalike key is taken: the admin API's 409).
 */

/** The name in NFC; a name that breaks the rules is a 400 naming the field. */
export function nameOrBadRequest(input: string, kind: NameKind, field: string): string {
  const verdict = acceptName(input, kind, field);
  if (!verdict.ok) throw new BadRequestException(verdict.reason);
  return verdict.name;
}

/** The longest display name (the column's length, the admin API's limit). */
export const DISPLAY_NAME_MAX_LENGTH = 255;

/** A value a login or a User Sync batch brought that is not stored: the field (`displayName`, `properties.<key>`) and why. */
export interface ValueRefusal {
  field: string;
  reason: string;
}

/**
 * A login's or a sync item's free-text values by the rule the admin API applies to every request
 * (libs/platform input hygiene: no NUL, no lone surrogate; property names not reserved), and the
 * display name's length: each value that breaks it is left out, alone, and named, so one user's
 * attribute never fails a login or a batch. `displayName` comes back undefined when it is left out.
 */
export function screenValues(displayName: string | null | undefined, properties: Record<string, PropertyValue> | undefined) {
  const refused: ValueRefusal[] = [];
  let name = displayName;
  if (typeof displayName === 'string') {
    const problem =
      textProblem(displayName) ?? (displayName.length > DISPLAY_NAME_MAX_LENGTH ? `is longer than ${DISPLAY_NAME_MAX_LENGTH} characters` : undefined);
    if (problem) {
      refused.push({ field: 'displayName', reason: problem });
      name = undefined;
    }
  }
  let kept = properties;
  if (properties) {
    kept = Object.create(null) as Record<string, PropertyValue>;
    for (const [key, value] of Object.entries(properties)) {
      // A list is one property: one value it cannot store leaves the property out, named.
      const problem = nameProblem(key) ?? (typeof value === 'string' ? textProblem(value) : value.map(textProblem).find((p) => p !== undefined));
      if (problem) refused.push({ field: `properties.${printable(key).slice(0, 200)}`, reason: problem });
      else kept[key] = value;
    }
  }
  return { displayName: name, properties: kept, refused };
}

/** The lookalike keys a user row keeps for its username (libs/names `nameKeys`: folded and as shown). */
export const usernameKeys = (username: string) => {
  const keys = nameKeys(username);
  return { usernameSkeleton: keys.folded, usernameSkeletonShown: keys.shown };
};

/** The lookalike keys a group row keeps for its name. */
export const groupNameKeys = (name: string) => {
  const keys = nameKeys(name);
  return { nameSkeleton: keys.folded, nameSkeletonShown: keys.shown };
};

/** Both lookalike keys of each name, for an `In(…)` over both key columns. */
const keysOf = (names: string[]) => names.flatMap((n) => Object.values(nameKeys(n)));

/**
 * The users holding these usernames (any case) or names that look like them: one query per 500
 * names, each an indexed lookup by username_lower, username_skeleton and username_skeleton_shown.
 */
export async function usersNamedLike(em: EntityManager, names: readonly string[]): Promise<NamedLike<UserEntity>> {
  const found: UserEntity[] = [];
  await inChunks([...new Set(names)], 500, async (chunk) => {
    const keys = keysOf(chunk);
    found.push(
      ...(await em.findBy(UserEntity, [
        { usernameLower: In(chunk.map((n) => n.toLowerCase())) },
        { usernameSkeleton: In(keys) },
        { usernameSkeletonShown: In(keys) },
      ])),
    );
  });
  return usersLike(found);
}

/** As usersNamedLike, for group names. */
export async function groupsNamedLike(em: EntityManager, names: readonly string[]): Promise<NamedLike<GroupEntity>> {
  const found: GroupEntity[] = [];
  await inChunks([...new Set(names)], 500, async (chunk) => {
    const keys = keysOf(chunk);
    found.push(
      ...(await em.findBy(GroupEntity, [{ nameLower: In(chunk.map((n) => n.toLowerCase())) }, { nameSkeleton: In(keys) }, { nameSkeletonShown: In(keys) }])),
    );
  });
  return groupsLike(found);
}
