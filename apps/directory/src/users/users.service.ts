import { randomBytes } from 'node:crypto';
import { PropertyValue } from '@bridgekeeper/contracts';
import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager, In } from 'typeorm';
import { showName } from '@bridgekeeper/names';
import { containsPattern, keyset } from '@bridgekeeper/data';
import { Change, ChangeLog } from '../audit/change-log.service';
import {
  bulkAnswer,
  BulkItem,
  BulkRefused,
  BulkUserInput,
  externalKey,
  newNameLookalikes,
  ownAccount,
  planUpserts,
  propertyChanges,
  propertyOwners,
  refuseItems,
  screenItems,
} from '../domain/bulk-users';
import { newUserRecord, UserRecord, userUpdate } from '../domain/change-set';
import { decideIdentities, IdentityReport, releaseCandidates, releaseOf, renamesOf } from '../domain/identities';
import { DirectoryWriter } from '../store/directory-writer';
import { looksLike, NameIndex, NameRefusal, nameOrBadRequest, screenValues, usersNamedLike } from '../names/name-policy';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { BulkUpsertUsers, CreateUser, ListUsers, UpdateUser } from './dto/users.schemas';
import { propertyValueOf, UserPropertyEntity } from './user-property.entity';
import { SourceGrants } from '../domain/ownership';
import { newUserId, UserEntity } from './user.entity';
import { inChunks, isUniqueViolation } from '@bridgekeeper/data';
import { settledRace, userView } from './user.view';

