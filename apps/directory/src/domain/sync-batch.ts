import { nameKeys, NameKeys } from '@bridgekeeper/names';
import { DirectoryChange, GroupRecord, newGroupRecord, UserRecord } from './change-set';
import { acceptName, looksLike, NameIndex, NameRefusal } from './names';
import { grantSet, groupUse, GroupUse } from './ownership';

/**
 * User Sync's batch decisions, as pure rules: what a connector's batch (a plan's slice, already
 * diffed by the connector) may change in the directory, and what it leaves out and why. The
 * service (../sync/sync-commands.service.ts) reads what these need, calls them, and hands the
 * changes to the one writer in the batch's transaction:
 * - activeSwitches, deletions: the source's own users to enable, disable or delete;
 * - planGroups: the source's groups renamed (through a parked name), linked, created;
 * - membershipLookups → resolveMemberships → (the users' memberships read) → membershipChanges:
 *   which group each membership names, and which the source may join or leave. Two pure steps
 *   around one read, because whether an add is new depends on the memberships the resolved users
 *   have, and only the first step knows which users those are.
 * (The batch's users, between deletions and memberships, are UsersService.bulkUpsertIn's.)
 */

/** The source's own users to enable or disable: only those whose state changes (each change is one audit entry and event). */
export function activeSwitches(source: string, wanted: readonly { id: string; active: boolean }[], found: ReadonlyMap<string, UserRecord>): DirectoryChange[] {
  const out: DirectoryChange[] = [];
  for (const a of wanted) {
    const user = found.get(a.id);
    if (user && user.source === source && user.active !== a.active) out.push({ kind: 'user.update', user, set: { active: a.active } });
  }
  return out;
}

/** The source's own users to delete, as found (an id of another source's user, or one gone already, deletes nothing). */
export function deletions(source: string, found: readonly UserRecord[]): DirectoryChange[] {
  return found.filter((user) => user.source === source).map((user): DirectoryChange => ({ kind: 'user.delete', user }));
}

export interface GroupBatch {
  source: string;
  /** The source's groups renamed at the IdP: found by IdP group id, renamed only while still named `from`. */
  groupsToRename: readonly { externalId: string; from: string; to: string }[];
  /** The source's groups made before groups were linked by IdP id, to link to the IdP group of their name. */
  groupsToLink: readonly { name: string; externalId: string }[];
  groupsToCreate: readonly { name: string; externalId: string | null }[];
}

export interface GroupPlan {
  /** In the order to write them: parks, renames, links, creates. */
  changes: DirectoryChange[];
  /** Names left out, in the order they were met: renames, then creates. */
  refused: NameRefusal[];
}

type Rename = { group: GroupRecord; to: string; keys: NameKeys };

/**
 * A batch's groups, against every group of the directory (`groups`: all of them, since a new or
 * renamed name must differ from each, and looking alike is checked over all): the source's groups
 * renamed in place, the source's unlinked groups linked to their IdP group, then new groups. A
 * name that breaks the name rules, is held by another group, or looks like another group's is
 * left out (`refused`): the group keeps its name, and a refused rename never frees the name it
 * keeps. Renames go through a parked name (group.park), so renames in one batch may swap names.
 * Records are never changed in place: each change carries its row as it was (the audit's before).
 */
