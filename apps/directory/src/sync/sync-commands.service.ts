import { ConflictException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { SyncApplyCommand, SyncApplyReply } from '@bridgekeeper/contracts';
import { Change, ChangeLog } from '../audit/change-log.service';
import {
  activeSwitches,
  addingUsers,
  deletions,
  membershipChanges,
  membershipKey,
  membershipLookups,
  planGroups,
  resolveMemberships,
} from '../domain/sync-batch';
import { DirectoryWriter } from '../store/directory-writer';
import { appliedCounts } from './applied-counts';
import { NameRefusal } from '../domain/names';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { SeatLimitError } from '../seats/seats.service';
import { UserEntity } from '../users/user.entity';
import { inChunks, isUniqueViolation } from '@bridgekeeper/data';
import { IdentityReport, UsersService } from '../users/users.service';

type ApplyRequest = SyncApplyCommand;
type ApplyReply = SyncApplyReply;

/** The directory's side of User Sync that writes: applying a plan's batches (what it holds for a connector is SyncStateService's). */
@Injectable()
export class SyncCommandsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly changes: ChangeLog,
    private readonly writer: DirectoryWriter,
    private readonly users: UsersService,
  ) {}

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

        const found = new Map<string, UserEntity>();
        await inChunks([...new Set(req.setActive.map((a) => a.id))], 500, async (ids) => {
          for (const u of await em.findBy(UserEntity, { id: In(ids), source })) found.set(u.id, u);
        });
        await this.writer.apply(em, changes, actor, activeSwitches(source, req.setActive, found), now);

        const doomed: UserEntity[] = [];
        await inChunks(req.delete, 500, async (ids) => {
          doomed.push(...(await em.findBy(UserEntity, { id: In(ids), source })));
        });
        await this.writer.apply(em, changes, actor, deletions(source, doomed), now);

        if (req.upsert.length) {
          await this.users.bulkUpsertIn(
            em,
            changes,
            req.upsert.map((u) => ({ ...u, source, externalId: u.externalId })),
            actor,
            { source, claimLocalUsers: req.claimLocalUsers },
            refused,
            identity,
          );
        }

        if (req.addMemberships.length || req.removeMemberships.length) {
          // Read what the memberships name, decide (pure), read the adding users' memberships, decide which adds are new.
          const wanted = membershipLookups(req);
          const userIds = new Map<string, string>();
          await inChunks(wanted.externalIds, 500, async (c) => {
            for (const u of await em.find(UserEntity, { select: { id: true, externalId: true }, where: { source, externalId: In(c) } }))
              userIds.set(u.externalId!, u.id);
          });
          const groupsByName = new Map<string, GroupEntity>();
          await inChunks(wanted.groupNames, 500, async (c) => {
            for (const g of await em.find(GroupEntity, {
              select: { id: true, name: true, nameLower: true, source: true, externalId: true },
              where: { nameLower: In(c) },
            }))
              groupsByName.set(g.nameLower, g);
          });
          const ownByIdpGroup = new Map<string, GroupEntity>();
          await inChunks(wanted.idpGroupIds, 500, async (c) => {
            for (const g of await em.find(GroupEntity, {
              select: { id: true, name: true, nameLower: true, source: true, externalId: true },
              where: { source, externalId: In(c) },
            }))
              ownByIdpGroup.set(g.externalId!, g);
          });
          const { adds, removes } = resolveMemberships(req, { userIds, groupsByName, ownByIdpGroup });
          const current = new Set<string>();
          await inChunks(addingUsers(adds), 500, async (c) => {
            for (const m of await em.findBy(MembershipEntity, { userId: In(c) })) current.add(membershipKey(m.userId, m.groupId));
          });
          await this.writer.apply(em, changes, actor, membershipChanges(adds, removes, current), now);
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
   * A batch's groups, in the batch's transaction (the rules: ../domain/sync-batch.ts planGroups):
   * every group's name and lookalike keys read once (to skip the existing ones, so a lookalike
   * costs no query), then parks, renames, links and creates written in that order. A parked name
   * starts with a control character no group's name may hold, so it collides with none.
   */
  private async applyGroups(em: EntityManager, changes: Change[], req: ApplyRequest, refused: NameRefusal[], now: Date): Promise<void> {
    const all = await em.find(GroupEntity, {
      select: { id: true, name: true, nameLower: true, nameSkeleton: true, nameSkeletonShown: true, source: true, externalId: true },
    });
    const plan = planGroups(req, all, now, () => crypto.randomUUID());
    refused.push(...plan.refused);
    await this.writer.apply(em, changes, req.actor, plan.changes, now);
  }
}
