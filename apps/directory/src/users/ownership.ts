import { LOCAL_SOURCE, ProvisioningNotice } from '@bridgekeeper/contracts';

/**
 * What a source (an IdP's logins, a sync connector's batches) may change: its own users and
 * groups; a `local` account or group only where the admin granted it (per IdP); a protected
 * account never. Pure rules, shared by every writer that applies a source's view: provisioning
 * (JIT), resolve (Manual, User Sync logins), the simulator's dry run and User Sync batches.
 */

export interface AccountFacts {
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
  if (account.protected && by.source !== LOCAL_SOURCE) return { ok: false, reason: `${account.username} is a protected account: no IdP or connector may use it` };
  if (account.source === by.source) return { ok: true };
  if (account.source !== LOCAL_SOURCE) return { ok: false, reason: `${account.username} belongs to another source (${account.source}); it is not taken over` };
  if (account.externalId) return { ok: false, reason: `${account.username} is a local account linked to an identity already; it is not taken over` };
  if (!by.claimLocalUsers) return { ok: false, reason: `${account.username} is a local account, and this IdP may not claim local accounts (claimLocalUsers is off)` };
  return { ok: true };
}

/**
 * Whether a source may link this account to the login's subject (JIT): as mayUseAccount, and an
 * account of its own already linked to another subject is another person with the same name.
 */
export function mayLinkAccount(account: AccountFacts, by: SourceGrants & { externalId: string }): AccountUse {
  const use = mayUseAccount(account, by);
  if (use.ok && account.externalId && account.externalId !== by.externalId) {
    return { ok: false, reason: `${account.username} belongs to another identity of ${account.source} (another subject); it is not taken over` };
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
