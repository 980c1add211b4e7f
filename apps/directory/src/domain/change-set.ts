import { DirectoryAction, PropertyValue } from '@bridgekeeper/contracts';
import { nameKeys } from '@bridgekeeper/names';

/**
 * The directory's data as the rules see it: plain records, no database. The TypeORM entities
 * (../store) have these shapes; nothing outside ../store knows how they are stored.
 */
export interface UserRecord {
  id: string;
  username: string;
  /** Lower-cased username: usernames are unique case-insensitively. */
  usernameLower: string;
  /** The username's lookalike keys (libs/names `nameKeys`); null only for rows from before they existed. */
  usernameSkeleton: string | null;
  usernameSkeletonShown: string | null;
  email: string | null;
  emailLower: string | null;
  displayName: string | null;
  active: boolean;
  /** Which IdP or sync connector manages the user, or `local`. */
  source: string;
  /** The IdP's immutable subject / user id. */
  externalId: string | null;
  protected: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupRecord {
  id: string;
  name: string;
  nameLower: string;
  nameSkeleton: string | null;
  nameSkeletonShown: string | null;
  description: string | null;
  source: string;
  externalId: string | null;
  createdAt: Date;
}

/** What a writer may set on a user: the derived columns (lower case, lookalike keys) follow by rule. */
export type UserFields = Partial<Pick<UserRecord, 'username' | 'email' | 'displayName' | 'active' | 'source' | 'externalId' | 'protected' | 'lastLoginAt'>>;
export type GroupFields = Partial<Pick<GroupRecord, 'name' | 'description' | 'externalId'>>;

/**
 * One change to the directory. Callers (the admin API, JIT, Manual, User Sync's batches, the
 * simulator's dry run) decide with the rules which changes to make and hand them to the one
 * writer (../store/directory-writer.ts), which writes them in order, in the caller's transaction,
 * with their audit entries and events. Each carries the row as it was, so the audit says before
 * and after without another read.
 */
export type DirectoryChange =
  | { kind: 'user.create'; user: UserRecord }
  | {
      kind: 'user.update';
      user: UserRecord;
      set: UserFields;
      /** Why, in the audit entry's after (a departed user's name released). */
      reason?: string;
      /** Only while the row still has no external id (a first login linking an account): the answer says whether it did. */
      onlyIfUnlinked?: true;
    }
  /** Frees a user's name and/or address for the rest of the transaction (renames and swaps in one batch): not a change of its own, the update that follows is. */
  | { kind: 'user.park'; userId: string; name: boolean; email: boolean }
  | { kind: 'user.delete'; user: UserRecord; groups?: string[] }
  | { kind: 'group.create'; group: GroupRecord }
  | {
      kind: 'group.update';
      group: GroupRecord;
      set: GroupFields;
      /** Only while the row still has no external id (User Sync linking a group to its IdP group). */
      onlyIfUnlinked?: true;
    }
  /** Frees a group's name for the rest of the transaction (renames that swap names). */
  | { kind: 'group.park'; groupId: string }
  | { kind: 'group.delete'; group: GroupRecord; members: number }
  | { kind: 'membership.add'; userId: string; groupId: string; group?: string }
  /** `ifPresent`: a removal asked for without knowing the row is there (User Sync): audited only when one was removed. */
  | { kind: 'membership.remove'; userId: string; groupId: string; group?: string; ifPresent?: true }
  | { kind: 'property.set'; userId: string; key: string; before: PropertyValue | undefined; value: PropertyValue }
  | { kind: 'property.remove'; userId: string; key: string; before: PropertyValue };

export type TargetType = 'user' | 'group' | 'membership' | 'property' | 'token';

/** What a change did: a directory event's action, or one audited only (a new admin token is not announced). */
export type ChangeAction = DirectoryAction | 'token.created';

/** An audit entry (and, for directory actions, the event announcing it). */
export interface Change {
  /** `admin-token:<id>`, `login:<traceId>`, `sync:<runId>`, `cli:<user>`. */
  actor: string;
  action: ChangeAction;
  targetType: TargetType;
  targetId: string;
  before?: object | null;
  after?: object | null;
}

/** The profile fields an audit row and a directory event carry. */
export const userSnapshot = (u: Pick<UserRecord, 'username' | 'email' | 'displayName' | 'active' | 'source' | 'externalId' | 'protected'>) => ({
  username: u.username,
  email: u.email,
  displayName: u.displayName,
  active: u.active,
  source: u.source,
  externalId: u.externalId,
  protected: u.protected,
});

export const groupSnapshot = (g: Pick<GroupRecord, 'name' | 'description' | 'source' | 'externalId'>) => ({
  name: g.name,
  description: g.description,
  source: g.source,
  externalId: g.externalId,
});

const membership = (c: { userId: string; groupId: string; group?: string }) => ({
  userId: c.userId,
  groupId: c.groupId,
  ...(c.group !== undefined ? { group: c.group } : {}),
});

/** The columns that follow from a user's fields: lower-case forms, and lookalike keys for a new spelling (a change of case too: it changes how a name looks). */
export function userColumns(before: Pick<UserRecord, 'username'> | undefined, set: UserFields): Partial<UserRecord> {
  const derived: Partial<UserRecord> = {};
  if (set.username !== undefined) {
    derived.usernameLower = set.username.toLowerCase();
    if (!before || set.username !== before.username) {
      const keys = nameKeys(set.username);
      derived.usernameSkeleton = keys.folded;
      derived.usernameSkeletonShown = keys.shown;
    }
  }
  if (set.email !== undefined) derived.emailLower = set.email?.toLowerCase() ?? null;
  return derived;
}

export function groupColumns(before: Pick<GroupRecord, 'name'> | undefined, set: GroupFields): Partial<GroupRecord> {
  const derived: Partial<GroupRecord> = {};
  if (set.name !== undefined) {
    derived.nameLower = set.name.toLowerCase();
    if (!before || set.name !== before.name) {
      const keys = nameKeys(set.name);
      derived.nameSkeleton = keys.folded;
      derived.nameSkeletonShown = keys.shown;
    }
  }
  return derived;
}

type NewUser = Pick<UserRecord, 'id' | 'username' | 'source'> &
  Partial<Pick<UserRecord, 'email' | 'displayName' | 'active' | 'externalId' | 'protected' | 'lastLoginAt'>>;

/** A new user's record, its derived columns by rule. */
export function newUserRecord(fields: NewUser, now: Date): UserRecord {
  const user = { email: null, displayName: null, active: true, externalId: null, protected: false, lastLoginAt: null, ...fields };
  return {
    ...user,
    usernameLower: '',
    usernameSkeleton: null,
    usernameSkeletonShown: null,
    emailLower: null,
    ...userColumns(undefined, user),
    createdAt: now,
    updatedAt: now,
  };
}

/** A new group's record, its derived columns by rule. */
export function newGroupRecord(
  fields: Pick<GroupRecord, 'id' | 'name' | 'source'> & Partial<Pick<GroupRecord, 'description' | 'externalId'>>,
  now: Date,
): GroupRecord {
  const group = { description: null, externalId: null, ...fields };
  return { ...group, nameLower: '', nameSkeleton: null, nameSkeletonShown: null, ...groupColumns(undefined, group), createdAt: now };
}

/** What a user update changes, split as the audit says it: the profile, and enabling or disabling (their events end or restore sessions). */
export function userUpdate(user: UserRecord, set: UserFields): { profileChanged: boolean; activeChanged: boolean; after: UserRecord } {
  const after = { ...user, ...set, ...userColumns(user, set) };
  const before = userSnapshot(user);
  const profile = userSnapshot({ ...after, active: user.active });
  return { profileChanged: JSON.stringify(before) !== JSON.stringify(profile), activeChanged: after.active !== user.active, after };
}

/**
 * The audit entries a change makes (none for a parked name or an update that changes nothing);
 * `applied` false for a conditional change that found nothing to do.
 */
export function auditEntries(c: DirectoryChange, actor: string, applied = true): Change[] {
  if (!applied) return [];
  switch (c.kind) {
    case 'user.create':
      return [{ actor, action: 'user.created', targetType: 'user', targetId: c.user.id, after: userSnapshot(c.user) }];
    case 'user.update': {
      const { profileChanged, activeChanged, after } = userUpdate(c.user, c.set);
      const out: Change[] = [];
      const before = userSnapshot(c.user);
      if (profileChanged)
        out.push({
          actor,
          action: 'user.updated',
          targetType: 'user',
          targetId: c.user.id,
          before,
          after: { ...userSnapshot({ ...after, active: c.user.active }), ...(c.reason ? { reason: c.reason } : {}) },
        });
      if (activeChanged)
        out.push({
          actor,
          action: after.active ? 'user.enabled' : 'user.disabled',
          targetType: 'user',
          targetId: c.user.id,
          before: { active: c.user.active },
          after: { active: after.active },
        });
      return out;
    }
    case 'user.delete':
      return [
        {
          actor,
          action: 'user.deleted',
          targetType: 'user',
          targetId: c.user.id,
          before: { ...userSnapshot(c.user), ...(c.groups ? { groups: c.groups } : {}) },
        },
      ];
    case 'group.create':
      return [{ actor, action: 'group.created', targetType: 'group', targetId: c.group.id, after: groupSnapshot(c.group) }];
    case 'group.update': {
      const before = groupSnapshot(c.group);
      const after = groupSnapshot({ ...c.group, ...c.set });
      return JSON.stringify(before) === JSON.stringify(after)
        ? []
        : [{ actor, action: 'group.updated', targetType: 'group', targetId: c.group.id, before, after }];
    }
    case 'group.delete':
      return [{ actor, action: 'group.deleted', targetType: 'group', targetId: c.group.id, before: { ...groupSnapshot(c.group), members: c.members } }];
    case 'membership.add':
      return [{ actor, action: 'membership.added', targetType: 'membership', targetId: `${c.userId}:${c.groupId}`, after: membership(c) }];
    case 'membership.remove':
      return [{ actor, action: 'membership.removed', targetType: 'membership', targetId: `${c.userId}:${c.groupId}`, before: membership(c) }];
    case 'property.set':
      return [
        {
          actor,
          action: 'property.changed',
          targetType: 'property',
          targetId: `${c.userId}:${c.key}`,
          before: c.before === undefined ? null : { [c.key]: c.before },
          after: { [c.key]: c.value },
        },
      ];
    case 'property.remove':
      return [{ actor, action: 'property.removed', targetType: 'property', targetId: `${c.userId}:${c.key}`, before: { [c.key]: c.before } }];
    case 'user.park':
    case 'group.park':
      return [];
  }
}

/** How many users a change set makes active (each takes a licence seat). */
export function activations(changes: readonly DirectoryChange[]): number {
  let n = 0;
  for (const c of changes) {
    if (c.kind === 'user.create' && c.user.active) n++;
    if (c.kind === 'user.update' && c.set.active === true && !c.user.active) n++;
  }
  return n;
}