export function planGroups(batch: GroupBatch, groups: readonly GroupRecord[], now: Date, newId: () => string): GroupPlan {
  const { source } = batch;
  const refused: NameRefusal[] = [];
  const own = new Map<string, GroupRecord>(groups.filter((g) => g.source === source && g.externalId).map((g) => [g.externalId!, g]));

  // Renames: the groups still named as planned, to names that follow the rules; then, until no
  // more are refused, those whose new name another group holds (or one that looks like it). A
  // refused rename keeps its group's name, which may be what another rename wanted: so again.
  let renames: Rename[] = [];
  for (const r of batch.groupsToRename) {
    const group = own.get(r.externalId);
    const verdict = acceptName(r.to, 'group', 'group');
    if (!group || group.name !== r.from.normalize('NFC'))
      refused.push({
        kind: 'group',
        name: r.to,
        reason: `group: the group ${r.from} of IdP group ${r.externalId} is not here under that name any more; the next run plans its rename afresh`,
      });
    else if (!verdict.ok) refused.push({ kind: 'group', name: r.to, reason: verdict.reason });
    else if (verdict.name !== group.name) renames.push({ group, to: verdict.name, keys: nameKeys(verdict.name) });
  }
  for (;;) {
    const moving = new Set(renames.map((r) => r.group.id));
    const names = new Set(groups.filter((g) => !moving.has(g.id)).map((g) => g.nameLower));
    const byKey = new NameIndex<string>();
    for (const g of groups) if (!moving.has(g.id)) byKey.add(g.name, g.nameSkeleton, g.nameSkeletonShown);
    const kept: Rename[] = [];
    for (const r of renames) {
      const lookalike = byKey.find(r.keys);
      if (names.has(r.to.toLowerCase()))
        refused.push({ kind: 'group', name: r.to, reason: `group: another group is named ${r.to}; the group ${r.group.name} keeps its name` });
      else if (lookalike !== undefined)
        refused.push({ kind: 'group', name: r.to, reason: `${looksLike('group', r.to, lookalike, 'group')}; the group ${r.group.name} keeps its name` });
      else {
        names.add(r.to.toLowerCase());
        byKey.add(r.to, r.keys.folded, r.keys.shown);
        kept.push(r);
      }
    }
    if (kept.length === renames.length) break;
    renames = kept;
  }
  // Through a parked name first, so no rename meets a name another one in the batch leaves.
  const changes: DirectoryChange[] = [
    ...renames.map((r): DirectoryChange => ({ kind: 'group.park', groupId: r.group.id })),
    ...renames.map((r): DirectoryChange => ({ kind: 'group.update', group: r.group, set: { name: r.to } })),
  ];
  // The directory's groups as they are once renamed: what links and new names are checked against.
  const renamed = new Map(
    renames.map((r) => [r.group.id, { ...r.group, name: r.to, nameLower: r.to.toLowerCase(), nameSkeleton: r.keys.folded, nameSkeletonShown: r.keys.shown }]),
  );
  const current = groups.map((g) => renamed.get(g.id) ?? g);

  // Links: a group of this source without an IdP group, named as the IdP group (one link per IdP
  // group, one IdP group per group). Conditional (onlyIfUnlinked): a group linked meanwhile stays as it is.
  const linked = new Set<string>();
  for (const l of batch.groupsToLink) {
    if (own.has(l.externalId)) continue;
    const lower = l.name.normalize('NFC').toLowerCase();
    const group = current.find((g) => g.source === source && !g.externalId && !linked.has(g.id) && g.nameLower === lower);
    if (!group) continue;
    changes.push({ kind: 'group.update', group, set: { externalId: l.externalId }, onlyIfUnlinked: true });
    linked.add(group.id);
    own.set(l.externalId, group);
  }

  // New groups: not one whose IdP group is here already, under any name (a single user's sync,
  // before a run renames it); not a name held (any case); refused if it breaks the rules or looks
  // like another group's, those of the batch included.
  const existing = new Set(current.map((g) => g.nameLower));
  const byKey = new NameIndex<string>();
  for (const g of current) byKey.add(g.name, g.nameSkeleton, g.nameSkeletonShown);
  const seen = new Set<string>();
  for (const asserted of batch.groupsToCreate) {
    if (seen.has(asserted.name)) continue;
    seen.add(asserted.name);
    if (asserted.externalId && own.has(asserted.externalId)) continue;
    const verdict = acceptName(asserted.name, 'group', 'group');
    if (!verdict.ok) {
      refused.push({ kind: 'group', name: asserted.name, reason: verdict.reason });
      continue;
    }
    const name = verdict.name;
    if (existing.has(name.toLowerCase())) continue;
    const keys = nameKeys(name);
    const lookalike = byKey.find(keys);
    if (lookalike !== undefined) {
      refused.push({ kind: 'group', name, reason: looksLike('group', name, lookalike, 'group') });
      continue;
    }
    existing.add(name.toLowerCase());
    byKey.add(name, keys.folded, keys.shown);
    const group = newGroupRecord({ id: newId(), name, source, externalId: asserted.externalId }, now);
    if (asserted.externalId) own.set(asserted.externalId, group);
    changes.push({ kind: 'group.create', group });
  }
  return { changes, refused };
}

/** A membership of a batch: the user by its IdP id, the group by the name the IdP gives it. */
export interface Membership {
  externalId: string;
  group: string;
}

export interface MembershipBatch {
  source: string;
  /** Local groups (any case) the admin let this source join. */
  grantLocalGroups: readonly string[];
  addMemberships: readonly Membership[];
  removeMemberships: readonly Membership[];
  /** The IdP group a membership's group name is. */
  groupIdentities: readonly { group: string; externalId: string }[];
}

/** A group name as stored (NFC) and compared (lower case). */
export const groupNameLower = (group: string) => group.normalize('NFC').toLowerCase();

