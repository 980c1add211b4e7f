import { randomBytes } from 'node:crypto';
import { LOCAL_SOURCE, PropertyValue, samePropertyValue } from '@bridgekeeper/contracts';
import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager, In } from 'typeorm';
import { checkName, NameKeys, nameKeys, showName } from '@bridgekeeper/names';
import { containsPattern, keyset } from '@bridgekeeper/data';
import { Change, ChangeLog } from '../audit/change-log.service';
import { DirectoryChange, newUserRecord, userUpdate } from '../domain/change-set';
import { DirectoryWriter } from '../store/directory-writer';
import { acceptName, looksLike, NameIndex, NameRefusal, nameOrBadRequest, screenValues, usersNamedLike } from '../names/name-policy';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { BulkUpsertUsers, CreateUser, ListUsers, UpdateUser } from './dto/users.schemas';
import { propertyValueOf, UserPropertyEntity } from './user-property.entity';
import { claimName, mayUseAccount, NameClaim, releasedNames, SourceGrants } from '../domain/ownership';
import { newUserId, UserEntity } from './user.entity';
import { inChunks, isUniqueViolation, userView } from './user.view';

/**
 * What a User Sync batch decided about identities (see claimName): users left out because the
 * name or email they ask for is another account's, and departed users whose name (or email) was
 * released for a new user.
 */
