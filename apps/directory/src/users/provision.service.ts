import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { DirectoryRpc, DirectoryUser, LOCAL_SOURCE, PropertyValue, ProvisioningNotice, ProvisionUserReply, samePropertyValue } from '@bridgekeeper/contracts';
import { escapeHidden, nameKeys } from '@bridgekeeper/names';
import { Change, ChangeLog } from '../audit/change-log.service';
import { DirectoryChange, newGroupRecord, newUserRecord, UserRecord, userUpdate } from '../domain/change-set';
import { DirectoryWriter } from '../store/directory-writer';
import { acceptName, groupsNamedLike, looksLike, NameIndex, NamedLike, screenValues, usersNamedLike } from '../names/name-policy';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { SeatLimitError } from '../seats/seats.service';
import { accountNotClaimed, grantSet, groupRefused, groupUse, MAX_NOTICES, mayLinkAccount, mayUseAccount } from '../domain/ownership';
import { propertyValueOf, UserPropertyEntity } from './user-property.entity';
import { newUserId, UserEntity } from './user.entity';
import { isUniqueViolation } from './user.view';

type ProvisionRequest = ReturnType<typeof DirectoryRpc.provisionUser.request.parse>;
type ResolveRequest = ReturnType<typeof DirectoryRpc.resolveUser.request.parse>;
type ResolveReply = ReturnType<typeof DirectoryRpc.resolveUser.reply.parse>;

/** The reply's notices, each once, in a stable order; absent when there are none (most logins); capped. */
function withNotices(notices: ProvisioningNotice[]): { notices?: ProvisioningNotice[] } {
  if (!notices.length) return {};
  const once = new Map(notices.map((n) => [`${n.code}\u0000${n.name.toLowerCase()}`, n]));
  return { notices: [...once.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, n]) => n).slice(0, MAX_NOTICES) };
}

/**
 * A login's names by the name rules: the username and email in NFC, or the login is refused
 * (`name_refused`: its identity cannot be stored as asserted); asserted groups in NFC, those that
 * break the rules left out while the login goes on (a notice each, as for a group the IdP does
 * not own).
 */
function screenNames(req: ProvisionRequest): { req: ProvisionRequest; notices: ProvisioningNotice[] } | { refused: ProvisionUserReply } {
  const username = req.username === undefined ? undefined : acceptName(req.username, 'username', 'username');
  if (username && !username.ok) return { refused: { status: 'error', code: 'name_refused', message: username.reason } };
  const email = req.email === null ? null : acceptName(req.email, 'email', 'email');
  if (email && !email.ok) return { refused: { status: 'error', code: 'name_refused', message: email.reason } };
  // A value the directory cannot store as sent is left out, each with its notice; the login goes on.
  const values = screenValues(req.displayName, req.properties);
  const notices: ProvisioningNotice[] = values.refused.map((r) => ({ code: 'value_refused', name: r.field, reason: `not stored: ${r.reason}` }));
  const groups = (names: string[]) =>
    names.flatMap((name) => {
      const group = acceptName(name, 'group', 'group');
      if (group.ok) return [group.name];
      notices.push(nameRefused(name, group.reason));
      return [];
    });
  return {
    req: { ...req, username: username?.name, email: email?.name ?? null, displayName: values.displayName ?? null, properties: values.properties ?? {}, groups: groups(req.groups), newUserGroups: groups(req.newUserGroups) },
    notices,
  };
}

/**
 * What a known user keeps: the fields the login did not carry (an absent claim is not an empty
 * value), as the directory holds them.
 */
function keptFrom(req: ProvisionRequest, user: UserEntity): ProvisionRequest {
  const absent = new Set(req.absent);
  return {
    ...req,
    username: absent.has('username') ? user.username : req.username,
    email: absent.has('email') ? user.email : req.email,
    displayName: absent.has('displayName') ? user.displayName : req.displayName,
  };
}

/** The notice for an email address not stored because another account holds it (emails are unique). */
const emailTaken = (email: string, holder: UserEntity, created: boolean): ProvisioningNotice => ({
  code: 'email_taken',
  name: email.slice(0, 255),
  reason: `not stored: the account ${holder.username} holds this address (an email belongs to one account); ${created ? 'the new user has' : 'the user is left with'} no email until it is freed`.slice(0, 500),
});

