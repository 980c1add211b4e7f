/**
 * The User Sync plan: what the IdP says (a snapshot of users, groups and memberships) against what
 * the directory holds for this connector, as a list of changes. Pure: no I/O, so it is computed
 * and shown (dry run) before anything is written, and unit-tested case by case.
 */
import { groupName } from './attribute-mapping';

export interface IdpUser {
  /** The IdP's immutable user id (Keycloak's user id). */
  id: string;
  username: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  enabled: boolean;
  attributes?: Readonly<Record<string, readonly string[]>>;
}

export interface IdpGroup {
  id: string;
  /** Full path, `/parent/child`. */
  path: string;
}

export interface IdpSnapshot {
  users: IdpUser[];
  groups: IdpGroup[];
  /** IdP group id → ids of its direct members. */
  members: ReadonlyMap<string, readonly string[]>;
}

export interface DirectoryUserState {
  id: string;
  externalId: string | null;
  username: string;
  email: string | null;
  displayName: string | null;
  active: boolean;
  /** Names of the groups this connector manages that the user belongs to. */
  groups: string[];
  properties: Record<string, string>;
}

export interface SyncOptions {
  naming: 'path' | 'leaf';
  /** Only members of these groups (paths) are synced; empty means everyone. */
  requiredGroups: string[];
  includeSubgroups: boolean;
  /** IdP attribute names copied to user properties of the same name. */
  attributes: string[];
  /** What happens to users gone from the IdP (or out of scope) or disabled there. */
  vanished: 'disable' | 'delete' | 'keep';
  stripGroupsOfVanished: boolean;
  /** Hold the run when it would disable or delete more than this share of the synced users. */
  maxRemovalShare: number;
}

export interface UserFields {
  externalId: string;
  username: string;
  email: string | null;
  displayName: string | null;
  active: boolean;
  properties: Record<string, string>;
}

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface SyncPlan {
  create: UserFields[];
  update: { id: string; externalId: string; username: string; changes: FieldChange[]; fields: UserFields }[];
  enable: { id: string; username: string }[];
  disable: { id: string; username: string; reason: 'gone' | 'disabled-in-idp' | 'out-of-scope' }[];
  delete: { id: string; username: string }[];
  groupsToCreate: string[];
  /** By IdP user id (new users have no directory id yet) and group name. */
  addMemberships: { externalId: string; group: string }[];
  removeMemberships: { externalId: string; group: string }[];
  seatsDelta: number;
}

export interface PlanCounts {
  usersCreated: number;
  usersUpdated: number;
  usersDisabled: number;
  usersEnabled: number;
  usersDeleted: number;
  groupsCreated: number;
  membershipsAdded: number;
  membershipsRemoved: number;
}

export function planCounts(plan: SyncPlan): PlanCounts {
  return {
    usersCreated: plan.create.length,
    usersUpdated: plan.update.length,
    usersDisabled: plan.disable.length,
    usersEnabled: plan.enable.length,
    usersDeleted: plan.delete.length,
    groupsCreated: plan.groupsToCreate.length,
    membershipsAdded: plan.addMemberships.length,
    membershipsRemoved: plan.removeMemberships.length,
  };
}

export function isEmptyPlan(plan: SyncPlan): boolean {
  return Object.values(planCounts(plan)).every((n) => n === 0);
}

const displayNameOf = (u: IdpUser) => [u.firstName, u.lastName].filter((p) => p && p.trim()).join(' ').trim() || null;

/** The IdP user ids in scope: everyone, or members of the required groups (and their subgroups). */
export function usersInScope(idp: IdpSnapshot, opts: Pick<SyncOptions, 'requiredGroups' | 'includeSubgroups'>): Set<string> {
  if (opts.requiredGroups.length === 0) return new Set(idp.users.map((u) => u.id));
  const wanted = opts.requiredGroups.map((p) => `/${p.split('/').filter(Boolean).join('/')}`);
  const ids = new Set<string>();
  for (const g of idp.groups) {
    const hit = wanted.some((w) => g.path === w || (opts.includeSubgroups && g.path.startsWith(`${w}/`)));
    if (hit) for (const member of idp.members.get(g.id) ?? []) ids.add(member);
  }
  return ids;
}

