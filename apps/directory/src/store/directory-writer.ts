import { Injectable } from '@nestjs/common';
import { EntityManager, In, IsNull } from 'typeorm';
import { inChunks, insertMany } from '@bridgekeeper/data';
import { activations, auditEntries, Change, DirectoryChange, groupColumns, userColumns, userUpdate } from '../domain/change-set';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { SeatsService } from '../seats/seats.service';
import { propertyRow, UserPropertyEntity } from '../users/user-property.entity';
import { UserEntity } from '../users/user.entity';

type Of<K extends DirectoryChange['kind']> = Extract<DirectoryChange, { kind: K }>;

/**
 * The one writer of users, groups, memberships and properties. A caller hands it the changes its
 * rules decided (../domain/change-set.ts) inside a ChangeLog transaction; it claims the licence
 * seats they take, writes them in the order given (runs of the same kind in few statements), and
 * adds each one's audit entry to the transaction's log, from which the ChangeLog writes the audit
 * rows and the events. Nothing else writes those tables: the module's lint rule says so.
 */
@Injectable()
export class DirectoryWriter {
  constructor(private readonly seats: SeatsService) {}

  /** Applies `changes` in order (`now`: the time of the change, as the caller shows it); the answer says, per change, whether it was applied (a conditional one may find nothing to do). */
  async apply(em: EntityManager, log: Change[], actor: string, changes: readonly DirectoryChange[], now = new Date()): Promise<boolean[]> {
    await this.seats.claim(em, activations(changes));
    const applied: boolean[] = [];
    for (let i = 0; i < changes.length;) {
      // A run of changes of one kind, written together.
      let end = i + 1;
      while (end < changes.length && changes[end].kind === changes[i].kind) end++;
      const run = changes.slice(i, end);
      const done = await this.write(em, run, now);
      run.forEach((c, j) => {
        applied.push(done[j]);
        log.push(...auditEntries(c, actor, done[j]));
      });
      i = end;
    }
    return applied;
  }

  /**
   * The last-login time: a note, not a change (no audit entry, no event), written outside any
   * transaction. It never moves back, so a login noted twice (a redelivery) or late changes nothing.
   */
  async noteLogin(em: EntityManager, userId: string, at: Date): Promise<void> {
    await em
      .createQueryBuilder()
      .update(UserEntity)
      .set({ lastLoginAt: at })
      .where('id = :userId AND (last_login_at IS NULL OR last_login_at < :at)', { userId, at })
      .execute();
  }

  private async write(em: EntityManager, run: DirectoryChange[], now: Date): Promise<boolean[]> {
    const all = () => run.map(() => true);
    switch (run[0].kind) {
      case 'user.create':
        await insertMany(
          em,
          UserEntity,
          (run as Of<'user.create'>[]).map((c) => ({ ...c.user })),
        );
        return all();
      case 'user.update':
        return this.updateUsers(em, run as Of<'user.update'>[], now);
      case 'user.park':
        for (const c of run as Of<'user.park'>[]) {
          await em.update(
            UserEntity,
            { id: c.userId },
            {
              ...(c.name ? { usernameLower: `moving ${c.userId}`, usernameSkeleton: null, usernameSkeletonShown: null } : {}),
              ...(c.email ? { emailLower: null } : {}),
            },
          );
        }
        return all();
      case 'user.delete':
        await inChunks(run as Of<'user.delete'>[], 500, async (chunk) => {
          const ids = In(chunk.map((c) => c.user.id));
          await em.delete(MembershipEntity, { userId: ids });
          await em.delete(UserPropertyEntity, { userId: ids });
          await em.delete(UserEntity, { id: ids });
        });
        return all();
      case 'group.create':
        await insertMany(
          em,
          GroupEntity,
          (run as Of<'group.create'>[]).map((c) => ({ ...c.group })),
        );
        return all();
      case 'group.update': {
        const done: boolean[] = [];
        for (const c of run as Of<'group.update'>[]) {
          const columns = { ...c.set, ...groupColumns(c.group, c.set) };
          const res = await em.update(GroupEntity, c.onlyIfUnlinked ? { id: c.group.id, externalId: IsNull() } : { id: c.group.id }, columns);
          done.push(!c.onlyIfUnlinked || !!res.affected);
        }
        return done;
      }
      case 'group.park':
        for (const c of run as Of<'group.park'>[]) {
          await em.update(
            GroupEntity,
            { id: c.groupId },
            { name: `\u0001${c.groupId}`, nameLower: `\u0001${c.groupId}`, nameSkeleton: null, nameSkeletonShown: null },
          );
        }
        return all();
      case 'group.delete':
        for (const c of run as Of<'group.delete'>[]) {
          await em.delete(MembershipEntity, { groupId: c.group.id });
          await em.delete(GroupEntity, { id: c.group.id });
        }
        return all();
      case 'membership.add':
        await insertMany(
          em,
          MembershipEntity,
          (run as Of<'membership.add'>[]).map((c) => ({ userId: c.userId, groupId: c.groupId, createdAt: now })),
          1000,
        );
        return all();
      case 'membership.remove': {
        const done: boolean[] = [];
        for (const c of run as Of<'membership.remove'>[]) {
          const res = await em.delete(MembershipEntity, { userId: c.userId, groupId: c.groupId });
          done.push(!c.ifPresent || !!res.affected);
        }
        return done;
      }
      case 'property.set':
        await inChunks(run as Of<'property.set'>[], 300, (chunk) =>
          em.upsert(
            UserPropertyEntity,
            chunk.map((c) => propertyRow(c.userId, c.key, c.value)),
            ['userId', 'key'],
          ),
        );
        return all();
      case 'property.remove':
        for (const c of run as Of<'property.remove'>[]) await em.delete(UserPropertyEntity, { userId: c.userId, key: c.key });
        return all();
    }
  }

  /**
   * One UPDATE per user that changes: its fields, the columns that follow from them, and the time
   * of the change. An update that changes nothing the audit sees writes only a later last-login
   * time, if it carries one; else nothing.
   */
  private async updateUsers(em: EntityManager, run: Of<'user.update'>[], now: Date): Promise<boolean[]> {
    const done: boolean[] = [];
    for (const c of run) {
      const { profileChanged, activeChanged } = userUpdate(c.user, c.set);
      const changed = profileChanged || activeChanged;
      const loginOnly = !changed && c.set.lastLoginAt !== undefined && c.set.lastLoginAt?.getTime() !== c.user.lastLoginAt?.getTime();
      if (!changed && !loginOnly) {
        done.push(!c.onlyIfUnlinked || !c.user.externalId);
        continue;
      }
      const columns = changed ? { ...c.set, ...userColumns(c.user, c.set), updatedAt: now } : { lastLoginAt: c.set.lastLoginAt };
      const res = await em.update(UserEntity, c.onlyIfUnlinked ? { id: c.user.id, externalId: IsNull() } : { id: c.user.id }, columns);
      done.push(!c.onlyIfUnlinked || !!res.affected);
    }
    return done;
  }
}
