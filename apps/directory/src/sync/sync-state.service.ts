import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, FindOperator, In, MoreThan, MoreThanOrEqual } from 'typeorm';
import { PropertyValue, SyncGroupsCommand, SyncGroupsReply, SyncStateCommand, SyncStateReply } from '@bridgekeeper/contracts';
import { NatsConnectionService } from '@bridgekeeper/messaging';
import { grantSet, groupUse } from '../domain/ownership';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { propertyValueOf, UserPropertyEntity } from '../users/user-property.entity';
import { UserEntity } from '../users/user.entity';
import { inChunks } from '@bridgekeeper/data';
import { GroupPageFiller, PageFiller, pageBudget, readStateCursor, StateRow, writeStateCursor } from './state-pages';

type GroupFacts = Pick<GroupEntity, 'id' | 'name' | 'nameLower' | 'source' | 'externalId'>;

/**
 * Users a page reads first: a page reads its users a slice at a time, each slice sized by the
 * rows the page took so far to what is left of its budget, so rows larger than usual cost no more
 * reading than the page sends (and a page never holds more than a slice beyond what it sends).
 */
const FIRST_SLICE = 100;
/** Groups a syncGroups page reads at a time (a group's entry is under 2 kB of JSON). */
const GROUP_SLICE = 5000;

/**
 * The directory's side of User Sync that reads: what it holds for a connector, in answers cut by
 * size (state-pages.ts) so that each fits the NATS server's max_payload. Writes nothing.
 */