/** The IdP group each membership group name is (by its stored form; the last one given wins). */
const idpGroups = (batch: MembershipBatch) => new Map(batch.groupIdentities.map((g) => [groupNameLower(g.group), g.externalId]));

/** What to read before resolving a batch's memberships: the source's users by IdP id, groups by lower-case name, the source's groups by IdP group id. */
export function membershipLookups(batch: MembershipBatch): { externalIds: string[]; groupNames: string[]; idpGroupIds: string[] } {
  const moves = [...batch.addMemberships, ...batch.removeMemberships];
  return {
    externalIds: [...new Set(moves.map((m) => m.externalId))],
    groupNames: [...new Set(moves.map((m) => groupNameLower(m.group)))],
    idpGroupIds: [...new Set(idpGroups(batch).values())],
  };
}

export type MembershipGroup = Pick<GroupRecord, 'id' | 'name' | 'nameLower' | 'source' | 'externalId'>;

export interface MembershipFound {
  /** The source's users, IdP id → directory id (a user left out of the batch is not there: its memberships find none). */
  userIds: ReadonlyMap<string, string>;
  /** Groups by lower-case name (a group left out for its name is not there: its memberships find none). */
  groupsByName: ReadonlyMap<string, MembershipGroup>;
  /** The source's own groups by IdP group id. */
  ownByIdpGroup: ReadonlyMap<string, MembershipGroup>;
}

export interface ResolvedMembership {
  userId: string;
  groupId: string;
  /** The group's name as the batch gave it (the audit entry's). */
  group: string;
}

/**
 * Which group each membership names, and whether the source may use it. A group that is an IdP
 * group: the source's own group of it, whatever its name now; if the source has none, a group of
 * that name of another source (a granted local one) or of its own not linked yet, never one of its
 * own that is another IdP group (after a swap of names, before a run renames them). A group that
 * is not: the group of that name. Added only in the source's own groups and the granted local
 * ones, removed only from its own (a granted group is joined, never left). A membership whose user
 * or group is not found, or that the source may not make, is dropped.
 */
export function resolveMemberships(batch: MembershipBatch, found: MembershipFound): { adds: ResolvedMembership[]; removes: ResolvedMembership[] } {
  const { source } = batch;
  const idpGroupOf = idpGroups(batch);
  const groupOf = (name: string) => {
    const byName = found.groupsByName.get(groupNameLower(name));
    const idpGroup = idpGroupOf.get(groupNameLower(name));
    if (idpGroup === undefined) return byName;
    return found.ownByIdpGroup.get(idpGroup) ?? (byName && (byName.source !== source || byName.externalId === null) ? byName : undefined);
  };
  const granted = grantSet(batch.grantLocalGroups);
  const resolve =
    (allowed: (use: GroupUse) => boolean) =>
    (m: Membership): ResolvedMembership | null => {
      const userId = found.userIds.get(m.externalId);
      const group = groupOf(m.group);
      return userId && group && allowed(groupUse(group, source, granted)) ? { userId, groupId: group.id, group: m.group } : null;
    };
  return {
    adds: batch.addMemberships.map(resolve((use) => use !== 'refused')).filter((m) => m !== null),
    removes: batch.removeMemberships.map(resolve((use) => use === 'own')).filter((m) => m !== null),
  };
}

/** The users whose memberships decide which adds are new (read between the two steps). */
export const addingUsers = (adds: readonly ResolvedMembership[]) => [...new Set(adds.map((a) => a.userId))];

/** The key of a membership in `current`. */
export const membershipKey = (userId: string, groupId: string) => `${userId}:${groupId}`;

/**
 * The membership changes, adds first: an add only where the user is not a member yet (`current`:
 * the adding users' memberships, by membershipKey; an add is audited only when it adds), and every
 * removal conditional (audited only when there was one to remove).
 */
export function membershipChanges(
  adds: readonly ResolvedMembership[],
  removes: readonly ResolvedMembership[],
  current: ReadonlySet<string>,
): DirectoryChange[] {
  // One membership named twice (IdP groups whose names differ only by case or form name one group here) is added once.
  const added = new Set(current);
  const fresh = adds.filter((a) => {
    const key = membershipKey(a.userId, a.groupId);
    if (added.has(key)) return false;
    added.add(key);
    return true;
  });
  return [
    ...fresh.map((a): DirectoryChange => ({ kind: 'membership.add', ...a })),
    ...removes.map((r): DirectoryChange => ({ kind: 'membership.remove', ...r, ifPresent: true })),
  ];
}
