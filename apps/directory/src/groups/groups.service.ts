import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { containsPattern, keysetPage } from '@bridgekeeper/data';
import { ChangeLog } from '../audit/change-log.service';
import { newGroupRecord } from '../domain/change-set';
import { groupsNamedLike, looksLike, nameOrBadRequest } from '../names/name-policy';
import { DirectoryWriter } from '../store/directory-writer';
import { UserEntity } from '../users/user.entity';
import { inChunks, isUniqueViolation } from '@bridgekeeper/data';
import { settledRace } from '../users/user.view';
import { BulkMemberships, CreateGroup, ListGroups, UpdateGroup } from './dto/groups.schemas';
import { GroupEntity } from './group.entity';
import { MembershipEntity } from './membership.entity';

const groupView = (g: GroupEntity) => ({
  id: g.id,
  name: g.name,
  description: g.description,
  source: g.source,
  externalId: g.externalId,
  createdAt: g.createdAt,
});

@Injectable()
export class GroupsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly changes: ChangeLog,
    private readonly writer: DirectoryWriter,
  ) {}

  list(q: ListGroups) {
    const qb = this.db.getRepository(GroupEntity).createQueryBuilder('g');
    if (q.source) qb.andWhere('g.source = :source', { source: q.source });
    if (q.q) qb.andWhere(`g.name_lower LIKE :like ESCAPE '\\'`, { like: containsPattern(q.q) });
    return keysetPage(qb, {
      ds: this.db,
      listing: 'directory.groups',
      alias: 'g',
      column: 'name_lower',
      property: 'nameLower',
      limit: q.limit,
      cursor: q.cursor,
      map: groupView,
    });
  }

  async get(id: string) {
    const group = await this.mustFind(this.db.manager, id);
    const members = await this.db.getRepository(MembershipEntity).countBy({ groupId: id });
    return { ...groupView(group), members };
  }

  create(dto: CreateGroup, actor: string) {
    return this.guardUnique(dto.name, () =>
      this.changes.run(async (em, changes) => {
        const name = nameOrBadRequest(dto.name, 'group', 'name');
        await this.assertFree(em, name);
        const group = newGroupRecord({ id: crypto.randomUUID(), ...dto, name }, new Date());
        await this.writer.apply(em, changes, actor, [{ kind: 'group.create', group }]);
        return groupView(group);
      }),
    );
  }

  update(id: string, patch: UpdateGroup, actor: string) {
    return this.guardUnique(patch.name ?? '', () =>
      this.changes.run(async (em, changes) => {
        const group = await this.mustFind(em, id);
        if (patch.name !== undefined) patch = { ...patch, name: nameOrBadRequest(patch.name, 'group', 'name') };
        if (patch.name !== undefined && patch.name !== group.name) await this.assertFree(em, patch.name, id);
        await this.writer.apply(em, changes, actor, [{ kind: 'group.update', group, set: patch }]);
        return groupView({ ...group, ...patch });
      }),
    );
  }

  remove(id: string, actor: string) {
    return this.changes.run(async (em, changes) => {
      const group = await this.mustFind(em, id);
      const members = await em.countBy(MembershipEntity, { groupId: id });
      await this.writer.apply(em, changes, actor, [{ kind: 'group.delete', group, members }]);
    });
  }

  /**
   * Adds and removes many memberships in one transaction: users and groups are checked in a few
   * IN queries (an unknown one fails the whole request and changes nothing), rows written in slices.
   */
  bulkMemberships(dto: BulkMemberships, actor: string) {
    return settledRace(() =>
      this.changes.run(async (em, changes) => {
        const all = [...dto.add, ...dto.remove];
        const userIds = [...new Set(all.map((m) => m.userId))];
        const groupIds = [...new Set(all.map((m) => m.groupId))];
        const knownUsers = new Set<string>();
        const knownGroups = new Map<string, string>();
        await inChunks(userIds, 500, async (c) =>
          (await em.find(UserEntity, { select: { id: true }, where: { id: In(c) } })).forEach((u) => knownUsers.add(u.id)),
        );
        await inChunks(groupIds, 500, async (c) =>
          (await em.find(GroupEntity, { select: { id: true, name: true }, where: { id: In(c) } })).forEach((g) => knownGroups.set(g.id, g.name)),
        );
        const problems = [
          ...dto.add.flatMap((m, i) => describeMissing('add', i, m, knownUsers, knownGroups)),
          ...dto.remove.flatMap((m, i) => describeMissing('remove', i, m, knownUsers, knownGroups)),
        ];
        if (problems.length) throw new BadRequestException(problems.slice(0, 50).join('; '));

        const existing = new Set<string>();
        await inChunks(userIds, 500, async (c) =>
          (await em.findBy(MembershipEntity, { userId: In(c) })).forEach((m) => existing.add(`${m.userId}:${m.groupId}`)),
        );
        const key = (m: { userId: string; groupId: string }) => `${m.userId}:${m.groupId}`;
        const adds = uniqueBy(dto.add, key).filter((m) => !existing.has(key(m)));
        const removes = uniqueBy(dto.remove, key).filter((m) => existing.has(key(m)));
        await this.writer.apply(em, changes, actor, [
          ...adds.map((m) => ({ kind: 'membership.add' as const, ...m, group: knownGroups.get(m.groupId) })),
          ...removes.map((m) => ({ kind: 'membership.remove' as const, ...m, group: knownGroups.get(m.groupId) })),
        ]);
        return { added: adds.length, removed: removes.length, unchanged: dto.add.length + dto.remove.length - adds.length - removes.length };
      }),
    );
  }

  private async mustFind(em: EntityManager, id: string): Promise<GroupEntity> {
    const group = /^[0-9a-f-]{36}$/i.test(id) ? await em.findOneBy(GroupEntity, { id }) : null;
    if (!group) throw new NotFoundException(`no group ${id}`);
    return group;
  }

  /** No other group holds the name (any case) or one that looks like it. */
  private async assertFree(em: EntityManager, name: string, self?: string): Promise<void> {
    const { same, lookalike } = (await groupsNamedLike(em, [name])).clash(name, self);
    if (same && same.id !== self) throw new ConflictException(`name: a group ${name} exists (case-insensitively)`);
    if (lookalike) throw new ConflictException(looksLike('name', name, lookalike.name, 'group'));
  }

  private async guardUnique<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictException(`name: a group ${name} exists, or one whose name looks like it`);
      throw err;
    }
  }
}

function describeMissing(list: string, i: number, m: { userId: string; groupId: string }, users: Set<string>, groups: Map<string, string>): string[] {
  const out: string[] = [];
  if (!users.has(m.userId)) out.push(`${list}.${i}.userId: no user ${m.userId}`);
  if (!groups.has(m.groupId)) out.push(`${list}.${i}.groupId: no group ${m.groupId}`);
  return out;
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) seen.set(key(item), item);
  return [...seen.values()];
}
