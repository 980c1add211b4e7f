import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Between, DataSource, In, MoreThan } from 'typeorm';
import { PropertyValue, SyncStateCommand } from '@bridgekeeper/contracts';
import { grantSet, groupUse } from '../domain/ownership';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { propertyValueOf, UserPropertyEntity } from '../users/user-property.entity';
import { UserEntity } from '../users/user.entity';
import { userSnapshot } from '../users/user.view';

type StateRequest = SyncStateCommand;

/** The directory's side of User Sync that reads: what it holds for a connector. Writes nothing. */
@Injectable()
export class SyncStateService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

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
}
