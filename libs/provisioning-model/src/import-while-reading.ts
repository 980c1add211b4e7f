/**
 * The first run's writes while the IdP is still being read. A full run into a directory that
 * holds none of the connector's users cannot remove anyone (the safety hold guards against
 * removals, and there is nobody to remove), and every IdP user in scope is one it creates; with
 * everyone in scope (no required groups, whose member lists would decide it) a page of users is
 * enough to know whom. So each page's users are created as it arrives, and each group's members
 * are added once its member list has arrived, the member's creation is applied and the group
 * exists (a group is created on its own, before any of its memberships go). The plan made
 * after the read finds all that already there, equal, and adds what is left (members whose
 * creation was not applied in time, groups whose name another group also maps to). Pure: the
 * caller reads and writes.
 */
import { groupName } from './attribute-mapping';
import { IdpGroup, IdpUser, isCreated, SyncOptions, UserFields, userFields } from './sync-plan';

export interface MembershipAdd {
  externalId: string;
  group: string;
}

/** Memberships to send now, and groups to create first (their memberships wait for `groupsCreated`). */
export interface Release {
  send: MembershipAdd[];
  create: string[];
}

/** What was created while reading: users (how many, how many active, the first 200), memberships sent, and the groups created. */
export interface ImportCounts {
  users: number;
  active: number;
  sample: UserFields[];
  memberships: number;
  groups: string[];
}

export class ImportWhileReading {
  readonly counts: ImportCounts = { users: 0, active: 0, sample: [], memberships: 0, groups: [] };
  /** IdP users whose creation is applied. */
  private readonly created = new Set<string>();
  /** Members whose group's list has arrived, by IdP user id: the groups to add them to once created. */
  private readonly waiting = new Map<string, string[]>();
  /** Group names (lower-cased) taken by the path that met them first; another path with the same name is left to the plan. */
  private readonly pathOf = new Map<string, string>();
  /** Directory groups by lower-cased name: there (null), or being created with the memberships that wait for it. */
  private readonly groups = new Map<string, MembershipAdd[] | null>();

  private constructor(
    private readonly opts: Pick<SyncOptions, 'vanished' | 'attributes' | 'naming'>,
    existingGroups: Iterable<string>,
  ) {
    for (const g of existingGroups) this.groups.set(g.toLowerCase(), null);
  }

  /**
   * For a full run into a directory holding `directoryUsersOfConnector` of the connector's users
   * and these groups (names, any case); null when the run must wait for its plan.
   */
  static start(opts: Pick<SyncOptions, 'requiredGroups' | 'vanished' | 'attributes' | 'naming'>, directoryUsersOfConnector: number, existingGroups: Iterable<string>): ImportWhileReading | null {
    if (directoryUsersOfConnector > 0 || opts.requiredGroups.length > 0) return null;
    return new ImportWhileReading(opts, existingGroups);
  }

  /** A page of the IdP's users (each user once): the users to create, as the plan would create them. */
  users(page: readonly IdpUser[]): UserFields[] {
    const out: UserFields[] = [];
    for (const u of page) {
      if (!isCreated(u, this.opts)) continue;
      const fields = userFields(u, this.opts.attributes);
      out.push(fields);
      this.counts.users++;
      if (fields.active) this.counts.active++;
      if (this.counts.sample.length < 200) this.counts.sample.push(fields);
    }
    return out;
  }

  /** A group's whole member list (IdP user ids): what can go now. */
  members(group: IdpGroup, ids: readonly string[]): Release {
    const name = groupName(group.path, this.opts.naming);
    if (!name) return { send: [], create: [] };
    const taken = this.pathOf.get(name.toLowerCase());
    if (taken !== undefined && taken !== group.path) return { send: [], create: [] };
    this.pathOf.set(name.toLowerCase(), group.path);
    const ready: MembershipAdd[] = [];
    for (const id of ids) {
      if (this.created.has(id)) {
        ready.push({ externalId: id, group: name });
        continue;
      }
      const groups = this.waiting.get(id);
      if (groups) groups.push(name);
      else this.waiting.set(id, [name]);
    }
    return this.route(ready);
  }

  /** These users' creation is applied: what can go now. */
  applied(externalIds: readonly string[]): Release {
    const ready: MembershipAdd[] = [];
    for (const id of externalIds) {
      this.created.add(id);
      const groups = this.waiting.get(id);
      if (!groups) continue;
      this.waiting.delete(id);
      for (const group of groups) ready.push({ externalId: id, group });
    }
    return this.route(ready);
  }

  /** These groups' creation is applied: the memberships that waited for them. */
  groupsCreated(names: readonly string[]): MembershipAdd[] {
    const send: MembershipAdd[] = [];
    for (const name of names) {
      const held = this.groups.get(name.toLowerCase());
      this.groups.set(name.toLowerCase(), null);
      for (const m of held ?? []) send.push(m);
    }
    this.counts.memberships += send.length;
    return send;
  }

  /** Memberships whose users are created: those whose group exists go, the rest wait for their group, created first. */
  private route(ready: MembershipAdd[]): Release {
    const out: Release = { send: [], create: [] };
    for (const m of ready) {
      const lower = m.group.toLowerCase();
      const held = this.groups.get(lower);
      if (held === null) {
        out.send.push(m);
      } else if (held) {
        held.push(m);
      } else {
        this.groups.set(lower, [m]);
        out.create.push(m.group);
      }
    }
    this.counts.memberships += out.send.length;
    for (const g of out.create) this.counts.groups.push(g);
    return out;
  }
}
