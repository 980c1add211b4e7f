import { ConflictException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Between, DataSource, EntityManager, In, MoreThan } from 'typeorm';
import { DirectoryRpc, PropertyValue } from '@bridgekeeper/contracts';
import { nameKeys } from '@bridgekeeper/names';
import { Change, ChangeLog } from '../audit/change-log.service';
import { DirectoryChange, GroupRecord, newGroupRecord } from '../domain/change-set';
import { DirectoryWriter } from '../store/directory-writer';
import { appliedCounts } from './applied-counts';
import { acceptName, looksLike, NameIndex, NameRefusal } from '../names/name-policy';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { SeatLimitError } from '../seats/seats.service';
import { grantSet, groupUse } from '../domain/ownership';
import { propertyValueOf, UserPropertyEntity } from '../users/user-property.entity';
import { UserEntity } from '../users/user.entity';
import { inChunks, isUniqueViolation, userSnapshot } from '../users/user.view';
import { IdentityReport, UsersService } from '../users/users.service';

type StateRequest = ReturnType<typeof DirectoryRpc.syncState.request.parse>;
type ApplyRequest = ReturnType<typeof DirectoryRpc.syncApply.request.parse>;
type ApplyReply = ReturnType<typeof DirectoryRpc.syncApply.reply.parse>;