export function computeSyncPlan(idp: IdpSnapshot, directory: DirectoryUserState[], existingGroups: ReadonlySet<string>, opts: SyncOptions): SyncPlan {
  const plan: SyncPlan = { create: [], update: [], enable: [], disable: [], delete: [], groupsToCreate: [], addMemberships: [], removeMemberships: [], seatsDelta: 0 };
  const scope = usersInScope(idp, opts);

  // Each IdP user's groups, as directory group names.
  const groupsOf = new Map<string, Set<string>>();
  const allNames = new Set<string>();
  for (const g of idp.groups) {
    const name = groupName(g.path, opts.naming);
    if (!name) continue;
    allNames.add(name);
    for (const member of idp.members.get(g.id) ?? []) {
      if (!groupsOf.has(member)) groupsOf.set(member, new Set());
      groupsOf.get(member)!.add(name);
    }
  }

  const byExternal = new Map(directory.filter((d) => d.externalId).map((d) => [d.externalId!, d]));
  const usedGroups = new Set<string>();
  const seen = new Set<string>();

  for (const u of idp.users) {
    if (!scope.has(u.id)) continue;
    seen.add(u.id);
    const properties: Record<string, string> = {};
    for (const a of opts.attributes) {
      const v = u.attributes && Object.prototype.hasOwnProperty.call(u.attributes, a) ? u.attributes[a]?.[0] : undefined;
      if (v !== undefined) properties[a] = v;
    }
    const fields: UserFields = { externalId: u.id, username: u.username, email: u.email?.toLowerCase() ?? null, displayName: displayNameOf(u), active: u.enabled, properties };
    const wanted = [...(groupsOf.get(u.id) ?? [])].sort();
    const current = byExternal.get(u.id);

    if (!current) {
      if (!u.enabled && opts.vanished !== 'keep') continue; // nobody to create: disabled in the IdP
      plan.create.push(fields);
      if (fields.active) plan.seatsDelta++;
      for (const g of wanted) plan.addMemberships.push({ externalId: u.id, group: g });
      wanted.forEach((g) => usedGroups.add(g));
      continue;
    }

    const changes: FieldChange[] = [];
    for (const f of ['username', 'email', 'displayName'] as const) {
      if ((current[f] ?? null) !== fields[f]) changes.push({ field: f, before: current[f] ?? null, after: fields[f] });
    }
    for (const [k, v] of Object.entries(properties)) {
      if (current.properties[k] !== v) changes.push({ field: `properties.${k}`, before: current.properties[k] ?? null, after: v });
    }
    if (changes.length) plan.update.push({ id: current.id, externalId: u.id, username: u.username, changes, fields: { ...fields, active: current.active } });

    if (!u.enabled) {
      if (current.active && opts.vanished !== 'keep') {
        plan.disable.push({ id: current.id, username: current.username, reason: 'disabled-in-idp' });
        plan.seatsDelta--;
      }
    } else if (!current.active) {
      plan.enable.push({ id: current.id, username: u.username });
      plan.seatsDelta++;
    }

    const strip = !u.enabled && opts.stripGroupsOfVanished && opts.vanished !== 'keep';
    const target = strip ? [] : wanted;
    for (const g of target) if (!current.groups.includes(g)) plan.addMemberships.push({ externalId: u.id, group: g });
    for (const g of current.groups) if (!target.includes(g)) plan.removeMemberships.push({ externalId: u.id, group: g });
    target.forEach((g) => usedGroups.add(g));
  }

  for (const d of directory) {
    if (!d.externalId || seen.has(d.externalId)) continue;
    if (opts.vanished === 'keep') continue;
    const reason = idp.users.some((u) => u.id === d.externalId) ? 'out-of-scope' : 'gone';
    if (opts.vanished === 'delete') {
      plan.delete.push({ id: d.id, username: d.username });
      if (d.active) plan.seatsDelta--;
      continue;
    }
    if (d.active) {
      plan.disable.push({ id: d.id, username: d.username, reason });
      plan.seatsDelta--;
    }
    if (opts.stripGroupsOfVanished) for (const g of d.groups) plan.removeMemberships.push({ externalId: d.externalId, group: g });
  }

  plan.groupsToCreate = [...usedGroups].filter((g) => !existingGroups.has(g.toLowerCase())).sort();
  return plan;
}

export type Safety = { hold: false } | { hold: true; reason: string };

/**
 * Safety before applying: an empty IdP answer, or a plan that would disable or delete more than
 * the allowed share of the connector's users, is held for an admin instead of applied. A changes
 * run sees only the users Keycloak's events named: `partial` gives the connector's active users,
 * which the share is then measured against (an empty answer there is a normal quiet period).
 */
export function assessSyncPlan(
  plan: SyncPlan,
  idp: IdpSnapshot,
  directory: DirectoryUserState[],
  opts: Pick<SyncOptions, 'maxRemovalShare'>,
  partial?: { activeUsers: number },
): Safety {
  const active = partial ? partial.activeUsers : directory.filter((d) => d.active).length;
  if (!partial && idp.users.length === 0 && active > 0) return { hold: true, reason: `the IdP returned no users while ${active} are active here` };
  const removals = plan.disable.length + plan.delete.length;
  if (active > 0 && removals / active > opts.maxRemovalShare) {
    const pct = Math.round((removals / active) * 1000) / 10;
    return { hold: true, reason: `the run would disable or delete ${removals} of ${active} active users (${pct}%), more than the allowed ${opts.maxRemovalShare * 100}%` };
  }
  return { hold: false };
}
