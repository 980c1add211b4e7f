/**
 * The User Sync plan: what the IdP says (a snapshot of users, groups and memberships) against what
 * the directory holds for this connector, as a list of changes. Pure: no I/O, so it is computed
 * and shown (dry run) before anything is written, and unit-tested case by case.
 */
import { groupName } from './attribute-mapping';
import { directoryStateDigest, PlanBasis } from './plan-basis';
import { Properties, propertyValue, propertyValueProblem, samePropertyValue } from '@bridgekeeper/contracts';

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
  /** Every property of the user, the connector's and others' (an admin's): the plan touches only its own keys. */
  properties: Properties;
}

/** A group of this connector in the directory: its name, and the IdP group it is (null: made before groups were linked by id). */
export interface DirectoryGroupState {
  name: string;
  externalId: string | null;
}

/** A directory group a plan creates, as the IdP group it is (null only in plans held before groups were linked by id). */
export interface GroupToCreate {
  name: string;
  externalId: string | null;
}

/** A connector's group made before groups were linked by id, and the IdP group of its name. */
export interface GroupLink {
  name: string;
  externalId: string;
}

/** A directory group renamed in place (its IdP group was renamed or moved): members, id and grants stay. */
export interface GroupRename {
  externalId: string;
  from: string;
  to: string;
}

export interface SyncOptions {
  naming: 'path' | 'leaf';
  /** Only members of these groups (paths) are synced; empty means everyone. */
  requiredGroups: string[];
  includeSubgroups: boolean;
  /**
   * IdP attribute names copied to user properties of the same name, every value (property-value.ts).
   * The connector owns these keys: a property whose attribute the IdP no longer has (or has no
   * value of) is removed. A key that leaves this list is no longer owned: it is left as it is.
   */
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
  properties: Properties;
  /** Owned properties the IdP no longer has: removed (updates only; absent when none). */
  removeProperties?: string[];
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
  groupsToCreate: GroupToCreate[];
  /** The connector's groups whose IdP group has another name now (renamed, moved): renamed in place, before anything else. */
  groupsToRename: GroupRename[];
  /**
   * The connector's groups made before groups were linked by IdP id, that an IdP group of the same
   * name claims: linked to it (from then on renamed with it), not created again.
   */
  groupsToLink: GroupLink[];
  /** By IdP user id (new users have no directory id yet) and group name. */
  addMemberships: { externalId: string; group: string }[];
  removeMemberships: { externalId: string; group: string }[];
  /**
   * The IdP group each membership's group is (by name as the memberships write it): the directory
   * finds the connector's own groups by it, whatever name they have now (a rename it refused, a
   * first-login sync before a run renamed them), and never another of its own groups by name.
   */
  groupIdentities: { group: string; externalId: string }[];
  /** Attribute values left out of the plan for being over the property limits (one user's, named); the rest of the user is planned. */
  valuesRefused?: { externalId: string; username: string; field: string; reason: string }[];
  /** Renames of the connector's groups left out because another group holds the new name: the group keeps its name. */
  groupRenamesRefused: (GroupRename & { reason: string })[];
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
  groupsRenamed: number;
  groupsLinked: number;
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
    groupsRenamed: plan.groupsToRename.length,
    groupsLinked: plan.groupsToLink.length,
    membershipsAdded: plan.addMemberships.length,
    membershipsRemoved: plan.removeMemberships.length,
  };
}

export function isEmptyPlan(plan: SyncPlan): boolean {
  return Object.values(planCounts(plan)).every((n) => n === 0);
}

