import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { PropertyValue, ProvisioningNotice, ProvisionUserReply, ResolveUserReply } from '@bridgekeeper/contracts';
import { Change, ChangeLog } from '../audit/change-log.service';
import { GroupRecord, userUpdate } from '../domain/change-set';
import {
  accountChanges,
  defaultGroupChanges,
  groupChanges,
  loginIdentity,
  loginTime,
  ProvisionRequest,
  propertyChanges,
  repeatLogin,
  ResolveRequest,
  resolveAccount,
  screenNames,
  sortedNames,
  toDirectoryUser,
  unchangedReply,
  withNotices,
} from '../domain/provisioning';
import { DirectoryWriter } from '../store/directory-writer';
import { groupsNamedLike, screenValues, usersNamedLike } from '../names/name-policy';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { SeatLimitError } from '../seats/seats.service';
import { propertyValueOf, UserPropertyEntity } from './user-property.entity';
import { newUserId, UserEntity } from './user.entity';
import { isUniqueViolation } from '@bridgekeeper/data';

type ResolveReply = ResolveUserReply;

class DryRun extends Error {
  constructor(readonly reply: ProvisionUserReply) {
    super('dry run');
  }
}

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
    const screened = screenNames(asserted, screenValues(asserted.displayName, asserted.properties));
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
          if (req.dryRun)
            throw new DryRun({
              ...reply,
              ...(reply.status === 'provisioned'
                ? { changes: changes.map(({ action, targetType, before, after }) => ({ action, targetType, before: before ?? null, after: after ?? null })) }
                : {}),
            });
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
   * and takes the full, audited, transactional path. The rules decide in two steps
   * (../domain/provisioning repeatLogin, unchangedReply): the asserted groups the user is not in
   * are read by name between them, only when there are any.
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
    const current = raw.filter((r) => r.g_name !== null).map((r) => ({ name: r.g_name!, nameLower: r.g_name_lower, source: r.g_source }));
    const repeat = repeatLogin(req, user, current, new Map(stored.map((p) => [p.key, propertyValueOf(p)])));
    if (!repeat) return undefined;
    const named = repeat.missing.length ? await groupsNamedLike(this.db.manager, repeat.missing) : undefined;
    const reply = unchangedReply(req, user, current, repeat.missing, named, screened);
    if (reply) this.noteLogin(user.id, loginTime(req, new Date()));
    return reply;
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
      .then(
        () => undefined,
        (err: Error) => this.logger.warn(`could not note the last login of ${userId}: ${err.message}`),
      )
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
      const use = resolveAccount(byUsername, req);
      if ('refused' in use) return use.refused;
      user = use.link ? await this.link(byUsername, req) : byUsername;
    }
    if (!user.active) return { status: 'disabled', user: toDirectoryUser(user) };
    if (!req.dryRun) this.noteLogin(user.id, loginTime(req, new Date()));
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

  /**
   * The full path, in the login's transaction: read what the rules need, let them decide
   * (../domain/provisioning), hand their changes to the writer in one go, answer. Which account the
   * login is decides whose memberships and properties to read, so the reads come in two rounds,
   * each followed by its pure step; a new user has no memberships or properties to read.
   */
  private async provisionIn(em: EntityManager, asserted: ProvisionRequest, changes: Change[], screened: ProvisioningNotice[]): Promise<ProvisionUserReply> {
    const now = new Date();
    const users = em.getRepository(UserEntity);
    const bySubject = await users.findOneBy({ source: asserted.source, externalId: asserted.externalId });
    const identity = loginIdentity(asserted, bySubject);
    if ('refused' in identity) return identity.refused;
    const { req, read } = identity;
    const usersNamed = read.usersNamed ? await usersNamedLike(em, [req.username]) : undefined;
    const emailHolder = read.emailHolder === null ? null : await users.findOneBy({ emailLower: read.emailHolder });
    const decided = accountChanges({ asserted, req, bySubject, usersNamed, emailHolder, notices: screened, now, newUserId });
    if ('reply' in decided) return decided.reply;
    const { account, created } = decided;

    const groupsNamed = await groupsNamedLike(em, req.groups);
    const current: GroupRecord[] = created ? [] : await this.groupsOf(em, account.id);
    const joinsDefaults = created && req.newUserGroups.length > 0;
    const defaultsNamed = joinsDefaults ? await groupsNamedLike(em, req.newUserGroups) : undefined;
    const props = req.properties ?? {};
    const stored = !created && Object.keys(props).length ? await this.propertiesOf(em, account.id, Object.keys(props)) : new Map<string, PropertyValue>();

    const facts = { req, userId: account.id, now, newGroupId: () => crypto.randomUUID() };
    const managed = groupChanges({ ...facts, named: groupsNamed, current, notices: decided.notices });
    const defaults = defaultsNamed
      ? defaultGroupChanges({ ...facts, named: defaultsNamed, current: managed.groups, createdBefore: managed.created, notices: managed.notices })
      : undefined;
    const properties = propertyChanges(account.id, props, stored);
    // In this order: the user before their memberships and properties, a group before its members.
    await this.writer.apply(em, changes, req.actor, [decided.change, ...managed.changes, ...(defaults?.changes ?? []), ...properties], now);

    const changed = decided.changed || managed.changed || !!defaults?.changed || properties.length > 0;
    const last = defaults ?? managed;
    return { status: 'provisioned', user: toDirectoryUser(account), groups: sortedNames(last.groups), created, changed, ...withNotices(last.notices) };
  }

  /** The groups a user is in. */
  private groupsOf(em: EntityManager, userId: string): Promise<GroupEntity[]> {
    return em.createQueryBuilder(GroupEntity, 'g').innerJoin(MembershipEntity, 'm', 'm.group_id = g.id').where('m.user_id = :id', { id: userId }).getMany();
  }

  /** A user's stored values of these properties. */
  private async propertiesOf(em: EntityManager, userId: string, keys: string[]): Promise<Map<string, PropertyValue>> {
    return new Map((await em.findBy(UserPropertyEntity, { userId, key: In(keys) })).map((p) => [p.key, propertyValueOf(p)]));
  }
}