@Injectable()
export class SyncStateService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly nats: NatsConnectionService,
  ) {}

  /**
   * A page of the connector's users (by id), each with its managed groups and properties; or,
   * with `externalIds`, of just those of its users (a changes run), the first page with the count
   * of its active users (what the run's safety share is measured against). Filled up to the byte
   * budget or `limit` users, whichever comes first; a user too large for a page comes in parts.
   */
  async state(req: SyncStateCommand): Promise<SyncStateReply> {
    const page = new PageFiller(pageBudget(this.nats.maxPayload()));
    const cursor = readStateCursor(req.cursor);
    /** The user the last page cut, read again from its first row on. */
    let resume = cursor && 'within' in cursor ? cursor : undefined;
    let after = cursor && 'after' in cursor ? cursor.after : undefined;
    const groupById = new Map<string, GroupFacts>();
    let taken = 0;
    let slice = Math.min(req.limit, FIRST_SLICE);
    for (;;) {
      const id: FindOperator<string> | undefined = resume ? MoreThanOrEqual(resume.within) : after ? MoreThan(after) : undefined;
      const users = await this.db.getRepository(UserEntity).find({
        where: { source: req.source, ...(req.externalIds ? { externalId: In(req.externalIds) } : {}), ...(id ? { id } : {}) },
        order: { id: 'ASC' },
        take: slice,
      });
      if (!users.length) break;
      for (const row of await this.rowsOf(req, users, groupById)) {
        if (!page.add(row, resume?.within === row.id ? resume.skip : 0)) break;
        taken++;
      }
      resume = undefined;
      if (page.full) break;
      after = users[users.length - 1].id;
      if (users.length < slice) break; // none left
      if (taken >= req.limit) {
        page.endAfter(after);
        break;
      }
      // As many more as the budget left would hold at the page's mean row so far (at least one).
      const mean = page.bytes / Math.max(1, page.rows.length);
      slice = Math.min(req.limit - taken, Math.max(1, Math.ceil((page.budget - page.bytes) / mean)));
    }
    const activeUsers = req.externalIds && !cursor ? await this.db.getRepository(UserEntity).countBy({ source: req.source, active: true }) : undefined;
    return { users: page.rows, ...(activeUsers !== undefined ? { activeUsers } : {}), nextCursor: page.next ? writeStateCursor(page.next) : null };
  }

  /**
   * A page of every group of the directory (by id), as the plan needs them: lower-cased names, the
   * connector's own groups, those it may not join. Filled up to the byte budget.
   */
  async groups(req: SyncGroupsCommand): Promise<SyncGroupsReply> {
    const page = new GroupPageFiller(pageBudget(this.nats.maxPayload()));
    // The plan joins only groups the connector may: its own, and the local ones an admin granted.
    const granted = grantSet(req.grantLocalGroups);
    let after = req.cursor;
    let nextCursor: string | null = null;
    for (;;) {
      const groups = await this.db.getRepository(GroupEntity).find({
        select: { id: true, name: true, nameLower: true, source: true, externalId: true },
        where: after ? { id: MoreThan(after) } : {},
        order: { id: 'ASC' },
        take: GROUP_SLICE,
      });
      const full = groups.findIndex((g) => !page.add(g, groupUse(g, req.source, granted)));
      if (full >= 0) {
        nextCursor = full > 0 ? groups[full - 1].id : after!;
        break;
      }
      if (groups.length < GROUP_SLICE) break;
      after = groups[groups.length - 1].id;
    }
    return { groupNames: page.groupNames, ownGroups: page.ownGroups, groupsNotGrantable: page.groupsNotGrantable, nextCursor };
  }

  /** Users' rows: their groups of this source and of others apart (each sorted), and every property. */
  private async rowsOf(req: SyncStateCommand, users: UserEntity[], groupById: Map<string, GroupFacts>): Promise<StateRow[]> {
    const groups = new Map<string, string[]>(users.map((u) => [u.id, []]));
    const otherGroups = new Map<string, string[]>(users.map((u) => [u.id, []]));
    // Prototype-less, so a property named like `__proto__` is kept as data.
    const props = new Map<string, Record<string, PropertyValue>>(users.map((u) => [u.id, Object.create(null) as Record<string, PropertyValue>]));
    // The users' memberships and properties by the page's user ids (the first column of each
    // table's primary key), one table at a time, joined here: the cost is these users' rows,
    // however large the tables. (A join in SQL, planned while the statistics still describe the
    // empty tables of before a first full sync, ran a nested loop over every group: 340 ms a page
    // at 100k instead of 6.) Not by a range of ids: user ids follow creation time, so a small
    // connector's page spans the ids of every other source's users created meanwhile, and a range
    // would read all their rows.
    const userIds = In(users.map((u) => u.id));
    const [memberships, properties] = await Promise.all([
      this.db.getRepository(MembershipEntity).find({ select: { userId: true, groupId: true }, where: { userId: userIds } }),
      this.db.getRepository(UserPropertyEntity).findBy({ userId: userIds }),
    ]);
    // Only the groups these memberships name (by primary key), each read once a page.
    const unknown = [...new Set(memberships.filter((m) => groups.has(m.userId) && !groupById.has(m.groupId)).map((m) => m.groupId))];
    await inChunks(unknown, 1000, async (ids) => {
      for (const g of await this.db
        .getRepository(GroupEntity)
        .find({ select: { id: true, name: true, nameLower: true, source: true, externalId: true }, where: { id: In(ids) } }))
        groupById.set(g.id, g);
    });
    // Groups of other sources are named apart: the plan joins them but never leaves them.
    for (const m of memberships) {
      const g = groupById.get(m.groupId);
      if (g) (g.source === req.source ? groups : otherGroups).get(m.userId)?.push(g.name);
    }
    for (const p of properties) {
      const own = props.get(p.userId);
      if (own) own[p.key] = propertyValueOf(p);
    }
    return users.map((u) => ({
      id: u.id,
      externalId: u.externalId,
      username: u.username,
      email: u.email,
      displayName: u.displayName,
      active: u.active,
      groups: groups.get(u.id)!.sort(),
      otherGroups: otherGroups.get(u.id)!.sort(),
      properties: props.get(u.id)!,
    }));
  }
}