const displayNameOf = (u: IdpUser) =>
  [u.firstName, u.lastName]
    .filter((p) => p && p.trim())
    .join(' ')
    .trim() || null;

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
  private readonly plan: SyncPlan = {
    create: [],
    update: [],
    enable: [],
    disable: [],
    delete: [],
    groupsToCreate: [],
    groupsToRename: [],
    groupsToLink: [],
    addMemberships: [],
    removeMemberships: [],
    groupIdentities: [],
    groupRenamesRefused: [],
    groupsRefused: [],
    seatsDelta: 0,
  };
  /** IdP users in scope, by id; those a directory page held are removed, the rest are created. */
  private readonly unseen = new Map<string, IdpUser>();
  /** IdP users out of scope (required groups), by id: a directory user among them is "out of scope", not "gone". */
  private readonly outOfScope = new Set<string>();
  /** Each IdP user's groups, as IdP group ids. */
  private readonly groupIdsOf = new Map<string, string[]>();
  /** Each IdP group's name by the connector's naming (before the directory's groups are known). */
  private readonly idpGroupName = new Map<string, string>();
  /**
   * The directory's side of the groups (see `directoryGroups`): each IdP group's name in the
   * directory, the renames, and the names the directory holds once they are applied.
   */
  private groups: ResolvedGroups | undefined;
  /** The directory group names the plan's memberships use. */
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
    // Sorted by path: where several IdP groups give one name (leaf naming), the first is the one a new directory group is.
    for (const g of [...idp.groups].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      const name = groupName(g.path, opts.naming)?.normalize('NFC'); // names are stored in NFC
      if (!name) continue;
      this.idpGroupName.set(g.id, name);
      for (const member of idp.members.get(g.id) ?? []) {
        const ids = this.groupIdsOf.get(member);
        if (!ids) this.groupIdsOf.set(member, [g.id]);
        else ids.push(g.id);
      }
    }
  }

  /**
   * The directory's groups, before the first page of users: every group's name (lower-cased) and
   * this connector's own, with the IdP group each one is. A group whose IdP group was renamed or
   * moved is renamed in place (its members, id and grants stay) unless its new name is held by
   * another group, when it keeps its name and members and the run says why. Without this call
   * (a single user's sync) groups are matched by name only.
   */
  directoryGroups(own: readonly DirectoryGroupState[], existing: ReadonlySet<string>): void {
    this.groups = resolveGroups(this.idpGroupName, own, existing);
  }

  /** A user's groups at the IdP, as sorted directory group names. */
  private groupsOf(idpUserId: string): string[] {
    const names = new Set<string>();
    for (const id of this.groupIdsOf.get(idpUserId) ?? []) names.add(this.groups?.nameOf.get(id) ?? this.idpGroupName.get(id)!);
    return [...names].sort();
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
      for (const g of this.groupsOf(u.id)) {
        plan.addMemberships.push({ externalId: u.id, group: g });
        this.usedGroups.add(g);
      }
    }
    this.unseen.clear();
    plan.update = orderRenames(plan.update);
    const groups = this.groups ?? resolveGroups(this.idpGroupName, [], existingGroups);
    // The IdP group a name is (the first by path of those that give it), for a group created or linked.
    const idpGroupOf = new Map<string, string>();
    for (const [id, name] of groups.nameOf) if (!idpGroupOf.has(name.toLowerCase())) idpGroupOf.set(name.toLowerCase(), id);
    plan.groupsToRename = groups.renames;
    plan.groupRenamesRefused = groups.refused;
    for (const name of [...this.usedGroups].sort()) {
      const externalId = idpGroupOf.get(name.toLowerCase());
      if (!externalId) continue;
      if (groups.unlinked.has(name.toLowerCase())) plan.groupsToLink.push({ name, externalId });
      else if (!groups.existingAfter.has(name.toLowerCase())) plan.groupsToCreate.push({ name, externalId });
    }
    if (notGrantable.size) {
      const refused = new Set<string>();
      plan.addMemberships = plan.addMemberships.filter((m) => {
        if (!notGrantable.has(m.group.toLowerCase())) return true;
        refused.add(m.group);
        return false;
      });
      plan.groupsRefused = [...refused].sort();
    }
    // Each membership's group as the IdP group it is: the connector's group that holds the name
    // once renamed, else the IdP group a new (or linked) group of that name is.
    const identities = new Map<string, { group: string; externalId: string }>();
    for (const m of [...plan.addMemberships, ...plan.removeMemberships]) {
      const key = m.group.toLowerCase();
      if (identities.has(key)) continue;
      const externalId = groups.ownIdOfName.get(key) ?? idpGroupOf.get(key);
      if (externalId) identities.set(key, { group: m.group, externalId });
    }
    plan.groupIdentities = [...identities.values()];
    return plan;
  }

  /**
   * A user's fields as the IdP has them; `leftOut`: the attributes over the property limits (one
   * user may edit their own attributes), reported in the plan and neither written nor removed.
   */
  private fieldsOf(u: IdpUser): UserFields & { leftOut?: Set<string> } {
    const properties: Properties = {};
    let leftOut: Set<string> | undefined;
    for (const a of new Set(this.opts.attributes)) {
      const v = propertyValue(u.attributes && Object.prototype.hasOwnProperty.call(u.attributes, a) ? u.attributes[a] : undefined);
      if (v === undefined) continue;
      const problem = propertyValueProblem(v);
      if (problem) {
        (this.plan.valuesRefused ??= []).push({
          externalId: u.id,
          username: u.username,
          field: `properties.${a}`,
          reason: `properties.${a}: ${problem}; left out`,
        });
        (leftOut ??= new Set()).add(a);
      } else properties[a] = v;
    }
    const fields = {
      externalId: u.id,
      username: u.username,
      email: u.email?.toLowerCase() ?? null,
      displayName: displayNameOf(u),
      active: u.enabled,
      properties,
    };
    return leftOut ? Object.defineProperty(fields, 'leftOut', { value: leftOut, enumerable: false }) : fields;
  }

  /** A user both sides hold. */
  private compare(u: IdpUser, current: DirectoryUserState): void {
    const { plan, opts } = this;
    const fields = this.fieldsOf(u);
    const leftOut = fields.leftOut;
    const changes: FieldChange[] = [];
    for (const f of ['username', 'email', 'displayName'] as const) {
      if ((current[f] ?? null) !== fields[f]) changes.push({ field: f, before: current[f] ?? null, after: fields[f] });
    }
    // Only the connector's own keys; a removal only when the IdP's attributes were read (a brief
    // representation has none, which says nothing about them).
    const removeProperties: string[] = [];
    for (const k of new Set(opts.attributes)) {
      if (leftOut?.has(k)) continue; // over the limits: the directory keeps what it has
      const have = Object.prototype.hasOwnProperty.call(current.properties, k) ? current.properties[k] : undefined;
      const want = Object.prototype.hasOwnProperty.call(fields.properties, k) ? fields.properties[k] : undefined;
      if (want === undefined) {
        if (have === undefined || !u.attributes) continue;
        removeProperties.push(k);
        changes.push({ field: `properties.${k}`, before: have, after: null });
      } else if (!samePropertyValue(have, want)) {
        changes.push({ field: `properties.${k}`, before: have ?? null, after: want });
      }
    }
    if (changes.length)
      plan.update.push({
        id: current.id,
        externalId: u.id,
        username: u.username,
        changes,
        fields: { ...fields, active: current.active, ...(removeProperties.length ? { removeProperties } : {}) },
      });

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
    const target = strip ? [] : this.groupsOf(u.id);
    // Group names are case-insensitive in the directory: a group renamed only in letter case at the
    // IdP is the same group, its members neither added nor removed.
    const joinedElsewhere = current.otherGroups?.length ? new Set(current.otherGroups.map((g) => g.toLowerCase())) : null;
    // The user's groups as they are named once the plan's group renames are applied (before memberships).
    const groupsNow = current.groups.map((g) => this.renamed(g));
    const joined = new Set(groupsNow.map((g) => g.toLowerCase()));
    const wanted = new Set(target.map((g) => g.toLowerCase()));
    for (const g of target) {
      if (!joined.has(g.toLowerCase()) && !joinedElsewhere?.has(g.toLowerCase())) plan.addMemberships.push({ externalId: u.id, group: g });
      this.usedGroups.add(g);
    }
    for (const g of groupsNow) if (!wanted.has(g.toLowerCase())) plan.removeMemberships.push({ externalId: u.id, group: g });
  }

  /** A group of this connector's name once the plan's group renames are applied. */
  private renamed(group: string): string {
    return this.groups?.renamedTo.get(group.toLowerCase()) ?? group;
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
    if (opts.stripGroupsOfVanished) for (const g of d.groups) plan.removeMemberships.push({ externalId, group: this.renamed(g) });
  }
}

