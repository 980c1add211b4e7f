import { LOCAL_SOURCE, ProvisioningNotice } from '@bridgekeeper/contracts';

/**
 * What a source (an IdP's logins, a sync connector's batches) may change: its own users and
 * groups; a `local` account or group only where the admin granted it (per IdP); a protected
 * account never. Pure rules, shared by every writer that applies a source's view: provisioning
 * (JIT), resolve (Manual, User Sync logins), the simulator's dry run and User Sync batches.
 */

export interface AccountFacts {
  /** The directory id (named in advice to an admin), when known. */
  id?: string;
  username: string;
  source: string;
  externalId: string | null;
  protected: boolean;
}

export interface SourceGrants {
  /** The source asking: an IdP id or connector id; `local` only for the directory's own sign-in (break-glass). */
  source: string;
  /** The admin let this source link local accounts without an external id. */
  claimLocalUsers: boolean;
}

export type AccountUse = { ok: true } | { ok: false; reason: string };

/**
 * Whether a source may use an account it found by username or email (not by its own subject):
 * one of its own (an admin created it for this source), a local one without an external id when
 * the admin allowed claiming, never a protected one, never another source's.
 */
export function mayUseAccount(account: AccountFacts, by: SourceGrants): AccountUse {
  if (account.protected && by.source !== LOCAL_SOURCE)
    return { ok: false, reason: `${account.username} is a protected account: no IdP or connector may use it` };
  if (account.source === by.source) return { ok: true };
  if (account.source !== LOCAL_SOURCE) return { ok: false, reason: `${account.username} belongs to another source (${account.source}); it is not taken over` };
  if (account.externalId) return { ok: false, reason: `${account.username} is a local account linked to an identity already; it is not taken over` };
  if (!by.claimLocalUsers)
    return { ok: false, reason: `${account.username} is a local account, and this IdP may not claim local accounts (claimLocalUsers is off)` };
  return { ok: true };
}

/**
 * Whether a source may link this account to the login's subject (JIT): as mayUseAccount, and an
 * account of its own already linked to another subject is never taken over: another person with
 * the same name, or the same person whose subject changed at the IdP. Which, only the admin can
 * tell: the reason says both subjects and how to re-key.
 */
export function mayLinkAccount(account: AccountFacts, by: SourceGrants & { externalId: string }): AccountUse {
  const use = mayUseAccount(account, by);
  if (use.ok && account.externalId && account.externalId !== by.externalId) {
    return {
      ok: false,
      reason:
        `${account.username} is linked to subject ${account.externalId} of ${account.source}; this login carries another subject (${by.externalId}) with the same username. ` +
        `If the subject changed at the IdP (pairwise subjects switched on, a new client, a rebuilt IdP) — confirm at the IdP that subject ${account.externalId} is gone and that both are the same person (email, email_verified) before anything else — re-key the account: PATCH /api/v1/users/${account.id ?? '{id}'} with ${JSON.stringify({ externalId: by.externalId })}; ` +
        `if this is another person, rename one of them at the IdP. It is not taken over`,
    };
  }
  return use;
}

export interface GroupFacts {
  name: string;
  nameLower: string;
  source: string;
}

export type GroupUse = 'own' | 'granted' | 'refused';

/** Lower-cased names of the local groups a source may join. */
export const grantSet = (names: readonly string[]): ReadonlySet<string> => new Set(names.map((n) => n.toLowerCase()));

/**
 * Whether a source may put its users in a group: its own (its memberships follow the source),
 * a local one the admin granted (joined, never left by the source), or none other.
 */
export function groupUse(group: GroupFacts, source: string, grantedLocal: ReadonlySet<string>): GroupUse {
  if (group.source === source) return 'own';
  if (group.source === LOCAL_SOURCE && grantedLocal.has(group.nameLower)) return 'granted';
  return 'refused';
}

/** The notice for an asserted group that was not joined. */
export function groupRefused(asserted: string, group: GroupFacts): ProvisioningNotice {
  const whose = group.source === LOCAL_SOURCE ? 'a local group this IdP may not grant (not in grantLocalGroups)' : `owned by ${group.source}`;
  return { code: 'group_not_owned', name: asserted, reason: `not joined: ${whose}` };
}

/** The notice for an account found by email that was not linked. */
export function accountNotClaimed(account: AccountFacts, reason: string): ProvisioningNotice {
  return { code: 'account_not_claimed', name: account.username, reason: `matched by email, not linked: ${reason}`.slice(0, 500) };
}

/** At most this many notices go with a login (the event carries them). */
export const MAX_NOTICES = 100;

/**
 * A user of a source (keyed on its IdP id) asks for a username or an email that another account
 * holds. A user is the IdP's immutable id, never its name: the holder's account is never reused
 * for another id. The holder is a departed user of the same source (disabled here, another IdP
 * id): its name is released (renamed, recorded) and the asking user gets its own account. An
 * account of the same source with no IdP id yet (an admin created it for this source) or a local
 * one the source may claim is linked, by username only, and only by a user who has no account yet.
 * Anything else (an active account of another id, another source's, a protected one) is a conflict:
 * that user is left out and reported, the rest of the run goes on.
 */
export type NameClaim = { kind: 'link' } | { kind: 'release' } | { kind: 'conflict'; reason: string };

export function claimName(
  holder: AccountFacts & { active: boolean },
  by: SourceGrants & { externalId: string; hasAccount: boolean; field: 'username' | 'email' },
): NameClaim {
  const name = by.field === 'username' ? holder.username : 'the email';
  if (holder.source === by.source && holder.externalId && holder.externalId !== by.externalId) {
    if (!holder.active && !holder.protected) return { kind: 'release' };
    return {
      kind: 'conflict',
      reason: `${by.field}: ${name} is held by another active user of ${holder.source} (another IdP id); not taken over until that user is disabled or renamed`,
    };
  }
  if (by.field === 'email' || by.hasAccount) return { kind: 'conflict', reason: `${by.field}: ${name} is held by another account; not taken over` };
  const use = mayLinkAccount(holder, by);
  return use.ok ? { kind: 'link' } : { kind: 'conflict', reason: `username: ${use.reason}` };
}

/**
 * The names a departed user's account may keep once its username is released, to try in order:
 * `<name>~<the end of its directory id>`, then the whole id, then the whole id and random
 * characters (which nobody can take beforehand). Within 255 UTF-16 units, cut by whole code
 * points (never half a surrogate pair).
 */
export function releasedNames(username: string, id: string, random: () => string): string[] {
  const hex = id.replace(/-/g, '');
  const suffixes = [`~${hex.slice(-10)}`, `~${hex}`, ...Array.from({ length: 3 }, () => `~${hex}-${random()}`)];
  return suffixes.map((suffix) => {
    const points = Array.from(username);
    while (points.length && points.join('').length + suffix.length > 255) points.pop();
    return `${points.join('')}${suffix}`;
  });
}
