import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, QueryFailedError } from 'typeorm';
import { DirectoryRpc, DirectoryUser, ProvisionUserReply } from '@bridgekeeper/contracts';
import { runInTransaction } from '@bridgekeeper/platform';
import { AuditChange, AuditService } from '../audit/audit.service';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { UserPropertyEntity } from './user-property.entity';
import { UserEntity } from './user.entity';

type ProvisionRequest = ReturnType<typeof DirectoryRpc.provisionUser.request.parse>;

export class ProvisionConflictError extends Error {}

export const toDirectoryUser = (u: UserEntity): DirectoryUser => ({
  id: u.id,
  username: u.username,
  email: u.email,
  displayName: u.displayName,
  active: u.active,
});

@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  /**
   * Creates or updates the user a login or sync names, and makes their memberships in the
   * groups managed by the same source match what the IdP asserts. Groups from other sources
   * (local groups) are never touched. One transaction, with its audit rows.
   */
  async provision(req: ProvisionRequest): Promise<ProvisionUserReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runInTransaction(this.db, (em) => this.provisionIn(em, req));
      } catch (err) {
        // Two first logins of the same user at once: the loser retries and finds the winner's row.
        if (attempt < 3 && err instanceof QueryFailedError && /unique|duplicate/i.test(err.message)) continue;
        throw err;
      }
    }
  }

  private async provisionIn(em: EntityManager, req: ProvisionRequest): Promise<ProvisionUserReply> {
    const now = new Date();
    const changes: AuditChange[] = [];
    const users = em.getRepository(UserEntity);
    let user =
      (await users.findOneBy({ source: req.source, externalId: req.externalId })) ??
      (await users.findOneBy({ usernameLower: req.username.toLowerCase() }));
    if (user && user.externalId && (user.source !== req.source || user.externalId !== req.externalId)) {
      throw new ProvisionConflictError(
        `username ${req.username} already belongs to another account (source ${user.source}); it is not taken over`,
      );
    }
    let created = false;
    let changed = false;
    if (!user) {
      user = users.create({
        id: crypto.randomUUID(),
        username: req.username,
        usernameLower: req.username.toLowerCase(),
        email: req.email,
        displayName: req.displayName,
        active: true,
        source: req.source,
        externalId: req.externalId,
        lastLoginAt: now,
        createdAt: now,
        updatedAt: now,
      });
      await users.insert(user);
      created = changed = true;
      changes.push({ actor: req.actor, action: 'user.created', targetType: 'user', targetId: user.id, after: toDirectoryUser(user) });
    } else {
      if (!user.active) return { status: 'disabled', user: toDirectoryUser(user) };
      const before = toDirectoryUser(user);
      const next = { username: req.username, usernameLower: req.username.toLowerCase(), email: req.email, displayName: req.displayName, source: req.source, externalId: req.externalId };
      changed = (Object.keys(next) as (keyof typeof next)[]).some((k) => user![k] !== next[k]);
      Object.assign(user, next, { lastLoginAt: now }, changed ? { updatedAt: now } : {});
      await users.update({ id: user.id }, { ...next, lastLoginAt: now, updatedAt: user.updatedAt });
      if (changed) changes.push({ actor: req.actor, action: 'user.updated', targetType: 'user', targetId: user.id, before, after: toDirectoryUser(user) });
    }

    changed = (await this.syncManagedGroups(em, user, req, now, changes)) || changed;
    changed = (await this.upsertProperties(em, user, req.properties ?? {}, req.actor, changes)) || changed;
    await this.audit.record(em, changes);

    const groups = await em
      .createQueryBuilder(GroupEntity, 'g')
      .innerJoin(MembershipEntity, 'm', 'm.group_id = g.id')
      .where('m.user_id = :id', { id: user.id })
      .orderBy('g.name_lower')
      .getMany();
    return { status: 'provisioned', user: toDirectoryUser(user), groups: groups.map((g) => g.name), created, changed };
  }

  private async syncManagedGroups(em: EntityManager, user: UserEntity, req: ProvisionRequest, now: Date, changes: AuditChange[]): Promise<boolean> {
    const wanted = new Map(req.groups.map((name) => [name.toLowerCase(), name]));
    const existing = wanted.size ? await em.findBy(GroupEntity, { nameLower: In([...wanted.keys()]) }) : [];
    const byLower = new Map(existing.map((g) => [g.nameLower, g]));
    const toCreate = [...wanted].filter(([lower]) => !byLower.has(lower));
    for (const [lower, name] of toCreate) {
      const group = em.create(GroupEntity, { id: crypto.randomUUID(), name, nameLower: lower, description: null, source: req.source, createdAt: now });
      await em.insert(GroupEntity, group);
      byLower.set(lower, group);
      changes.push({ actor: req.actor, action: 'group.created', targetType: 'group', targetId: group.id, after: { name, source: req.source } });
    }
    const current = await em
      .createQueryBuilder(GroupEntity, 'g')
      .innerJoin(MembershipEntity, 'm', 'm.group_id = g.id')
      .where('m.user_id = :id', { id: user.id })
      .getMany();
    const currentIds = new Set(current.map((g) => g.id));
    const add = [...byLower.values()].filter((g) => !currentIds.has(g.id));
    // Only memberships in groups this source manages are removed; local groups stay.
    const remove = current.filter((g) => g.source === req.source && !wanted.has(g.nameLower));
    if (add.length) {
      await em.insert(MembershipEntity, add.map((g) => ({ userId: user.id, groupId: g.id, createdAt: now })));
      for (const g of add) changes.push({ actor: req.actor, action: 'membership.added', targetType: 'membership', targetId: user.id, after: { group: g.name } });
    }
    if (remove.length) {
      await em.delete(MembershipEntity, { userId: user.id, groupId: In(remove.map((g) => g.id)) });
      for (const g of remove) changes.push({ actor: req.actor, action: 'membership.removed', targetType: 'membership', targetId: user.id, before: { group: g.name } });
    }
    return add.length + remove.length > 0;
  }

  private async upsertProperties(em: EntityManager, user: UserEntity, props: Record<string, string>, actor: string, changes: AuditChange[]): Promise<boolean> {
    const keys = Object.keys(props);
    if (keys.length === 0) return false;
    const existing = new Map((await em.findBy(UserPropertyEntity, { userId: user.id, key: In(keys) })).map((p) => [p.key, p.value]));
    const changed = keys.filter((k) => existing.get(k) !== props[k]);
    if (changed.length === 0) return false;
    await em.upsert(UserPropertyEntity, changed.map((key) => ({ userId: user.id, key, value: props[key] })), ['userId', 'key']);
    changes.push({
      actor,
      action: 'user.properties.updated',
      targetType: 'property',
      targetId: user.id,
      before: Object.fromEntries(changed.map((k) => [k, existing.get(k) ?? null])),
      after: Object.fromEntries(changed.map((k) => [k, props[k]])),
    });
    return true;
  }
}