/** The notice for an asserted group left out for its name (the name shown with its hidden characters as code points). */
const nameRefused = (name: string, reason: string): ProvisioningNotice => ({ code: 'name_refused', name: escapeHidden(name).slice(0, 255), reason: `not joined: ${reason}`.slice(0, 500) });

const sortedNames = (groups: Pick<GroupEntity, 'name' | 'nameLower'>[]) => [...groups].sort((a, b) => (a.nameLower < b.nameLower ? -1 : a.nameLower > b.nameLower ? 1 : 0)).map((g) => g.name);

/** When the login happened, as the caller says (its event's time), else now; never later than now (a clock ahead). */
const loginTime = (req: { loginAt?: string }): Date => {
  const now = new Date();
  return req.loginAt && Date.parse(req.loginAt) < now.getTime() ? new Date(req.loginAt) : now;
};

class DryRun extends Error {
  constructor(readonly reply: ProvisionUserReply) {
    super('dry run');
  }
}

export const toDirectoryUser = (u: UserRecord): DirectoryUser => ({
  id: u.id,
  username: u.username,
  email: u.email,
  displayName: u.displayName,
  active: u.active,
});

/**
 * The provisioning command behind a login (JIT): create or update the user the IdP names, and
 * make their memberships in the groups managed by the same source match what the IdP asserts.
 * A source changes only what it owns (./ownership): it joins local groups only where the admin
 * granted them (and never leaves them), another source's groups never; it links a local account
 * only where the admin allowed it, a protected one never. What it refuses while the login goes on
 * comes back as notices. One audited transaction.
 */