/** The directory's side of User Sync: what it holds for a connector, and applying a plan's batches. */
@Injectable()
export class SyncCommandsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly changes: ChangeLog,
    private readonly writer: DirectoryWriter,
    private readonly users: UsersService,
  ) {}

  /**
   * A page of the connector's users (by id), each with its managed groups and properties; or,
   * with `externalIds`, just those of its users (a changes run), with the count of its active
   * users (what the run's safety share is measured against).
   */
  async state(req: StateRequest) {
    const users = req.externalIds
      ? await this.db.getRepository(UserEntity).find({ where: { source: req.source, externalId: In(req.externalIds) }, order: { id: 'ASC' } })
      : await this.db.getRepository(UserEntity).find({
          where: { source: req.source, ...(req.cursor ? { id: MoreThan(req.cursor) } : {}) },
          order: { id: 'ASC' },
          take: req.limit,
        });
    const groups = new Map<string, string[]>(users.map((u) => [u.id, []]));
    const otherGroups = new Map<string, string[]>(users.map((u) => [u.id, []]));
    /** Every group (a page's memberships name any of them); on the first page also the names the plan checks against. */
    let allGroups: GroupEntity[] | undefined;
    // Prototype-less, so a property named like `__proto__` is kept as data.
    const props = new Map<string, Record<string, PropertyValue>>(users.map((u) => [u.id, Object.create(null) as Record<string, PropertyValue>]));
    if (users.length) {
      // A page's memberships and properties by a range of each table's primary key (the page's
      // first id to its last), one table at a time, joined here: the cost is the page's rows,
      // however large the tables. (A join in SQL, planned while the statistics still describe
      // the empty tables of before a first full sync, ran a nested loop over every group: 340 ms
      // a page at 100k instead of 6.) Rows of other sources' users inside the range are dropped.
      // Named users are scattered, so they are read by id.
      const userIds = req.externalIds ? In(users.map((u) => u.id)) : Between(users[0].id, users[users.length - 1].id);
      // Groups of other sources are named apart: the plan joins them but never leaves them.
      const [memberships, everyGroup, properties] = await Promise.all([
        this.db.getRepository(MembershipEntity).find({ select: { userId: true, groupId: true }, where: { userId: userIds } }),
        this.db.getRepository(GroupEntity).find({ select: { id: true, name: true, nameLower: true, source: true, externalId: true } }),
        this.db.getRepository(UserPropertyEntity).findBy({ userId: userIds }),
      ]);
      allGroups = everyGroup;
      const groupById = new Map(everyGroup.map((g) => [g.id, g]));
      for (const m of memberships) {
        const g = groupById.get(m.groupId);
        if (g) (g.source === req.source ? groups : otherGroups).get(m.userId)?.push(g.name);
      }
      for (const p of properties) {
        const own = props.get(p.userId);
        if (own) own[p.key] = propertyValueOf(p);
      }
    }
    const everyGroup = req.cursor ? undefined : (allGroups ?? (await this.db.getRepository(GroupEntity).find({ select: { id: true, name: true, nameLower: true, source: true, externalId: true } })));
    const groupNames = everyGroup?.map((g) => g.nameLower);
    // The plan joins only groups the connector may: its own, and the local ones an admin granted.
    const granted = grantSet(req.grantLocalGroups);
    const groupsNotGrantable = everyGroup?.filter((g) => groupUse(g, req.source, granted) === 'refused').map((g) => g.nameLower);
    const activeUsers = req.externalIds ? await this.db.getRepository(UserEntity).countBy({ source: req.source, active: true }) : undefined;
    return {
      users: users.map((u) => ({ ...userSnapshot(u), id: u.id, groups: groups.get(u.id)!.sort(), otherGroups: otherGroups.get(u.id)!.sort(), properties: props.get(u.id)! })),
      groupNames,
      ownGroups: everyGroup?.filter((g) => g.source === req.source).map((g) => ({ name: g.name, externalId: g.externalId })),
      groupsNotGrantable,
      activeUsers,
      nextCursor: !req.externalIds && users.length === req.limit ? users[users.length - 1].id : null,
    };
  }

  /**
   * One batch of a plan, in one transaction with its audit rows and events. The connector changes
   * only what it owns: it links an account found by username only if it may (its own, a local one
   * when claimLocalUsers, never a protected one: else the batch is refused), adds memberships only
   * in its own groups and the granted local ones, removes them only from its own. A user or group
   * whose name breaks the name rules or looks like another's is left out and listed in the reply
   * (`refused`), with the memberships that name it: one bad name does not stop the run. A user is
   * the IdP's id, never the name: a departed user's name wanted by a new user is released
   * (`released`), and a user whose name another active account holds is left out (`conflicts`).
   * Deactivations and deletions come first, so a departed user's name is free for the upserts.
   */
  async apply(req: ApplyRequest): Promise<ApplyReply> {
    try {
      const refused: NameRefusal[] = [];
      const identity: IdentityReport = { conflicts: [], released: [] };
      const { writes, counts } = await this.changes.run(async (em, changes) => {
        const now = new Date();
        const { actor, source } = req;
        refused.length = 0; // a retried transaction starts over
        identity.conflicts.length = 0;
        identity.released.length = 0;
        // Groups first, so memberships can name them: renames, links, then creates.
        await this.applyGroups(em, changes, req, refused, now);

        const switched: DirectoryChange[] = [];
        for (const a of req.setActive) {
          const u = await em.findOneBy(UserEntity, { id: a.id, source });
          if (u && u.active !== a.active) switched.push({ kind: 'user.update', user: u, set: { active: a.active } });
        }
        await this.writer.apply(em, changes, actor, switched, now);

        const doomed: DirectoryChange[] = [];
        await inChunks(req.delete, 500, async (ids) => {
          for (const user of await em.findBy(UserEntity, { id: In(ids), source })) doomed.push({ kind: 'user.delete', user });
        });
        await this.writer.apply(em, changes, actor, doomed, now);

        if (req.upsert.length) {
          await this.users.bulkUpsertIn(em, changes, req.upsert.map((u) => ({ ...u, source, externalId: u.externalId })), actor, { source, claimLocalUsers: req.claimLocalUsers }, refused, identity);
        }

        const moves = [...req.addMemberships, ...req.removeMemberships];
        if (moves.length) {
          const userIds = new Map<string, string>();
          await inChunks([...new Set(moves.map((m) => m.externalId))], 500, async (c) => {
            for (const u of await em.find(UserEntity, { select: { id: true, externalId: true }, where: { source, externalId: In(c) } })) userIds.set(u.externalId!, u.id);
          });
          const groups = new Map<string, GroupEntity>();
          // Group names as stored (NFC); a membership of a group left out for its name finds none.
          const lowerOf = (group: string) => group.normalize('NFC').toLowerCase();
          await inChunks([...new Set(moves.map((m) => lowerOf(m.group)))], 500, async (c) => {
            for (const g of await em.find(GroupEntity, { select: { id: true, name: true, nameLower: true, source: true, externalId: true }, where: { nameLower: In(c) } })) groups.set(g.nameLower, g);
          });
          // A membership's group that is an IdP group: the source's own group of it, whatever its
          // name now; if the source has none, a group of that name of another source (a granted
          // local one) or of its own not linked yet, never one of its own that is another IdP group.
          const idpGroupOf = new Map(req.groupIdentities.map((g) => [lowerOf(g.group), g.externalId]));
          const ownByIdp = new Map<string, GroupEntity>();
          await inChunks([...new Set(idpGroupOf.values())], 500, async (c) => {
            for (const g of await em.find(GroupEntity, { select: { id: true, name: true, nameLower: true, source: true, externalId: true }, where: { source, externalId: In(c) } })) ownByIdp.set(g.externalId!, g);
          });
          const groupOf = (name: string) => {
            const idpGroup = idpGroupOf.get(lowerOf(name));
            if (idpGroup === undefined) return groups.get(lowerOf(name));
            const byName = groups.get(lowerOf(name));
            return ownByIdp.get(idpGroup) ?? (byName && (byName.source !== source || byName.externalId === null) ? byName : undefined);
          };
          const granted = grantSet(req.grantLocalGroups);
          const resolve = (allowed: (use: ReturnType<typeof groupUse>) => boolean) => (m: { externalId: string; group: string }) => {
            const userId = userIds.get(m.externalId);
            const group = groupOf(m.group);
            return userId && group && allowed(groupUse(group, source, granted)) ? { userId, groupId: group.id, group: m.group } : null;
          };
          const adds = req.addMemberships.map(resolve((use) => use !== 'refused')).filter((m) => m !== null);
          const current = new Set<string>();
          await inChunks([...new Set(adds.map((a) => a.userId))], 500, async (c) => {
            for (const m of await em.findBy(MembershipEntity, { userId: In(c) })) current.add(`${m.userId}:${m.groupId}`);
          });
          const fresh = adds.filter((a) => !current.has(`${a.userId}:${a.groupId}`));
          const removes = req.removeMemberships.map(resolve((use) => use === 'own')).filter((m) => m !== null);
          await this.writer.apply(
            em,
            changes,
            actor,
            [...fresh.map((a): DirectoryChange => ({ kind: 'membership.add', ...a })), ...removes.map((r): DirectoryChange => ({ kind: 'membership.remove', ...r, ifPresent: true }))],
            now,
          );
        }
        // Every write is audited, one entry each: the batch's writes are its audit entries.
        return { writes: changes.length, counts: appliedCounts(changes, new Set(identity.released.map((r) => r.id))) };
      });
      return {
        status: 'applied',
        writes,
        counts,
        ...(refused.length ? { refused } : {}),
        ...(identity.conflicts.length ? { conflicts: identity.conflicts } : {}),
        ...(identity.released.length ? { released: identity.released } : {}),
      };
    } catch (err) {
      if (err instanceof SeatLimitError) return { status: 'error', code: 'seat_limit', message: err.message };
      if (err instanceof ConflictException || isUniqueViolation(err)) return { status: 'error', code: 'conflict', message: (err as Error).message };
      throw err;
    }
  }

  /**
   * A batch's groups, in the batch's transaction: the source's groups renamed in place (found by
   * IdP group id and only while named as planned; through a temporary name, so renames may swap
   * names), the source's unlinked groups linked to their IdP group, then new groups. A name that
   * breaks the name rules, is held by another group, or looks like another group's is left out
   * (`refused`): the group keeps its name, and a refused rename never frees the name it keeps.
   */
  private async applyGroups(em: EntityManager, changes: Change[], req: ApplyRequest, refused: NameRefusal[], now: Date): Promise<void> {
    const { actor, source } = req;
    // Every group's name and lookalike keys are read anyway (to skip the existing ones), so a lookalike costs no query.
    const all = await em.find(GroupEntity, { select: { id: true, name: true, nameLower: true, nameSkeleton: true, nameSkeletonShown: true, source: true, externalId: true } });
    const own = new Map(all.filter((g) => g.source === source && g.externalId).map((g) => [g.externalId!, g]));

    // Renames: the groups still named as planned, to names that follow the rules; then, until no
    // more are refused, those whose new name another group holds (or one that looks like it).
    type Rename = { group: GroupEntity; to: string; keys: ReturnType<typeof nameKeys> };
    let renames: Rename[] = [];
    for (const r of req.groupsToRename) {
      const group = own.get(r.externalId);
      const verdict = acceptName(r.to, 'group', 'group');
      if (!group || group.name !== r.from.normalize('NFC')) refused.push({ kind: 'group', name: r.to, reason: `group: the group ${r.from} of IdP group ${r.externalId} is not here under that name any more; the next run plans its rename afresh` });
      else if (!verdict.ok) refused.push({ kind: 'group', name: r.to, reason: verdict.reason });
      else if (verdict.name !== group.name) renames.push({ group, to: verdict.name, keys: nameKeys(verdict.name) });
    }
    for (;;) {
      const moving = new Set(renames.map((r) => r.group.id));
      const names = new Set(all.filter((g) => !moving.has(g.id)).map((g) => g.nameLower));
      const byKey = new NameIndex<string>();
      for (const g of all) if (!moving.has(g.id)) byKey.add(g.name, g.nameSkeleton, g.nameSkeletonShown);
      const kept: Rename[] = [];
      for (const r of renames) {
        const lookalike = byKey.find(r.keys);
        if (names.has(r.to.toLowerCase())) refused.push({ kind: 'group', name: r.to, reason: `group: another group is named ${r.to}; the group ${r.group.name} keeps its name` });
        else if (lookalike !== undefined) refused.push({ kind: 'group', name: r.to, reason: `${looksLike('group', r.to, lookalike, 'group')}; the group ${r.group.name} keeps its name` });
        else {
          names.add(r.to.toLowerCase());
          byKey.add(r.to, r.keys.folded, r.keys.shown);
          kept.push(r);
        }
      }
      if (kept.length === renames.length) break;
      renames = kept;
    }
    // Through a temporary name first, so no rename meets a name another one in the batch leaves.
    // A control character leads the temporary name: no group's name may hold one, so none collides.
    await this.writer.apply(em, changes, actor, [...renames.map((r): DirectoryChange => ({ kind: 'group.park', groupId: r.group.id })), ...renames.map((r): DirectoryChange => ({ kind: 'group.update', group: r.group, set: { name: r.to } }))], now);
    for (const r of renames) Object.assign(r.group, { name: r.to, nameLower: r.to.toLowerCase(), nameSkeleton: r.keys.folded, nameSkeletonShown: r.keys.shown });

    // Links: a group of this source without an IdP group, named as the IdP group (one link per IdP group).
    for (const l of req.groupsToLink) {
      if (own.has(l.externalId)) continue;
      const group = all.find((g) => g.source === source && !g.externalId && g.nameLower === l.name.normalize('NFC').toLowerCase());
      if (!group) continue;
      await this.writer.apply(em, changes, actor, [{ kind: 'group.update', group, set: { externalId: l.externalId }, onlyIfUnlinked: true }], now);
      group.externalId = l.externalId;
      own.set(l.externalId, group);
    }

    const existing = new Set(all.map((g) => g.nameLower));
    const byKey = new NameIndex<string>();
    for (const g of all) byKey.add(g.name, g.nameSkeleton, g.nameSkeletonShown);
    const groups: GroupRecord[] = [];
    const seen = new Set<string>();
    for (const asserted of req.groupsToCreate) {
      if (seen.has(asserted.name)) continue;
      seen.add(asserted.name);
      // The IdP group is here already, under another name (a single user's sync, before a run renames it).
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
      const group = newGroupRecord({ id: crypto.randomUUID(), name, source, externalId: asserted.externalId }, now);
      if (asserted.externalId) own.set(asserted.externalId, group);
      groups.push(group);
    }
    await this.writer.apply(em, changes, actor, groups.map((group) => ({ kind: 'group.create', group })), now);
  }
}
