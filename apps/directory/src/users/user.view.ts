import { ConflictException } from '@nestjs/common';
import { isUniqueViolation } from '@bridgekeeper/data';
import { userSnapshot } from '../domain/change-set';
import { UserEntity } from './user.entity';

/** A user as the admin API shows it. */
export const userView = (u: UserEntity) => ({ id: u.id, ...userSnapshot(u), lastLoginAt: u.lastLoginAt, createdAt: u.createdAt, updatedAt: u.updatedAt });
export type UserView = ReturnType<typeof userView>;

/**
 * Work that reads, then writes rows another request may write at the same time (two admins adding
 * the same membership): the loser meets a unique index; it runs once more and finds the winner's
 * rows (an add already made is unchanged), and a second loss is a clean 409, never a 500.
 */
export async function settledRace<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (attempt >= 2) throw new ConflictException('changed by another request at the same time; send it again');
    }
  }
}
