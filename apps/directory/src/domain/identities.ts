import { checkName, NameKeys, nameKeys, showName } from '@bridgekeeper/names';
import { DirectoryChange, UserFields, UserRecord, userUpdate } from './change-set';
import { looksLike, NameIndex } from './names';
import { claimName, NameClaim, releasedNames, SourceGrants } from './ownership';

/**
 * User Sync's identities before a batch's upserts, as pure rules: a user is the IdP's id, never
 * the name. The service reads the accounts involved first (by the items' IdP ids, names, emails
 * and the lookalike keys of their new names), decideIdentities decides who is left out, which
 * names and emails the batch's own users leave (parked), and which departed users' names or
 * emails are released; the service then finds each released name a free one (a database read
 * per candidate: releaseCandidates here, the read there) and writes releaseOf's change.
 */

/**
 * What a User Sync batch decided about identities (see claimName): users left out because the
 * name or email they ask for is another account's, and departed users whose name (or email) was
 * released for a new user.
 */
export interface IdentityReport {
  conflicts: { externalId: string; username: string; reason: string }[];
  released: { id: string; externalId: string | null; from: string; to: string; emailReleased?: true }[];
}

/** An item of the batch as identities see it. */
export interface IdentityItem {
  externalId?: string | null;
  username: string;
  email?: string | null;
}

/** A departed user whose name and/or email is released for a user of the batch. */
export interface Release {
  holder: UserRecord;
  name: boolean;
  email: boolean;
}

export interface IdentityFacts<T extends IdentityItem> {
  items: readonly T[];
  /** The item's own account (its source's user with its IdP id), if it has one. */
  ownOf: (item: T) => UserRecord | undefined;
  /** Accounts by lower-case username: those the items' names name. */
  byUsername: ReadonlyMap<string, UserRecord>;
  /** Accounts by lower-case email: those the items' emails name. */
  byEmail: ReadonlyMap<string, UserRecord>;
  /** Accounts whose names look like the renamed items' new names (read by renamesOf's keys). */
  byKey: NameIndex<UserRecord>;
  /** The connector's grants. */
  by: SourceGrants;
}

export interface IdentityDecision<T> {
  /** Items left out of the upserts (the rest go on). */
  left: Set<T>;
  /** Items left out for their new name's look: refused by the name rules (in the order they were left out). */
  misnamed: { item: T; reason: string }[];
  /** Items left out because another account holds their name or email (the report's conflicts, in order). */
  conflicts: IdentityReport['conflicts'];
  /** The names and emails the batch's own users leave, parked before any upsert (renames, swaps, chains). */
  parks: Extract<DirectoryChange, { kind: 'user.park' }>[];
  /** Departed users whose name and/or email is released, in the order to release them. */
  releases: Release[];
  /** Lower-case usernames the upserts may no longer find an account by (parked: the account moves to another name). */
  vacated: string[];
}

/** The items renamed (their own account has another name), with their new names' lookalike keys: the accounts to read for them. */
export function renamesOf<T extends IdentityItem>(items: readonly T[], ownOf: (item: T) => UserRecord | undefined): Map<T, NameKeys> {
  const renamedTo = new Map<T, NameKeys>();
  for (const item of items) {
    const own = ownOf(item);
    if (own && own.usernameLower !== item.username.toLowerCase()) renamedTo.set(item, nameKeys(item.username));
  }
  return renamedTo;
}

/**
 * Decides the batch's identities: an item asking for a username or email another account holds
 * is decided by claimName (link, release, conflict). A rename to a name that looks like another
 * user's, and any new name (a rename, a new user) that looks like an earlier one of the same
 * request, is refused by the name rules, decided before any name is parked or released, so a
 * refused item never leaves its user's name parked nor a departed user renamed for nothing. Who leaves which name depends on who is left out, and back (a left-out
 * rename keeps its name, so the item that wanted that name is left out too, and so on along a
 * chain): decided again until nothing changes.
 */
