/**
 * The User Sync plan: what the IdP says (a snapshot of users, groups and memberships) against what
 * the directory holds for this connector, as a list of changes. Pure: no I/O, so it is computed
 * and shown (dry run) before anything is written, and unit-tested case by case.
 */
import { groupName } from './attribute-mapping';
import { directoryStateDigest, PlanBasis } from './plan-basis';

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
  /**
   * Names of the user's groups that another source owns (local groups, another connector's or
   * IdP's): a plan joins such a group (a local one its IdP was granted) once when the IdP names it,
   * never again and never leaves it.
   */
  otherGroups?: string[];
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
  /** `active`: whether the user still held access (the safety share counts only those). */
  delete: { id: string; username: string; active: boolean }[];
  groupsToCreate: string[];
  /** By IdP user id (new users have no directory id yet) and group name. */
  addMemberships: { externalId: string; group: string }[];
  removeMemberships: { externalId: string; group: string }[];
  /**
   * Groups the IdP names that the connector may not join (another source's, a local one its IdP
   * was not granted): their memberships are left out of the plan.
   */
  groupsRefused: string[];
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

/** A required group as the IdP's group paths spell it: `eng/backend/` and `/eng//backend` are `/eng/backend`. */
export const requiredGroupPath = (p: string): string => `/${p.split('/').filter(Boolean).join('/')}`;

/** The IdP user ids in scope: everyone, or members of the required groups (and their subgroups). */
export function usersInScope(idp: IdpSnapshot, opts: Pick<SyncOptions, 'requiredGroups' | 'includeSubgroups'>): Set<string> {
  if (opts.requiredGroups.length === 0) return new Set(idp.users.map((u) => u.id));
  const wanted = opts.requiredGroups.map(requiredGroupPath);
  const ids = new Set<string>();
  for (const g of idp.groups) {
    const hit = wanted.some((w) => g.path === w || (opts.includeSubgroups && g.path.startsWith(`${w}/`)));
    if (hit) for (const member of idp.members.get(g.id) ?? []) ids.add(member);
  }
  return ids;
}

/**
 * The plan, folded page by page: the IdP's snapshot is held whole, what the directory holds is
 * added a page at a time and not kept (at 100,000 users the directory's state is as large as the
 * IdP's). Each directory user is compared as its page arrives; `finish` then creates the IdP's
 * users no page held. A directory user must come in one page only.
 */
export class SyncPlanner {
  private readonly plan: SyncPlan = { create: [], update: [], enable: [], disable: [], delete: [], groupsToCreate: [], addMemberships: [], removeMemberships: [], groupsRefused: [], seatsDelta: 0 };
  /** IdP users in scope, by id; those a directory page held are removed, the rest are created. */
  private readonly unseen = new Map<string, IdpUser>();
  /** IdP users out of scope (required groups), by id: a directory user among them is "out of scope", not "gone". */
  private readonly outOfScope = new Set<string>();
  /** Each IdP user's groups, as sorted directory group names. */
  private readonly groupsOf = new Map<string, string[]>();
  private readonly usedGroups = new Set<string>();
  private readonly counts = { directoryUsers: 0, activeUsers: 0 };
  /** The directory state each change was planned from (see plan-basis.ts). */
  private readonly planBasis: PlanBasis = Object.create(null) as PlanBasis;
  readonly idpUsers: number;

  constructor(
    idp: IdpSnapshot,
    private readonly opts: SyncOptions,
  ) {
    this.idpUsers = idp.users.length;
    const scope = usersInScope(idp, opts);
    for (const u of idp.users) {
      if (scope.has(u.id)) this.unseen.set(u.id, u);
      else this.outOfScope.add(u.id);
    }
    for (const g of idp.groups) {
      const name = groupName(g.path, opts.naming);
      if (!name) continue;
      for (const member of idp.members.get(g.id) ?? []) {
        const names = this.groupsOf.get(member);
        if (!names) this.groupsOf.set(member, [name]);
        else if (!names.includes(name)) names.push(name);
      }
    }
    for (const names of this.groupsOf.values()) names.sort();
  }