export interface IdentityReport {
  conflicts: { externalId: string; username: string; reason: string }[];
  released: { id: string; externalId: string | null; from: string; to: string; emailReleased?: true }[];
}

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
        if (patch.protected && user.source !== 'local') throw new BadRequestException(`protected: only a local account can be protected; this one is ${user.source}'s`);
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
    return this.changes.run(async (em, changes) => {
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
    });
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
      if (JSON.stringify(before) !== JSON.stringify(value)) await this.writer.apply(em, changes, actor, [{ kind: 'property.set', userId: id, key, before, value }]);
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
   * out and listed there, so one bad name does not stop a run.
   */
  async bulkUpsertIn(em: EntityManager, changes: Change[], input: (BulkUpsertUsers['users'][number] & { removeProperties?: string[] })[], actor: string, asSource?: SourceGrants, refused?: NameRefusal[], identity?: IdentityReport) {
    const refuse = (item: { index: number; username: string; externalId?: string | null }, reason: string, status: 'invalid' | 'conflict') => {
      if (!refused) throw status === 'invalid' ? new BadRequestException(`users.${item.index}.${reason}`) : new ConflictException(`users.${item.index}.${reason}`);
      refused.push({ kind: 'user', name: item.username, ...(item.externalId ? { externalId: item.externalId } : {}), reason });
    };
    type Item = BulkUpsertUsers['users'][number] & { removeProperties?: string[]; index: number };
    const accepted: Item[] = [];
    for (const [index, raw] of input.entries()) {
      const username = acceptName(raw.username, 'username', 'username');
      const email = typeof raw.email === 'string' ? acceptName(raw.email, 'email', 'email') : undefined;
      if (!username.ok || (email && !email.ok)) {
        refuse({ ...raw, index }, !username.ok ? username.reason : (email as { reason: string }).reason, 'invalid');
        continue;
      }
      // User Sync: a value it cannot store as sent (a NUL, a lone surrogate, too long) is left out, alone.
      const values = refused ? screenValues(raw.displayName, raw.properties) : undefined;
      for (const r of values?.refused ?? []) refused!.push({ kind: 'value', name: r.field, ...(raw.externalId ? { externalId: raw.externalId } : {}), reason: `${r.field}: ${r.reason}; left out` });
      accepted.push({ ...raw, username: username.name, ...(email ? { email: email.name } : {}), ...(values ? { displayName: values.displayName, properties: values.properties } : {}), index });
    }
    const dupes = firstDuplicate(accepted.map((u) => u.username.toLowerCase()));
    if (dupes !== undefined) throw new BadRequestException(`users.${accepted[dupes].index}.username: appears twice in the request`);
    // An admin's bulk names the item whose address is another's (User Sync settles addresses with its identities).
    const withEmail = asSource ? [] : accepted.filter((u) => typeof u.email === 'string');
    const sameEmail = firstDuplicate(withEmail.map((u) => u.email!.toLowerCase()));
    if (sameEmail !== undefined) {
      const later = withEmail[sameEmail];
      const earlier = withEmail.find((u) => u.email!.toLowerCase() === later.email!.toLowerCase())!;
      throw new BadRequestException(`users.${later.index}.email: the same address as users.${earlier.index}.email`);
    }
    const byExternal = new Map<string, UserEntity>();
    const byUsername = new Map<string, UserEntity>();
    const externals = accepted.filter((u) => u.externalId).map((u) => u.externalId!);
    await inChunks(externals, 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, { externalId: In(chunk) })) byExternal.set(`${u.source}\u0000${u.externalId}`, u);
    });
    await inChunks(accepted.map((u) => u.username.toLowerCase()), 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, { usernameLower: In(chunk) })) byUsername.set(u.usernameLower, u);
    });
    const ownOf = (item: Item) => (item.externalId ? byExternal.get(`${item.source ?? LOCAL_SOURCE}\u0000${item.externalId}`) : undefined);
    if (asSource && identity) {
      const left = await this.settleIdentities(em, changes, actor, accepted, ownOf, byUsername, asSource, identity, (item, reason) => refuse(item, reason, 'conflict'));
      if (left.size) accepted.splice(0, accepted.length, ...accepted.filter((item) => !left.has(item)));
    }
    // A name new to its user (a new user, a rename) may look like no other user's, nor like another
    // new name of the request (the later one is refused, as it would be one by one). Only those
    // names are keyed and looked up: a run that renames nobody costs nothing more.
    const keys = new Map<Item, NameKeys>();
    const firstByKey = new NameIndex<Item>();
    const items = accepted.filter((item) => {
      const existing = ownOf(item) || byUsername.get(item.username.toLowerCase());
      if (existing && existing.username === item.username) return true;
      const key = nameKeys(item.username);
      const first = firstByKey.find(key);
      if (first) {
        refuse(item, `username: ${showName(item.username)} looks like users.${first.index}.username ${showName(first.username)} in the same request (Unicode TR 39 confusable)`, 'conflict');
        return false;
      }
      firstByKey.add(item, key.folded, key.shown);
      keys.set(item, key);
      return true;
    });
    const byKey = new NameIndex<UserEntity>();
    await inChunks([...keys.values()].flatMap((k) => [k.folded, k.shown]), 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, [{ usernameSkeleton: In(chunk) }, { usernameSkeletonShown: In(chunk) }])) byKey.add(u, u.usernameSkeleton, u.usernameSkeletonShown);
    });
    const byEmail = new Map<string, UserEntity>();
    await inChunks([...new Set(withEmail.map((u) => u.email!.toLowerCase()))], 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, { emailLower: In(chunk) })) byEmail.set(u.emailLower!, u);
    });
    const now = new Date();
    const creates: DirectoryChange[] = [];
    const updates: DirectoryChange[] = [];
    const results: { index: number; id: string; status: 'created' | 'updated' | 'unchanged' }[] = [];
    const written: { item: (typeof items)[number]; id: string }[] = [];
    for (const item of items) {
      const { index } = item;
      const own = ownOf(item);
      const existing = own || byUsername.get(item.username.toLowerCase());
      const key = keys.get(item);
      const lookalike = key && byKey.find(key, (u) => u.id === existing?.id);
      if (lookalike) {
        refuse(item, looksLike('username', item.username, lookalike.username, 'user'), 'conflict');
        continue;
      }
      const emailHolder = typeof item.email === 'string' ? byEmail.get(item.email.toLowerCase()) : undefined;
      if (emailHolder && emailHolder.id !== existing?.id) throw new ConflictException(`users.${index}.email: already used by another user`);
      if (existing && !own && asSource) {
        const use = mayUseAccount(existing, asSource);
        if (!use.ok) throw new ConflictException(`users.${index}.username: ${use.reason}`);
      }
      // Fields an item leaves out keep an existing user's values.
      const source = item.source ?? existing?.source ?? LOCAL_SOURCE;
      const externalId = item.externalId !== undefined ? item.externalId : (existing?.externalId ?? null);
      if (existing && existing.source !== source && existing.externalId && existing.externalId !== externalId) {
        throw new ConflictException(`users.${index}.username: ${item.username} belongs to another account (source ${existing.source})`);
      }
      if (existing?.protected && existing.source !== source) {
        throw new ConflictException(`users.${index}.username: ${item.username} is a protected account; it is not linked to ${source}`);
      }
      if (!existing) {
        const user = newUserRecord({ id: newUserId(), username: item.username, email: item.email ?? null, displayName: item.displayName ?? null, active: item.active ?? true, source, externalId, protected: item.protected ?? false }, now);
        creates.push({ kind: 'user.create', user });
        results.push({ index, id: user.id, status: 'created' });
        written.push({ item, id: user.id });
        continue;
      }
      written.push({ item, id: existing.id });
      const set = {
        username: item.username,
        email: item.email !== undefined ? item.email : existing.email,
        displayName: item.displayName !== undefined ? item.displayName : existing.displayName,
        source,
        externalId,
        ...(item.protected !== undefined ? { protected: item.protected } : {}),
        active: item.active ?? existing.active,
      };
      const { profileChanged, activeChanged } = userUpdate(existing, set);
      if (!profileChanged && !activeChanged) {
        results.push({ index, id: existing.id, status: 'unchanged' });
        continue;
      }
      // Disabling and enabling are their own changes (their events end or restore the user's sessions everywhere): the writer audits them apart.
      updates.push({ kind: 'user.update', user: existing, set });
      results.push({ index, id: existing.id, status: 'updated' });
    }
    // Properties: only values that differ are written (a no-change run writes nothing); a list in
    // another order is the same value. Removals (User Sync: the IdP no longer has an attribute the
    // connector owns) delete only what exists.
    const wanted = written.flatMap(({ item, id }) => Object.entries(item.properties ?? {}).map(([key, value]) => ({ userId: id, key, value })));
    const unset = written.flatMap(({ item, id }) => (item.removeProperties ?? []).filter((key) => !Object.prototype.hasOwnProperty.call(item.properties ?? {}, key)).map((key) => ({ userId: id, key })));
    const current = new Map<string, PropertyValue>();
    const inserted = new Set(creates.map((c) => (c.kind === 'user.create' ? c.user.id : '')));
    const known = [...new Set([...wanted, ...unset].map((p) => p.userId))].filter((id) => !inserted.has(id));
    await inChunks(known, 500, async (chunk) => {
      for (const p of await em.findBy(UserPropertyEntity, { userId: In(chunk) })) current.set(`${p.userId}\u0000${p.key}`, propertyValueOf(p));
    });
    const props: DirectoryChange[] = wanted
      .filter((p) => !samePropertyValue(current.get(`${p.userId}\u0000${p.key}`), p.value))
      .map((p) => ({ kind: 'property.set', ...p, before: current.get(`${p.userId}\u0000${p.key}`) }));
    const removals: DirectoryChange[] = unset.flatMap((p) => {
      const before = current.get(`${p.userId}\u0000${p.key}`);
      return before === undefined ? [] : [{ kind: 'property.remove' as const, ...p, before }];
    });
    await this.writer.apply(em, changes, actor, [...updates, ...creates, ...props, ...removals], now);
    const count = (s: string) => results.filter((r) => r.status === s).length;
    return { created: count('created'), updated: count('updated'), unchanged: count('unchanged'), users: results };
  }

  /**
   * User Sync's identities before a batch's upserts (a user is the IdP's id, never the name): an
   * item asking for a username or email another account holds is decided by claimName. Departed
   * users' names are released here (renamed `<name>~<id end>`, their email cleared, audited); an
   * item in conflict is left out (returned) and reported. Names the batch's own users leave
   * (renames, swaps, chains) are parked first, so the upserts can take them in any order. The
   * holders dealt with here are dropped from `byUsername`, so no upsert reuses their account.
   */
  private async settleIdentities<T extends { externalId?: string | null; username: string; email?: string | null }>(
    em: EntityManager,
    changes: Change[],
    actor: string,
    items: T[],
    ownOf: (item: T) => UserEntity | undefined,
    byUsername: Map<string, UserEntity>,
    by: SourceGrants,
    report: IdentityReport,
    refuseName: (item: T, reason: string) => void,
  ): Promise<Set<T>> {
    const byEmail = new Map<string, UserEntity>();
    const emails = [...new Set(items.map((i) => i.email?.toLowerCase()).filter((e): e is string => !!e))];
    await inChunks(emails, 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, { emailLower: In(chunk) })) byEmail.set(u.emailLower!, u);
    });
    const left = new Set<T>();
    // A rename to a name that looks like another's is refused by the name rules: decided here, before
    // any name is parked, so a refused rename never leaves its user's name parked.
    const renamedTo = new Map<T, NameKeys>();
    for (const item of items) {
      const own = ownOf(item);
      if (own && own.usernameLower !== item.username.toLowerCase()) renamedTo.set(item, nameKeys(item.username));
    }
    const byKey = new NameIndex<UserEntity>();
    await inChunks([...new Set([...renamedTo.values()].flatMap((k) => [k.folded, k.shown]))], 500, async (chunk) => {
      for (const u of await em.findBy(UserEntity, [{ usernameSkeleton: In(chunk) }, { usernameSkeletonShown: In(chunk) }])) byKey.add(u, u.usernameSkeleton, u.usernameSkeletonShown);
    });
    const misnamed = new Map<T, string>();
    let releases: { holder: UserEntity; name: boolean; email: boolean }[] = [];
    let moving: { own: UserEntity; name: boolean; email: boolean }[] = [];
    // Who leaves which name depends on who is left out, and back: settle until nothing changes.
    for (let settled = false; !settled; ) {
      settled = true;
      const vacated = { names: new Set<string>(), emails: new Set<string>() };
      moving = [];
      for (const item of items) {
        const own = ownOf(item);
        if (!own || left.has(item)) continue;
        const email = item.email === undefined ? own.emailLower : (item.email?.toLowerCase() ?? null);
        const name = own.usernameLower !== item.username.toLowerCase();
        const mail = !!own.emailLower && own.emailLower !== email;
        if (name) vacated.names.add(own.usernameLower);
        if (mail) vacated.emails.add(own.emailLower!);
        if (name || mail) moving.push({ own, name, email: mail });
      }
      const released = new Map<string, { holder: UserEntity; name: boolean; email: boolean }>();
      const firstByKey = new Map<string, T>();
      for (const [item, keys] of renamedTo) {
        if (left.has(item)) continue;
        const lower = item.username.toLowerCase();
        const other = byKey.find(keys, (u) => u.id === ownOf(item)?.id || u.usernameLower === lower || vacated.names.has(u.usernameLower));
        const first = firstByKey.get(keys.folded) ?? firstByKey.get(keys.shown);
        for (const key of [keys.folded, keys.shown]) if (!firstByKey.has(key)) firstByKey.set(key, item);
        const reason = first
          ? `username: ${showName(item.username)} looks like ${showName(first.username)} in the same request (Unicode TR 39 confusable)`
          : other
            ? looksLike('username', item.username, other.username, 'user')
            : undefined;
        if (reason) {
          misnamed.set(item, reason);
          left.add(item);
          settled = false;
        }
      }
      for (const item of items) {
        if (!item.externalId || left.has(item)) continue;
        const own = ownOf(item);
        const facts = { ...by, externalId: item.externalId, hasAccount: !!own };
        const nameHolder = byUsername.get(item.username.toLowerCase());
        const claims: { holder: UserEntity; field: 'username' | 'email'; claim: NameClaim }[] = [];
        if (nameHolder && nameHolder.id !== own?.id && !vacated.names.has(nameHolder.usernameLower)) claims.push({ holder: nameHolder, field: 'username', claim: claimName(nameHolder, { ...facts, field: 'username' }) });
        const linked = claims.find((c) => c.claim.kind === 'link')?.holder;
        const emailHolder = item.email ? byEmail.get(item.email.toLowerCase()) : undefined;
        if (emailHolder && emailHolder.id !== own?.id && emailHolder.id !== linked?.id && !vacated.emails.has(emailHolder.emailLower!)) {
          claims.push({ holder: emailHolder, field: 'email', claim: claimName(emailHolder, { ...facts, field: 'email' }) });
        }
        const conflict = claims.find((c) => c.claim.kind === 'conflict');
        if (conflict) {
          left.add(item);
          settled = false;
          continue;
        }
        for (const c of claims.filter((x) => x.claim.kind === 'release')) {
          const r = released.get(c.holder.id) ?? { holder: c.holder, name: false, email: false };
          r[c.field === 'username' ? 'name' : 'email'] = true;
          released.set(c.holder.id, r);
        }
      }
      releases = [...released.values()];
    }
    for (const item of left) {
      const misnamedBecause = misnamed.get(item);
      if (misnamedBecause) {
        refuseName(item, misnamedBecause);
        continue;
      }
      const own = ownOf(item);
      const nameHolder = byUsername.get(item.username.toLowerCase());
      const emailHolder = item.email ? byEmail.get(item.email.toLowerCase()) : undefined;
      const facts = { ...by, externalId: item.externalId!, hasAccount: !!own };
      const why = [nameHolder && nameHolder.id !== own?.id ? claimName(nameHolder, { ...facts, field: 'username' }) : undefined, emailHolder && emailHolder.id !== own?.id ? claimName(emailHolder, { ...facts, field: 'email' }) : undefined].find(
        (c) => c?.kind === 'conflict',
      );
      report.conflicts.push({ externalId: item.externalId!, username: item.username, reason: why?.kind === 'conflict' ? why.reason : 'username: its name is held by a user whose own rename is left out' });
    }

    const now = new Date();
    // Names this batch's users leave are parked (a space no username may hold), so any order of upserts works.
    await this.writer.apply(em, changes, actor, moving.map(({ own, name, email }) => ({ kind: 'user.park', userId: own.id, name, email })), now);
    for (const { holder, name, email } of releases) {
      const from = holder.username;
      let to = holder.username;
      if (name) {
        // The first free name that follows the name rules (anyone may hold the first two already).
        let free: string | undefined;
        for (const candidate of releasedNames(holder.username, holder.id, () => randomBytes(4).toString('hex'))) {
          if (!checkName(candidate, 'username').ok) continue;
          const { same, lookalike } = (await usersNamedLike(em, [candidate])).clash(candidate);
          if (!same && !lookalike) {
            free = candidate;
            break;
          }
        }
        if (!free) throw new ConflictException(`username: no free name to release ${showName(holder.username)} under`);
        to = free;
        byUsername.delete(holder.usernameLower);
      }
      const set = { ...(name ? { username: to } : {}), ...(email ? { email: null } : {}) };
      const reason = `released for a new user of ${holder.source}: a user is the IdP's id, never the name`;
      await this.writer.apply(em, changes, actor, [{ kind: 'user.update', user: holder, set, reason }], now);
      // The batch's upserts go on with the holder as it is now.
      Object.assign(holder, userUpdate(holder, set).after, { updatedAt: now });
      report.released.push({ id: holder.id, externalId: holder.externalId, from, to, ...(email ? { emailReleased: true as const } : {}) });
    }
    for (const { own, name } of moving) if (name) byUsername.delete(own.usernameLower);
    return left;
  }

  async findGroup(em: EntityManager, idOrName: string): Promise<GroupEntity> {
    const group = UUID.test(idOrName) ? await em.findOneBy(GroupEntity, { id: idOrName }) : await em.findOneBy(GroupEntity, { nameLower: idOrName.toLowerCase() });
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

function firstDuplicate(values: string[]): number | undefined {
  const seen = new Set<string>();
  for (const [i, v] of values.entries()) {
    if (seen.has(v)) return i;
    seen.add(v);
  }
  return undefined;
}

export type { Change };