// User Sync reads the report's type from here.
export type { IdentityReport } from '../domain/identities';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Users as admins see them: the Manual model's tools, and the reads every model needs. */
@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly changes: ChangeLog,
    private readonly writer: DirectoryWriter,
  ) {}

  /** The users listing, or (`directory.group-members`) the members of the group whose id `q.group` is. */
  async list(q: ListUsers, listing: 'directory.users' | 'directory.group-members' = 'directory.users') {
    const descending = q.sort.startsWith('-');
    const field = q.sort.replace('-', '') as 'username' | 'createdAt' | 'updatedAt';
    const column = { username: 'username_lower', createdAt: 'created_at', updatedAt: 'updated_at' }[field];
    const property = field === 'username' ? 'usernameLower' : field;
    // The cursor first: one of another listing or sort is a 400 before any query.
    const pages = await keyset<UserEntity>(this.db, { listing, alias: 'u', column, property, isDate: field !== 'username', descending }, q.cursor);
    const qb = this.db.getRepository(UserEntity).createQueryBuilder('u');
    if (q.status) qb.andWhere('u.active = :active', { active: q.status === 'active' });
    if (q.source) qb.andWhere('u.source = :source', { source: q.source });
    if (q.q) {
      const like = containsPattern(q.q);
      qb.andWhere(
        new Brackets((w) =>
          w
            .where(`u.username_lower LIKE :like ESCAPE '\\'`, { like })
            .orWhere(`u.email_lower LIKE :like ESCAPE '\\'`, { like })
            .orWhere(`LOWER(u.display_name) LIKE :like ESCAPE '\\'`, { like }),
        ),
      );
    }
    if (q.group) {
      // A group's members are asked for by the group's id; the users listing takes a name too.
      if (listing === 'directory.group-members' && !UUID.test(q.group)) throw new NotFoundException(`no group ${q.group}`);
      const group = await this.findGroup(this.db.manager, q.group);
      qb.innerJoin(MembershipEntity, 'm', 'm.user_id = u.id AND m.group_id = :gid', { gid: group.id });
    }
    return pages.page(qb, q.limit, userView);
  }

  async get(id: string) {
    const user = await this.mustFind(this.db.manager, id);
    return { ...userView(user), groups: await this.groupsOf(id), properties: await this.properties(id) };
  }

  create(dto: CreateUser, actor: string) {
    return this.guardUnique(() =>
      this.changes.run(async (em, changes) => {
        const username = nameOrBadRequest(dto.username, 'username', 'username');
        await this.assertFree(em, username, dto.email);
        const user = newUserRecord({ id: newUserId(), ...dto, username }, new Date());
        await this.writer.apply(em, changes, actor, [{ kind: 'user.create', user }]);
        return userView(user);
      }),
    );
  }

  update(id: string, patch: UpdateUser, actor: string) {
    return this.guardUnique(() =>
      this.changes.run(async (em, changes) => {
        const user = await this.mustFind(em, id);
        if (patch.protected && user.source !== 'local')
          throw new BadRequestException(`protected: only a local account can be protected; this one is ${user.source}'s`);
        if (patch.username !== undefined) patch = { ...patch, username: nameOrBadRequest(patch.username, 'username', 'username') };
        await this.assertFree(em, patch.username, patch.email, id);
        const { profileChanged, after } = userUpdate(user, patch);
        if (!profileChanged) return userView(user);
        const now = new Date();
        await this.writer.apply(em, changes, actor, [{ kind: 'user.update', user, set: patch }], now);
        return userView({ ...after, updatedAt: now });
      }),
    );
  }

  setActive(id: string, active: boolean, actor: string) {
    return this.changes.run(async (em, changes) => {
      const user = await this.mustFind(em, id);
      if (user.active === active) return userView(user);
      const now = new Date();
      await this.writer.apply(em, changes, actor, [{ kind: 'user.update', user, set: { active } }], now);
      return userView({ ...user, active, updatedAt: now });
    });
  }

  remove(id: string, actor: string) {
    return this.changes.run(async (em, changes) => {
      const user = await this.mustFind(em, id);
      const groups = await this.groupsOf(id, em);
      await this.writer.apply(em, changes, actor, [{ kind: 'user.delete', user, groups: groups.map((g) => g.name) }]);
    });
  }

  async groupsOf(id: string, em: EntityManager = this.db.manager) {
    const groups = await em
      .createQueryBuilder(GroupEntity, 'g')
      .innerJoin(MembershipEntity, 'm', 'm.group_id = g.id')
      .where('m.user_id = :id', { id })
      .orderBy('g.name_lower')
      .getMany();
    return groups.map((g) => ({ id: g.id, name: g.name, source: g.source }));
  }

  setGroups(id: string, groupIds: string[], actor: string) {
    return settledRace(() =>
      this.changes.run(async (em, changes) => {
        await this.mustFind(em, id);
        const wanted = [...new Set(groupIds)];
        const found = wanted.length ? await em.findBy(GroupEntity, { id: In(wanted) }) : [];
        const missing = wanted.filter((g) => !found.some((f) => f.id === g));
        if (missing.length) throw new BadRequestException(`groupIds: no group ${missing.join(', ')}`);
        const current = await em.findBy(MembershipEntity, { userId: id });
        const add = found.filter((g) => !current.some((m) => m.groupId === g.id));
        const remove = current.filter((m) => !wanted.includes(m.groupId));
        await this.writer.apply(em, changes, actor, [
          ...add.map((g) => ({ kind: 'membership.add' as const, userId: id, groupId: g.id, group: g.name })),
          ...remove.map((m) => ({ kind: 'membership.remove' as const, userId: id, groupId: m.groupId })),
        ]);
        return this.groupsOf(id, em);
      }),
    );
  }

  /** By key: one value a string, several a list. */
  async properties(id: string, em: EntityManager = this.db.manager): Promise<Record<string, PropertyValue>> {
    const rows = await em.find(UserPropertyEntity, { where: { userId: id }, order: { key: 'ASC' } });
    return Object.fromEntries(rows.map((p) => [p.key, propertyValueOf(p)]));
  }

  setProperty(id: string, key: string, value: PropertyValue, actor: string) {
    return this.changes.run(async (em, changes) => {
      await this.mustFind(em, id);
      const existing = await em.findOneBy(UserPropertyEntity, { userId: id, key });
      const before = existing ? propertyValueOf(existing) : undefined;
      // An admin's list is kept in the order given: a reordering is a change here.
      if (JSON.stringify(before) !== JSON.stringify(value))
        await this.writer.apply(em, changes, actor, [{ kind: 'property.set', userId: id, key, before, value }]);
      return this.properties(id, em);
    });
  }

  deleteProperty(id: string, key: string, actor: string) {
    return this.changes.run(async (em, changes) => {
      await this.mustFind(em, id);
      const existing = await em.findOneBy(UserPropertyEntity, { userId: id, key });
      if (!existing) throw new NotFoundException(`user ${id} has no property ${key}`);
      await this.writer.apply(em, changes, actor, [{ kind: 'property.remove', userId: id, key, before: propertyValueOf(existing) }]);
      return this.properties(id, em);
    });
  }

  /**
   * Creates or updates many users in one transaction (User Sync's bulk path): existing rows are
   * read in a few IN queries, new rows inserted in slices, and unchanged rows not written at all.
   */
  bulkUpsert(dto: BulkUpsertUsers, actor: string) {
    return this.guardUnique(() => this.changes.run((em, changes) => this.bulkUpsertIn(em, changes, dto.users, actor)));
  }

  /**
   * The bulk upsert inside a caller's transaction. User Sync applies it with its other changes and
   * names the connector's grants (`asSource`): then an existing account found by username is
   * changed only if the connector may use it (its own, a local one it may claim, never a
   * protected one). An admin's bulk may link any account, but never re-source a protected one.
   * Names follow the name rules and may not look like another user's (or another item's): an
   * item that breaks them fails the request (400, 409), or, given `refused` (User Sync), is left
   * out and listed there, so one bad name does not stop a run. The decisions are the rules'
   * (../domain/bulk-users.ts, ../domain/identities.ts); this reads what they need between steps
   * and hands their changes to the writer.
   */
  async bulkUpsertIn(
    em: EntityManager,
    changes: Change[],
    input: (BulkUpsertUsers['users'][number] & { removeProperties?: string[] })[],
    actor: string,
    asSource?: SourceGrants,
    refused?: NameRefusal[],
    identity?: IdentityReport,
  ) {
    try {
      return await this.upsertUsers(em, changes, input, actor, asSource, refused, identity);
    } catch (err) {
      if (err instanceof BulkRefused) throw err.status === 'invalid' ? new BadRequestException(err.message) : new ConflictException(err.message);
      throw err;
    }
  }

  private async upsertUsers(
    em: EntityManager,
    changes: Change[],
    input: BulkUserInput[],
    actor: string,
    asSource?: SourceGrants,
    refused?: NameRefusal[],
    identity?: IdentityReport,
  ) {
    const collect = !!refused;
    // User Sync: a value it cannot store as sent (a NUL, a lone surrogate, too long) is left out, alone.
    const screened = screenItems(input, { collect, screen: refused ? screenValues : undefined, distinctEmails: !asSource });
    refused?.push(...screened.refused);
    let accepted = screened.accepted;
    const byExternal = new Map<string, UserEntity>();
    const byUsername = new Map<string, UserEntity>();
    const externals = accepted.filter((u) => u.externalId).map((u) => u.externalId!);
    await inChunks(externals, 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, { externalId: In(chunk) })) byExternal.set(externalKey(u.source, u.externalId!), u);
    });
    await inChunks(
      accepted.map((u) => u.username.toLowerCase()),
      500,
      async (chunk) => {
        for (const u of await em.findBy(UserEntity, { usernameLower: In(chunk) })) byUsername.set(u.usernameLower, u);
      },
    );
    const ownOf = ownAccount(byExternal);
    if (asSource && identity) {
      const left = await this.settleIdentities(em, changes, actor, accepted, ownOf, byUsername, asSource, identity, refused);
      if (left.size) accepted = accepted.filter((item) => !left.has(item));
    }
    const named = newNameLookalikes(accepted, (item) => ownOf(item) || byUsername.get(item.username.toLowerCase()), collect);
    refused?.push(...named.refused);
    // The users whose names look like the new names, and those holding the addresses an admin's bulk sends.
    const byKey = new NameIndex<UserRecord>();
    await inChunks(
      [...named.keys.values()].flatMap((k) => [k.folded, k.shown]),
      500,
      async (chunk) => {
        for (const u of await em.findBy(UserEntity, [{ usernameSkeleton: In(chunk) }, { usernameSkeletonShown: In(chunk) }]))
          byKey.add(u, u.usernameSkeleton, u.usernameSkeletonShown);
      },
    );
    const byEmail = new Map<string, UserEntity>();
    await inChunks(screened.emails, 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, { emailLower: In(chunk) })) byEmail.set(u.emailLower!, u);
    });
    const now = new Date();
    const plan = planUpserts({ items: named.items, ownOf, byUsername, keys: named.keys, byKey, byEmail, asSource, collect, now, newId: newUserId });
    refused?.push(...plan.refused);
    const current: { userId: string; key: string; value: PropertyValue }[] = [];
    await inChunks(propertyOwners(plan.written), 500, async (chunk) => {
      for (const p of await em.findBy(UserPropertyEntity, { userId: In(chunk) })) current.push({ userId: p.userId, key: p.key, value: propertyValueOf(p) });
    });
    await this.writer.apply(em, changes, actor, [...plan.changes, ...propertyChanges(plan.written, current)], now);
    return bulkAnswer(plan.results);
  }

  /**
   * User Sync's identities before a batch's upserts (decideIdentities, ../domain/identities.ts):
   * read the accounts holding the items' emails and those whose names look like the renames' new
   * names, decide, then write: the names the batch's own users leave are parked, departed users'
   * names are released (renamed `<name>~<id end>`, their email cleared, audited). Items left out
   * are returned (refused for their name's look, or reported as conflicts). The accounts moved or
   * released are dropped from `byUsername`, so no upsert reuses them.
   */
  private async settleIdentities(
    em: EntityManager,
    changes: Change[],
    actor: string,
    items: BulkItem[],
    ownOf: (item: BulkItem) => UserEntity | undefined,
    byUsername: Map<string, UserEntity>,
    by: SourceGrants,
    report: IdentityReport,
    refused?: NameRefusal[],
  ): Promise<Set<BulkItem>> {
    const byEmail = new Map<string, UserEntity>();
    const emails = [...new Set(items.map((i) => i.email?.toLowerCase()).filter((e): e is string => !!e))];
    await inChunks(emails, 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, { emailLower: In(chunk) })) byEmail.set(u.emailLower!, u);
    });
    const renamedTo = renamesOf(items, ownOf);
    const byKey = new NameIndex<UserRecord>();
    await inChunks([...new Set([...renamedTo.values()].flatMap((k) => [k.folded, k.shown]))], 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, [{ usernameSkeleton: In(chunk) }, { usernameSkeletonShown: In(chunk) }]))
        byKey.add(u, u.usernameSkeleton, u.usernameSkeletonShown);
    });
    const decision = decideIdentities({ items, ownOf, byUsername, byEmail, byKey, by }, renamedTo);
    refused?.push(...refuseItems(decision.misnamed, !!refused, 'conflict'));
    report.conflicts.push(...decision.conflicts);

    const now = new Date();
    // Names this batch's users leave are parked (a space no username may hold), so any order of upserts works.
    await this.writer.apply(em, changes, actor, decision.parks, now);
    for (const release of decision.releases) {
      // Two pure steps around a read: the candidates by rule, then the first that nobody holds nor looks like (a query each).
      const to = release.name ? await this.freeReleasedName(em, release.holder) : undefined;
      const { change, released, after } = releaseOf(release, to, now);
      await this.writer.apply(em, changes, actor, [change], now);
      // The batch's upserts go on with the holder as it is now.
      Object.assign(release.holder, after);
      report.released.push(released);
    }
    for (const name of decision.vacated) byUsername.delete(name);
    return decision.left;
  }

  /** The first released name (releaseCandidates) that no user holds nor has a name like; anyone may hold the first two already. */
  private async freeReleasedName(em: EntityManager, holder: UserRecord): Promise<string> {
    for (const candidate of releaseCandidates(holder, () => randomBytes(4).toString('hex'))) {
      const { same, lookalike } = (await usersNamedLike(em, [candidate])).clash(candidate);
      if (!same && !lookalike) return candidate;
    }
    throw new ConflictException(`username: no free name to release ${showName(holder.username)} under`);
  }

  async findGroup(em: EntityManager, idOrName: string): Promise<GroupEntity> {
    const group = UUID.test(idOrName)
      ? await em.findOneBy(GroupEntity, { id: idOrName })
      : await em.findOneBy(GroupEntity, { nameLower: idOrName.toLowerCase() });
    if (!group) throw new NotFoundException(`no group ${idOrName}`);
    return group;
  }

  private async mustFind(em: EntityManager, id: string): Promise<UserEntity> {
    const user = UUID.test(id) ? await em.findOneBy(UserEntity, { id }) : null;
    if (!user) throw new NotFoundException(`no user ${id}`);
    return user;
  }

  private async assertFree(em: EntityManager, username?: string, email?: string | null, self?: string): Promise<void> {
    if (username) {
      const { same, lookalike } = (await usersNamedLike(em, [username])).clash(username, self);
      if (same && same.id !== self) throw new ConflictException(`username: ${username} is taken (case-insensitively)`);
      if (lookalike) throw new ConflictException(looksLike('username', username, lookalike.username, 'user'));
    }
    if (email) {
      const other = await em.findOneBy(UserEntity, { emailLower: email.toLowerCase() });
      if (other && other.id !== self) throw new ConflictException(`email: ${email} belongs to another user`);
    }
  }

  /** A unique-index race (two creates at once) ends as a clean 409, never a 500. */
  private async guardUnique<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictException('username or email: already taken by another user (or a name that looks like it)');
      throw err;
    }
  }
}

export type { Change };