  /** One page of the directory's users of this connector. */
  add(directory: readonly DirectoryUserState[]): void {
    for (const current of directory) {
      this.counts.directoryUsers++;
      if (current.active) this.counts.activeUsers++;
      if (!current.externalId) continue;
      const before = this.changeCount();
      const u = this.unseen.get(current.externalId);
      if (u) {
        this.unseen.delete(current.externalId);
        this.compare(u, current);
      } else {
        this.vanished(current, current.externalId);
      }
      if (this.changeCount() !== before) this.planBasis[current.externalId] = directoryStateDigest(current);
    }
  }

  /** What the plan changes of users already in the directory, as one number (it grows with each change). */
  private changeCount(): number {
    const p = this.plan;
    return p.update.length + p.enable.length + p.disable.length + p.delete.length + p.addMemberships.length + p.removeMemberships.length;
  }

  /**
   * The basis of the plan, once finished: by IdP user id, the digest of the directory state of
   * each user it changes, and `null` for each user it creates (the directory had none).
   */
  get basis(): PlanBasis {
    return { ...this.planBasis };
  }

  /** What the directory pages held: all its users of the connector, and the active ones. */
  get directory(): { users: number; activeUsers: number } {
    return { users: this.counts.directoryUsers, activeUsers: this.counts.activeUsers };
  }

  /**
   * The plan, once every page is added; `existingGroups` are the directory's group names,
   * lower-cased, and `notGrantable` those of them the connector may not join (the directory says
   * which): no membership in them is planned.
   */
  finish(existingGroups: ReadonlySet<string>, notGrantable: ReadonlySet<string> = new Set()): SyncPlan {
    const plan = this.plan;
    for (const u of this.unseen.values()) {
      if (!u.enabled && this.opts.vanished !== 'keep') continue; // nobody to create: disabled in the IdP
      const fields = this.fieldsOf(u);
      plan.create.push(fields);
      this.planBasis[u.id] = null;
      if (fields.active) plan.seatsDelta++;
      for (const g of this.groupsOf.get(u.id) ?? []) {
        plan.addMemberships.push({ externalId: u.id, group: g });
        this.usedGroups.add(g);
      }
    }
    this.unseen.clear();
    plan.update = orderRenames(plan.update);
    plan.groupsToCreate = [...this.usedGroups].filter((g) => !existingGroups.has(g.toLowerCase())).sort();
    if (notGrantable.size) {
      const refused = new Set<string>();
      plan.addMemberships = plan.addMemberships.filter((m) => {
        if (!notGrantable.has(m.group.toLowerCase())) return true;
        refused.add(m.group);
        return false;
      });
      plan.groupsRefused = [...refused].sort();
    }
    return plan;
  }

  private fieldsOf(u: IdpUser): UserFields {
    const properties: Record<string, string> = {};
    for (const a of this.opts.attributes) {
      const v = u.attributes && Object.prototype.hasOwnProperty.call(u.attributes, a) ? u.attributes[a]?.[0] : undefined;
      if (v !== undefined) properties[a] = v;
    }
    return { externalId: u.id, username: u.username, email: u.email?.toLowerCase() ?? null, displayName: displayNameOf(u), active: u.enabled, properties };
  }