export function decideIdentities<T extends IdentityItem>(
  facts: IdentityFacts<T>,
  renamedTo: ReadonlyMap<T, NameKeys> = renamesOf(facts.items, facts.ownOf),
): IdentityDecision<T> {
  const { items, ownOf, byUsername, byEmail, byKey, by } = facts;
  // The lookalike keys of the items without an account of their own (new users, links): compared with the request's other new names below.
  const newKeys = new Map<T, NameKeys>();
  for (const item of items) if (!ownOf(item)) newKeys.set(item, nameKeys(item.username));
  const left = new Set<T>();
  const misnamed = new Map<T, string>();
  let releases: Release[] = [];
  let moving: { own: UserRecord; name: boolean; email: boolean }[] = [];
  for (let settled = false; !settled;) {
    settled = true;
    const vacated = { names: new Set<string>(), emails: new Set<string>() };
    moving = [];
    for (const item of items) {
      const own = ownOf(item);
      if (!own || left.has(item)) continue;
      const email = item.email === undefined ? own.emailLower : (item.email?.toLowerCase() ?? null);
      const name = own.usernameLower !== item.username.toLowerCase();
      const mail = !!own.emailLower && own.emailLower !== email;
      if (name) vacated.names.add(own.usernameLower);
      if (mail) vacated.emails.add(own.emailLower!);
      if (name || mail) moving.push({ own, name, email: mail });
    }
    const released = new Map<string, Release>();
    const firstByKey = new Map<string, T>();
    // Every name the request brings (a rename, a new user, a link), in the request's order: a later
    // one that looks like an earlier one is left out here, before any name is parked or released,
    // so no item refused for its name's look leaves its account parked or a departed user renamed.
    for (const item of items) {
      if (left.has(item)) continue;
      const own = ownOf(item);
      const keys = renamedTo.get(item) ?? (own ? undefined : newKeys.get(item));
      if (!keys) continue;
      const lower = item.username.toLowerCase();
      const other = renamedTo.has(item)
        ? byKey.find(keys, (u) => u.id === own?.id || u.usernameLower === lower || vacated.names.has(u.usernameLower))
        : undefined;
      const first = firstByKey.get(keys.folded) ?? firstByKey.get(keys.shown);
      for (const key of [keys.folded, keys.shown]) if (!firstByKey.has(key)) firstByKey.set(key, item);
      const reason = first
        ? `username: ${showName(item.username)} looks like ${showName(first.username)} in the same request (Unicode TR 39 confusable)`
        : other
          ? looksLike('username', item.username, other.username, 'user')
          : undefined;
      if (reason) {
        misnamed.set(item, reason);
        left.add(item);
        settled = false;
      }
    }
    for (const item of items) {
      if (!item.externalId || left.has(item)) continue;
      const own = ownOf(item);
      const claimsOf = claimer(item, own, by);
      const nameHolder = byUsername.get(item.username.toLowerCase());
      const claims: { holder: UserRecord; field: 'username' | 'email'; claim: NameClaim }[] = [];
      if (nameHolder && nameHolder.id !== own?.id && !vacated.names.has(nameHolder.usernameLower))
        claims.push({ holder: nameHolder, field: 'username', claim: claimsOf(nameHolder, 'username') });
      const linked = claims.find((c) => c.claim.kind === 'link')?.holder;
      const emailHolder = item.email ? byEmail.get(item.email.toLowerCase()) : undefined;
      if (emailHolder && emailHolder.id !== own?.id && emailHolder.id !== linked?.id && !vacated.emails.has(emailHolder.emailLower!)) {
        claims.push({ holder: emailHolder, field: 'email', claim: claimsOf(emailHolder, 'email') });
      }
      if (claims.some((c) => c.claim.kind === 'conflict')) {
        left.add(item);
        settled = false;
        continue;
      }
      for (const c of claims.filter((x) => x.claim.kind === 'release')) {
        const r = released.get(c.holder.id) ?? { holder: c.holder, name: false, email: false };
        r[c.field === 'username' ? 'name' : 'email'] = true;
        released.set(c.holder.id, r);
      }
    }
    releases = [...released.values()];
  }

  const decision: IdentityDecision<T> = { left, misnamed: [], conflicts: [], parks: [], releases, vacated: [] };
  for (const item of left) {
    const misnamedBecause = misnamed.get(item);
    if (misnamedBecause) {
      decision.misnamed.push({ item, reason: misnamedBecause });
      continue;
    }
    // Why, said again against the accounts as they are: a claim that conflicts, else the only
    // other way out, a name whose holder's own rename was left out (so it keeps the name).
    const own = ownOf(item);
    const claimsOf = claimer(item, own, by);
    const nameHolder = byUsername.get(item.username.toLowerCase());
    const emailHolder = item.email ? byEmail.get(item.email.toLowerCase()) : undefined;
    const why = [
      nameHolder && nameHolder.id !== own?.id ? claimsOf(nameHolder, 'username') : undefined,
      emailHolder && emailHolder.id !== own?.id ? claimsOf(emailHolder, 'email') : undefined,
    ].find((c) => c?.kind === 'conflict');
    decision.conflicts.push({
      externalId: item.externalId!,
      username: item.username,
      reason: why?.kind === 'conflict' ? why.reason : 'username: its name is held by a user whose own rename is left out',
    });
  }
  decision.parks = moving.map(({ own, name, email }) => ({ kind: 'user.park', userId: own.id, name, email }));
  decision.vacated = [...releases.filter((r) => r.name).map((r) => r.holder.usernameLower), ...moving.filter((m) => m.name).map((m) => m.own.usernameLower)];
  return decision;
}

const claimer =
  (item: IdentityItem, own: UserRecord | undefined, by: SourceGrants) =>
  (holder: UserRecord, field: 'username' | 'email'): NameClaim =>
    claimName(holder, { ...by, externalId: item.externalId!, hasAccount: !!own, field });

/**
 * The names a departed user's account may take once its username is released, in order, those
 * that follow the name rules only (anyone may hold the first two already: the caller takes the
 * first nobody holds nor looks like, a database read per candidate).
 */
export function releaseCandidates(holder: Pick<UserRecord, 'username' | 'id'>, random: () => string): string[] {
  return releasedNames(holder.username, holder.id, random).filter((candidate) => checkName(candidate, 'username').ok);
}

/** Why a released name's update happened, in its audit entry. */
export const releaseReason = (source: string) => `released for a new user of ${source}: a user is the IdP's id, never the name`;

/**
 * A departed user's release: its name renamed to `to` (when the name is released) and/or its
 * email cleared; the update to write (audited with the reason), the report's line, and the
 * account as the batch's upserts go on with it.
 */
export function releaseOf(
  release: Release,
  to: string | undefined,
  now: Date,
): { change: Extract<DirectoryChange, { kind: 'user.update' }>; released: IdentityReport['released'][number]; after: UserRecord } {
  const { holder, name, email } = release;
  const set: UserFields = { ...(name ? { username: to } : {}), ...(email ? { email: null } : {}) };
  return {
    change: { kind: 'user.update', user: holder, set, reason: releaseReason(holder.source) },
    released: {
      id: holder.id,
      externalId: holder.externalId,
      from: holder.username,
      to: name ? to! : holder.username,
      ...(email ? { emailReleased: true as const } : {}),
    },
    after: { ...userUpdate(holder, set).after, updatedAt: now },
  };
}