@Injectable()
export class ProvisionService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(ProvisionService.name);
  private readonly notes = new Set<Promise<void>>();

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly changes: ChangeLog,
    private readonly writer: DirectoryWriter,
  ) {}

  async provision(asserted: ProvisionRequest): Promise<ProvisionUserReply> {
    const screened = screenNames(asserted);
    if ('refused' in screened) return screened.refused;
    const { req, notices } = screened;
    if (!req.dryRun) {
      const unchanged = await this.unchangedLogin(req, notices);
      if (unchanged) return unchanged;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.changes.run(async (em, changes) => {
          const reply = await this.provisionIn(em, req, changes, notices);
          // A dry run computes it all in the transaction, then rolls it back.
          if (req.dryRun) throw new DryRun({ ...reply, ...(reply.status === 'provisioned' ? { changes: changes.map(({ action, targetType, before, after }) => ({ action, targetType, before: before ?? null, after: after ?? null })) } : {}) });
          return reply;
        });
      } catch (err) {
        if (err instanceof DryRun) return err.reply;
        // Two first logins of the same user at once: the loser retries and finds the winner's row.
        if (attempt < 3 && isUniqueViolation(err)) continue;
        if (err instanceof SeatLimitError) return { status: 'error', code: 'seat_limit', message: err.message };
        throw err;
      }
    }
  }

  /**
   * The repeat login that changes nothing (most logins): the user with their groups in one
   * statement (and the asserted properties beside it, when the mapping asserts any), without a
   * transaction; the answer goes out and the last-login time is noted right behind it. Anything
   * else — a new user, a changed field, group or property, a disabled user — returns undefined
   * and takes the full, audited, transactional path.
   */
  private async unchangedLogin(req: ProvisionRequest, screened: ProvisioningNotice[]): Promise<ProvisionUserReply | undefined> {
    const bySubject = { source: req.source, externalId: req.externalId };
    const keys = Object.keys(req.properties ?? {});
    const [{ entities, raw }, stored] = await Promise.all([
      this.db
        .createQueryBuilder(UserEntity, 'u')
        .leftJoin(MembershipEntity, 'm', 'm.user_id = u.id')
        .leftJoin(GroupEntity, 'g', 'g.id = m.group_id')
        .addSelect(['g.name', 'g.nameLower', 'g.source'])
        .where('u.source = :source AND u.external_id = :externalId', bySubject)
        .getRawAndEntities<{ g_name: string | null; g_name_lower: string; g_source: string }>(),
      keys.length
        ? this.db
            .createQueryBuilder(UserPropertyEntity, 'p')
            .innerJoin(UserEntity, 'u', 'u.id = p.user_id')
            .where('u.source = :source AND u.external_id = :externalId AND p.key IN (:...keys)', { ...bySubject, keys })
            .getMany()
        : [],
    ]);
    const user = entities[0];
    if (!user || !user.active) return undefined;
    const current = raw.filter((r) => r.g_name !== null).map((r) => ({ name: r.g_name!, nameLower: r.g_name_lower, source: r.g_source }));
    const kept = keptFrom(req, user);
    if (user.username !== kept.username || user.email !== kept.email || user.displayName !== kept.displayName) return undefined;
    const currentLower = new Set(current.map((g) => g.nameLower));
    const wanted = new Map(req.groups.map((n) => [n.toLowerCase(), n]));
    if (!req.absent.includes('groups') && current.some((g) => g.source === req.source && !wanted.has(g.nameLower))) return undefined;
    const values = new Map(stored.map((p) => [p.key, propertyValueOf(p)]));
    if (keys.some((k) => !samePropertyValue(values.get(k), req.properties![k]))) return undefined;
    // Asserted groups the user is not in: unchanged only if each exists and is not this source's to join.
    const missing = [...wanted].filter(([lower]) => !currentLower.has(lower));
    const notices = [...screened];
    if (missing.length) {
      const named = await groupsNamedLike(this.db.manager, missing.map(([, asserted]) => asserted));
      const granted = grantSet(req.grantLocalGroups);
      for (const [, asserted] of missing) {
        const { same: group, lookalike } = named.clash(asserted);
        if (!group && lookalike) {
          notices.push(nameRefused(asserted, looksLike('group', asserted, lookalike.name, 'group')));
          continue;
        }
        if (!group && !req.createMissingGroups) continue; // not created, nothing to join
        if (!group || groupUse(group, req.source, granted) !== 'refused') return undefined;
        notices.push(groupRefused(asserted, group));
      }
    }
    this.noteLogin(user.id, loginTime(req));
    return { status: 'provisioned', user: toDirectoryUser(user), groups: sortedNames(current), created: false, changed: false, ...withNotices(notices) };
  }

  /**
   * The last-login time is a note, not a change (no audit row, no event): it is written right
   * after the answer instead of before it, which keeps a durable commit off the login's path.
   * It never moves back, so a login noted twice (a redelivery) or late changes nothing.
   * Shutdown waits for the notes in flight.
   */
  private noteLogin(userId: string, at: Date): void {
    const write = this.writer
      .noteLogin(this.db.manager, userId, at)
      .then(() => undefined, (err: Error) => this.logger.warn(`could not note the last login of ${userId}: ${err.message}`))
      .finally(() => this.notes.delete(write));
    this.notes.add(write);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.notes);
  }

  /**
   * The lookup of the Manual and User Sync models: the user this login names, matched on the
   * IdP's subject, else on the username of an account of the same source (an admin created it for
   * this IdP, or User Sync did for its connector), or of a local account when the admin allowed
   * claiming; never a protected one (except for the directory's own sign-in, source `local`).
   * Nothing is created or changed; only the last-login time is noted (not on a dry run).
   */
  async resolve(req: ResolveRequest): Promise<ResolveReply> {
    const users = this.db.getRepository(UserEntity);
    let user = await users.findOneBy({ source: req.source, externalId: req.externalId });
    if (!user) {
      const byUsername = await users.findOneBy({ usernameLower: req.username.normalize('NFC').toLowerCase() });
      if (!byUsername) return { status: 'not_found' };
      const grants = { source: req.source, claimLocalUsers: req.claimLocalUsers };
      const use = req.subjectKeysUsers ? mayLinkAccount(byUsername, { ...grants, externalId: req.externalId }) : mayUseAccount(byUsername, grants);
      if (!use.ok) return { status: 'refused', code: 'account_not_owned', reason: use.reason };
      user = byUsername;
      // Linked at its first login: from now on the account is this subject's, and a later holder
      // of the same username at the IdP is another person.
      if (req.subjectKeysUsers && !user.externalId && !req.dryRun) user = await this.link(user, req);
    }
    if (!user.active) return { status: 'disabled', user: toDirectoryUser(user) };
    if (!req.dryRun) this.noteLogin(user.id, loginTime(req));
    const groups = await this.db
      .createQueryBuilder(GroupEntity, 'g')
      .innerJoin(MembershipEntity, 'm', 'm.group_id = g.id')
      .where('m.user_id = :id', { id: user.id })
      .orderBy('g.name_lower')
      .getMany();
    return { status: 'found', user: toDirectoryUser(user), groups: groups.map((g) => g.name), source: user.source, protected: user.protected };
  }

  /** Links an account found by username to the login's subject (and source, for a claimed local account), audited. */
  private async link(user: UserEntity, req: ResolveRequest): Promise<UserEntity> {
    return this.changes.run(async (em, changes) => {
      const set = { source: req.source, externalId: req.externalId };
      const now = new Date();
      // Only if nobody linked it meanwhile (two first logins at once): the loser is refused at its next try.
      const [linked] = await this.writer.apply(em, changes, `login:${req.source}`, [{ kind: 'user.update', user, set, onlyIfUnlinked: true }], now);
      if (!linked) return (await em.findOneBy(UserEntity, { id: user.id })) ?? user;
      return { ...userUpdate(user, set).after, updatedAt: now };
    });
  }

  private async provisionIn(em: EntityManager, asserted: ProvisionRequest, changes: Change[], screened: ProvisioningNotice[]): Promise<ProvisionUserReply> {
    const now = new Date();
    const loginAt = loginTime(asserted);
    const users = em.getRepository(UserEntity);
    const notices = [...screened];
    let user: UserRecord | null = await users.findOneBy({ source: asserted.source, externalId: asserted.externalId });
    // A known user keeps what the login did not carry; a new one needs a username (asserted or a fallback).
    const kept = user ? keptFrom(asserted, user) : asserted;
    if (kept.username === undefined) return { status: 'error', code: 'no_username', message: 'the login carries no username, and no user of this IdP has its subject' };
    const req = { ...kept, username: kept.username };
    // The users holding the login's username or a name that looks like it: looked up for a new
    // user (it replaces the lookup by name) and for a rename, never for a login that keeps its name.
    const named = !user || user.username !== req.username ? await usersNamedLike(em, [req.username]) : undefined;
    if (!user) {
      // Not known by its subject: an account without one may be linked (matchOn), if it is this
      // source's to link. Usernames are unique, so a name taken by an account it may not link
      // refuses the login.
      const grants = { source: req.source, externalId: req.externalId, claimLocalUsers: req.claimLocalUsers };
      const byName = named!.clash(req.username).same ?? null;
      // A username from a fallback (the email, a NameID) names a new user only: it never links an existing account.
      let match = req.matchOn.includes('username') && !asserted.absent.includes('username') ? byName : null;
      if (!match && req.matchOn.includes('email') && req.email) match = await users.findOneBy({ emailLower: req.email.toLowerCase() });
      if (match) {
        const use = mayLinkAccount(match, grants);
        if (use.ok) user = match;
        else if (match.id === byName?.id) return { status: 'error', code: 'account_not_owned', message: use.reason };
        else notices.push(accountNotClaimed(match, use.reason));
      }
      // Usernames are unique: a name taken by an account this login does not link refuses it.
      if (byName && byName.id !== user?.id) {
        const use = mayLinkAccount(byName, grants);
        return { status: 'error', code: 'account_not_owned', message: use.ok ? `${byName.username} is taken by another account, which the mapping's matchOn (${req.matchOn.join(', ') || 'none'}) does not link` : use.reason };
      }
    }
    // A name new to its user may not look like another user's: the login is refused, with both names in its trace.
    const lookalike = named?.clash(req.username, user?.id).lookalike;
    if (lookalike) return { status: 'error', code: 'name_refused', message: looksLike('username', req.username, lookalike.username, 'user') };
    // The address stays the user's own when it is unchanged (it is unique): no lookup then.
    const keepsEmail = !!user && !!req.email && user.emailLower === req.email.toLowerCase();
    const emailOwner = req.email && !keepsEmail ? await users.findOneBy({ emailLower: req.email.toLowerCase() }) : null;
    const email = emailOwner && emailOwner.id !== user?.id ? null : req.email;
    // Not silent: the trace and the user.provisioned event say whose address it is.
    // (Once: an account matched by this email and not linked has its account_not_claimed notice already.)
    const saidAlready = notices.some((n) => n.code === 'account_not_claimed' && n.name === emailOwner?.username);
    if (email === null && req.email && emailOwner && !saidAlready) notices.push(emailTaken(req.email, emailOwner, !user));
    let created = false;
    let changed = false;
    let account: UserRecord;
    if (!user) {
      account = newUserRecord({ id: newUserId(), username: req.username, email, displayName: req.displayName, source: req.source, externalId: req.externalId, lastLoginAt: loginAt }, now);
      await this.writer.apply(em, changes, req.actor, [{ kind: 'user.create', user: account }], now);
      created = changed = true;
    } else {
      if (!user.active) return { status: 'disabled', user: toDirectoryUser(user) };
      const set = { username: req.username, email, displayName: req.displayName, source: req.source, externalId: req.externalId, lastLoginAt: user.lastLoginAt && user.lastLoginAt > loginAt ? user.lastLoginAt : loginAt };
      const update = userUpdate(user, set);
      changed = update.profileChanged;
      await this.writer.apply(em, changes, req.actor, [{ kind: 'user.update', user, set }], now);
      account = Object.assign(user, update.after, changed ? { updatedAt: now } : {});
    }

    const memberOf = await this.syncManagedGroups(em, account, req, now, changes, notices);
    changed = memberOf.changed || changed;
    let groups = memberOf.groups;
    if (created && req.newUserGroups.length) {
      changed = (await this.joinDefaultGroups(em, account, req, now, changes, notices)) || changed;
      groups = await em
        .createQueryBuilder(GroupEntity, 'g')
        .innerJoin(MembershipEntity, 'm', 'm.group_id = g.id')
        .where('m.user_id = :id', { id: account.id })
        .getMany();
    }
    changed = (await this.upsertProperties(em, account, req.properties ?? {}, req.actor, changes)) || changed;

    return { status: 'provisioned', user: toDirectoryUser(account), groups: sortedNames(groups), created, changed, ...withNotices(notices) };
  }

  /**
   * Makes the memberships in this source's groups match the request, and joins the granted local
   * groups it asserts; any other group it asserts is not joined (a notice). Returns every group
   * the user is now in.
   */
  private async syncManagedGroups(em: EntityManager, user: UserRecord, req: ProvisionRequest, now: Date, changes: Change[], notices: ProvisioningNotice[]): Promise<{ changed: boolean; groups: GroupEntity[] }> {
    const wanted = new Map(req.groups.map((name) => [name.toLowerCase(), name]));
    // The asserted groups, and the groups whose names look like them (one query).
    const named = await groupsNamedLike(em, [...wanted.values()]);
    const existing = named.found.filter((g) => wanted.has(g.nameLower));
    const byLower = new Map<string, GroupEntity>();
    const granted = grantSet(req.grantLocalGroups);
    const refused = new Map<string, GroupEntity>();
    for (const g of existing) (groupUse(g, req.source, granted) === 'refused' ? refused : byLower).set(g.nameLower, g);
    const created = new NameIndex<string>();
    for (const [lower, name] of wanted) {
      if (byLower.has(lower) || refused.has(lower) || !req.createMissingGroups) continue;
      const group = await this.createGroup(em, name, req.source, { named, created }, req.actor, now, changes, notices);
      if (!group) continue;
      byLower.set(lower, group);
      // Not silent: the login's trace says the IdP now owns the name (no other source can join it).
      notices.push({ code: 'group_created', name, reason: `created, owned by ${req.source} from now on: no other IdP or connector can put its users in it` });
    }
    const current = await em
      .createQueryBuilder(GroupEntity, 'g')
      .innerJoin(MembershipEntity, 'm', 'm.group_id = g.id')
      .where('m.user_id = :id', { id: user.id })
      .getMany();
    const currentIds = new Set(current.map((g) => g.id));
    const add = [...byLower.values()].filter((g) => !currentIds.has(g.id));
    for (const [lower, g] of refused) if (!currentIds.has(g.id)) notices.push(groupRefused(wanted.get(lower)!, g));
    // Only memberships in groups this source manages are removed; local groups stay.
    // A login that did not carry the groups attribute leaves none (an absent claim is not an empty list).
    const remove = req.absent.includes('groups') ? [] : current.filter((g) => g.source === req.source && !wanted.has(g.nameLower));
    await this.writer.apply(
      em,
      changes,
      req.actor,
      [...add.map((g): DirectoryChange => ({ kind: 'membership.add', userId: user.id, groupId: g.id, group: g.name })), ...remove.map((g): DirectoryChange => ({ kind: 'membership.remove', userId: user.id, groupId: g.id, group: g.name }))],
      now,
    );
    const removed = new Set(remove.map((g) => g.id));
    return { changed: add.length + remove.length > 0, groups: [...current.filter((g) => !removed.has(g.id)), ...add] };
  }

  /**
   * Creates a group a login names, audited, unless its name looks like another group's or like
   * another new one of this login (a notice, nothing created).
   */
  private async createGroup(
    em: EntityManager,
    name: string,
    source: string,
    lookalikes: { named: NamedLike<GroupEntity>; created: NameIndex<string> },
    actor: string,
    now: Date,
    changes: Change[],
    notices: ProvisioningNotice[],
  ): Promise<GroupEntity | undefined> {
    const keys = nameKeys(name);
    const lookalike = lookalikes.named.clash(name).lookalike?.name ?? lookalikes.created.find(keys);
    if (lookalike !== undefined) {
      notices.push(nameRefused(name, looksLike('group', name, lookalike, 'group')));
      return undefined;
    }
    lookalikes.created.add(name, keys.folded, keys.shown);
    const group = newGroupRecord({ id: crypto.randomUUID(), name, source }, now);
    await this.writer.apply(em, changes, actor, [{ kind: 'group.create', group }], now);
    return group;
  }

  /**
   * A new user's default groups (the admin's own configuration): created as local groups when
   * missing, joined once when local or this source's own; another source's group never (a notice).
   */
  private async joinDefaultGroups(em: EntityManager, user: UserRecord, req: ProvisionRequest, now: Date, changes: Change[], notices: ProvisioningNotice[]): Promise<boolean> {
    const names = new Map(req.newUserGroups.map((n) => [n.toLowerCase(), n]));
    const named = await groupsNamedLike(em, [...names.values()]);
    const existing = named.found.filter((g) => names.has(g.nameLower));
    const byLower = new Map<string, GroupEntity>();
    for (const g of existing) {
      if (g.source === req.source || g.source === LOCAL_SOURCE) byLower.set(g.nameLower, g);
      else notices.push(groupRefused(names.get(g.nameLower)!, g));
    }
    const created = new NameIndex<string>();
    for (const [lower, name] of names) {
      if (byLower.has(lower) || existing.some((g) => g.nameLower === lower)) continue;
      const group = await this.createGroup(em, name, LOCAL_SOURCE, { named, created }, req.actor, now, changes, notices);
      if (group) byLower.set(lower, group);
    }
    const current = new Set((await em.findBy(MembershipEntity, { userId: user.id })).map((m) => m.groupId));
    const add = [...byLower.values()].filter((g) => !current.has(g.id));
    await this.writer.apply(em, changes, req.actor, add.map((g) => ({ kind: 'membership.add', userId: user.id, groupId: g.id, group: g.name })), now);
    return add.length > 0;
  }

  private async upsertProperties(em: EntityManager, user: UserRecord, props: Record<string, PropertyValue>, actor: string, changes: Change[]): Promise<boolean> {
    const keys = Object.keys(props);
    if (keys.length === 0) return false;
    const existing = new Map((await em.findBy(UserPropertyEntity, { userId: user.id, key: In(keys) })).map((p) => [p.key, propertyValueOf(p)]));
    // A list in another order is the same value (as User Sync compares).
    const changedKeys = keys.filter((k) => !samePropertyValue(existing.get(k), props[k]));
    if (changedKeys.length === 0) return false;
    await this.writer.apply(em, changes, actor, changedKeys.map((key) => ({ kind: 'property.set', userId: user.id, key, before: existing.get(key), value: props[key] })));
    return true;
  }
}