  /** A user both sides hold. */
  private compare(u: IdpUser, current: DirectoryUserState): void {
    const { plan, opts } = this;
    const fields = this.fieldsOf(u);
    const changes: FieldChange[] = [];
    for (const f of ['username', 'email', 'displayName'] as const) {
      if ((current[f] ?? null) !== fields[f]) changes.push({ field: f, before: current[f] ?? null, after: fields[f] });
    }
    for (const [k, v] of Object.entries(fields.properties)) {
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
    const target = strip ? [] : (this.groupsOf.get(u.id) ?? []);
    // Group names are case-insensitive in the directory: a group renamed only in letter case at the
    // IdP is the same group, its members neither added nor removed.
    const joinedElsewhere = current.otherGroups?.length ? new Set(current.otherGroups.map((g) => g.toLowerCase())) : null;
    const joined = new Set(current.groups.map((g) => g.toLowerCase()));
    const wanted = new Set(target.map((g) => g.toLowerCase()));
    for (const g of target) {
      if (!joined.has(g.toLowerCase()) && !joinedElsewhere?.has(g.toLowerCase())) plan.addMemberships.push({ externalId: u.id, group: g });
      this.usedGroups.add(g);
    }
    for (const g of current.groups) if (!wanted.has(g.toLowerCase())) plan.removeMemberships.push({ externalId: u.id, group: g });
  }

  /** A directory user the IdP no longer has, or no longer has in scope. */
  private vanished(d: DirectoryUserState, externalId: string): void {
    const { plan, opts } = this;
    if (opts.vanished === 'keep') return;
    if (opts.vanished === 'delete') {
      plan.delete.push({ id: d.id, username: d.username, active: d.active });
      if (d.active) plan.seatsDelta--;
      return;
    }
    if (d.active) {
      plan.disable.push({ id: d.id, username: d.username, reason: this.outOfScope.has(externalId) ? 'out-of-scope' : 'gone' });
      plan.seatsDelta--;
    }
    if (opts.stripGroupsOfVanished) for (const g of d.groups) plan.removeMemberships.push({ externalId, group: g });
  }
}

/**
 * A plan's updates with the renames first, each after the rename that frees the name it takes
 * (A→B after B→C), so renames applied in this order never meet a name that is still held; the
 * members of a cycle (a swap: A→B, B→A) come together, and the directory parks the names its batch
 * leaves before it renames. Creates are applied after every update, so a new user may take a
 * renamed user's old name in the same run. Other updates keep their order.
 */
export function orderRenames<T extends { changes: FieldChange[] }>(update: T[]): T[] {
  const renameOf = (u: T) => u.changes.find((c) => c.field === 'username' && String(c.before).toLowerCase() !== String(c.after).toLowerCase());
  const renames = update.filter((u) => renameOf(u));
  if (!renames.length) return update;
  const byOldName = new Map(renames.map((u) => [String(renameOf(u)!.before).toLowerCase(), u]));
  const ordered: T[] = [];
  const placed = new Set<T>();
  const visiting = new Set<T>();
  const place = (u: T) => {
    if (placed.has(u) || visiting.has(u)) return; // a cycle: its members stay together
    visiting.add(u);
    const holder = byOldName.get(String(renameOf(u)!.after).toLowerCase());
    if (holder && holder !== u) place(holder);
    visiting.delete(u);
    placed.add(u);
    ordered.push(u);
  };
  for (const u of renames) place(u);
  return [...ordered, ...update.filter((u) => !renameOf(u))];
}

/** The plan in one call, for a directory state held whole (small runs, tests). */
export function computeSyncPlan(idp: IdpSnapshot, directory: readonly DirectoryUserState[], existingGroups: ReadonlySet<string>, opts: SyncOptions, notGrantable?: ReadonlySet<string>): SyncPlan {
  const planner = new SyncPlanner(idp, opts);
  planner.add(directory);
  return planner.finish(existingGroups, notGrantable);
}

export type Safety = { hold: false } | { hold: true; reason: string };

/**
 * Safety before applying: an empty IdP answer, or a plan that would disable or delete more than
 * the allowed share of the connector's active users, is held for an admin instead of applied.
 * `activeUsers` are all the connector's active users in the directory; only the active users the
 * plan disables or deletes count against them (deleting a user who is already inactive takes
 * nobody's access, and counting them gave shares over 100%). A changes run (`partial`)
 * sees only the users Keycloak's events named, so an empty answer there is a normal quiet period.
 */
export function assessSyncPlan(
  plan: SyncPlan,
  sides: { idpUsers: number; activeUsers: number; partial?: boolean },
  opts: Pick<SyncOptions, 'maxRemovalShare'>,
): Safety {
  const active = sides.activeUsers;
  if (!sides.partial && sides.idpUsers === 0 && active > 0) return { hold: true, reason: `the IdP returned no users while ${active} are active here` };
  const removals = plan.disable.length + plan.delete.filter((d) => d.active).length;
  if (active > 0 && removals / active > opts.maxRemovalShare) {
    const pct = Math.round((removals / active) * 1000) / 10;
    return { hold: true, reason: `the run would disable or delete ${removals} of ${active} active users (${pct}%), more than the allowed ${opts.maxRemovalShare * 100}%` };
  }
  return { hold: false };
}
