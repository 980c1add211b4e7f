/**
 * The basis of a sync plan: the directory state of each user the plan changes, as it was when the
 * plan was computed (a digest; `null` for a user the plan creates, whom the directory did not
 * have). A held plan is applied on approval only if every one of them is still in that state.
 */
import { createHash } from 'node:crypto';
import type { DirectoryUserState } from './sync-plan';

/** By the IdP's user id. */
export type PlanBasis = Record<string, string | null>;

/** A digest of everything the plan reads of a directory user; independent of list and key order. */
export function directoryStateDigest(u: DirectoryUserState): string {
  const sorted = (list: readonly string[] | undefined) => [...(list ?? [])].sort();
  const canonical = [
    u.id,
    u.externalId,
    u.username,
    u.email ?? null,
    u.displayName ?? null,
    u.active,
    sorted(u.groups),
    sorted(u.otherGroups),
    Object.entries(u.properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ];
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/**
 * The users of a basis whose state is not the one the plan was computed from, sorted: changed, or
 * created, or deleted since. `current` holds what the directory has now of the basis's users.
 */
export function changedSinceBasis(basis: PlanBasis, current: readonly DirectoryUserState[]): string[] {
  const now = new Map<string, string>();
  for (const u of current)
    if (u.externalId !== null && Object.prototype.hasOwnProperty.call(basis, u.externalId)) now.set(u.externalId, directoryStateDigest(u));
  return Object.keys(basis)
    .filter((id) => (now.get(id) ?? null) !== basis[id])
    .sort();
}