interface ResolvedGroups {
  /** Each IdP group's directory name: its linked group's (renamed or not), else the name by the connector's naming. */
  nameOf: Map<string, string>;
  renames: GroupRename[];
  /** Lower-cased old name → new name, of the renames. */
  renamedTo: Map<string, string>;
  /** The directory's group names (lower-cased) once the renames are applied. */
  existingAfter: Set<string>;
  /** Lower-cased names of the connector's groups not linked to an IdP group yet (made before links). */
  unlinked: Set<string>;
  /** Lower-cased name (once renamed) → the IdP group id of each of the connector's linked groups. */
  ownIdOfName: Map<string, string>;
  /** Renames left out: another group holds the new name. */
  refused: (GroupRename & { reason: string })[];
}

/**
 * The directory's names for the IdP's groups. A linked group (its IdP group's id recorded) follows
 * its IdP group: renamed to the IdP group's name unless another group holds that name once the
 * other renames are applied (two renames may swap names), or another linked group is renamed to it
 * first (leaf naming gives several IdP groups one name); a refused rename keeps the group's name,
 * so its members stay where they are. A linked group whose IdP group is gone keeps its name.
 */
function resolveGroups(idpGroupName: ReadonlyMap<string, string>, own: readonly DirectoryGroupState[], existing: ReadonlySet<string>): ResolvedGroups {
  const linked = new Map<string, DirectoryGroupState>();
  for (const g of own) if (g.externalId) linked.set(g.externalId, { ...g, name: g.name.normalize('NFC') });
  const wanted: { externalId: string; from: string; to: string }[] = [];
  for (const [id, name] of idpGroupName) {
    const g = linked.get(id);
    if (g && g.name !== name) wanted.push({ externalId: id, from: g.name, to: name });
  }
  // Refuse renames into a held name until none is left: refusing one keeps its old name held.
  let accepted = wanted;
  for (;;) {
    const movesAway = new Set(accepted.filter((r) => r.from.toLowerCase() !== r.to.toLowerCase()).map((r) => r.from.toLowerCase()));
    const taken = new Set([...existing].filter((n) => !movesAway.has(n)));
    const next: typeof accepted = [];
    for (const r of accepted) {
      const to = r.to.toLowerCase();
      if (to === r.from.toLowerCase())
        next.push(r); // letter case only: its own name
      else if (!taken.has(to)) {
        taken.add(to);
        next.push(r);
      }
    }
    if (next.length === accepted.length) break;
    accepted = next;
  }
  const renamedTo = new Map(accepted.map((r) => [r.from.toLowerCase(), r.to]));
  const nameOf = new Map<string, string>();
  for (const [id, name] of idpGroupName) {
    const g = linked.get(id);
    nameOf.set(id, g ? (renamedTo.get(g.name.toLowerCase()) ?? g.name) : name);
  }
  const existingAfter = new Set(existing);
  for (const r of accepted) existingAfter.delete(r.from.toLowerCase());
  for (const r of accepted) existingAfter.add(r.to.toLowerCase());
  const unlinked = new Set(own.filter((g) => !g.externalId).map((g) => g.name.toLowerCase()));
  for (const r of accepted) unlinked.delete(r.to.toLowerCase());
  const ownIdOfName = new Map<string, string>();
  for (const g of own) if (g.externalId) ownIdOfName.set((renamedTo.get(g.name.toLowerCase()) ?? g.name).toLowerCase(), g.externalId);
  const refused = wanted
    .filter((r) => !accepted.includes(r))
    .map((r) => ({ ...r, reason: `another group is named ${r.to}; the group ${r.from} keeps its name` }));
  const byTo = (a: GroupRename, b: GroupRename) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0);
  return { nameOf, renames: accepted.sort(byTo), renamedTo, existingAfter, unlinked, ownIdOfName, refused: refused.sort(byTo) };
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
export function computeSyncPlan(
  idp: IdpSnapshot,
  directory: readonly DirectoryUserState[],
  existingGroups: ReadonlySet<string>,
  opts: SyncOptions,
  notGrantable?: ReadonlySet<string>,
  ownGroups?: readonly DirectoryGroupState[],
): SyncPlan {
  const planner = new SyncPlanner(idp, opts);
  if (ownGroups) planner.directoryGroups(ownGroups, existingGroups);
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
    return {
      hold: true,
      reason: `the run would disable or delete ${removals} of ${active} active users (${pct}%), more than the allowed ${opts.maxRemovalShare * 100}%`,
    };
  }
  // Keycloak that stops returning attributes (a profile policy, a permission) reads as "every
  // attribute was removed": the same share holds a run that would remove synced properties.
  const stripped = plan.update.filter((u) => u.fields.removeProperties?.length).length;
  if (active > 0 && stripped / active > opts.maxRemovalShare) {
    const pct = Math.round((stripped / active) * 1000) / 10;
    return {
      hold: true,
      reason: `the run would remove synced properties of ${stripped} of ${active} active users (${pct}%), more than the allowed ${opts.maxRemovalShare * 100}%`,
    };
  }
  return { hold: false };
}
