import { QueryFailedError } from 'typeorm';
import { UserEntity } from './user.entity';

/** The profile fields an audit row and a directory event carry. */
export const userSnapshot = (u: UserEntity) => ({
  username: u.username,
  email: u.email,
  displayName: u.displayName,
  active: u.active,
  source: u.source,
  externalId: u.externalId,
  protected: u.protected,
});

/** A user as the admin API shows it. */
export const userView = (u: UserEntity) => ({ id: u.id, ...userSnapshot(u), lastLoginAt: u.lastLoginAt, createdAt: u.createdAt, updatedAt: u.updatedAt });
export type UserView = ReturnType<typeof userView>;

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof QueryFailedError && /unique|duplicate/i.test(err.message);
}

/** Runs `n` items through `fn` in slices, so one statement never carries too many parameters. */
export async function inChunks<T>(items: readonly T[], size: number, fn: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await fn(items.slice(i, i + size));
}
