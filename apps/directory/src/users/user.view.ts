import { QueryFailedError } from 'typeorm';
import { userSnapshot } from '../domain/change-set';
import { UserEntity } from './user.entity';

export { userSnapshot } from '../domain/change-set';

/** A user as the admin API shows it. */
export const userView = (u: UserEntity) => ({ id: u.id, ...userSnapshot(u), lastLoginAt: u.lastLoginAt, createdAt: u.createdAt, updatedAt: u.updatedAt });
export type UserView = ReturnType<typeof userView>;

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && /unique|duplicate/i.test(err.message);
}

export { inChunks } from '../store/directory-writer';
