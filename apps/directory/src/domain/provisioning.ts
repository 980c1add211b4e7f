import {
  DirectoryUser,
  LOCAL_SOURCE,
  PropertyValue,
  ProvisioningNotice,
  ProvisionUserCommand,
  ProvisionUserReply,
  ResolveUserCommand,
  samePropertyValue,
} from '@bridgekeeper/contracts';
import { escapeHidden, nameKeys } from '@bridgekeeper/names';
import { DirectoryChange, GroupRecord, newGroupRecord, newUserRecord, UserRecord, userUpdate } from './change-set';
import { acceptName, groupsLike, looksLike, NameIndex, NamedLike } from './names';
import { accountNotClaimed, grantSet, groupRefused, groupUse, MAX_NOTICES, mayLinkAccount, mayUseAccount } from './ownership';

/**
 * A login's provisioning as rules (JIT, the simulator's dry run; Manual's lookup in resolveAccount):
 * which names it may store, whether a repeat login changes nothing, which account it is (found by
 * its subject, or linked by username or email), which address it keeps, which groups it joins,
 * leaves or creates, and which properties it sets. Plain functions over what the provisioning
 * service read first; they answer with the DirectoryChanges to hand to the writer, the notices and
 * the reply. Where a read depends on a decision (which account the login is decides whose
 * memberships to read), the service reads between two steps: loginIdentity → accountChanges →
 * groupChanges / defaultGroupChanges / propertyChanges.
 */

export type ProvisionRequest = ProvisionUserCommand;
export type ResolveRequest = ResolveUserCommand;

/** A group as a membership lookup returns it. */
export type MemberGroup = Pick<GroupRecord, 'name' | 'nameLower' | 'source'>;

export const toDirectoryUser = (u: UserRecord): DirectoryUser => ({
  id: u.id,
  username: u.username,
  email: u.email,
  displayName: u.displayName,
  active: u.active,
});

/** The reply's notices, each once, in a stable order; absent when there are none (most logins); capped. */
export function withNotices(notices: ProvisioningNotice[]): { notices?: ProvisioningNotice[] } {
  if (!notices.length) return {};
  const once = new Map(notices.map((n) => [`${n.code}\u0000${n.name.toLowerCase()}`, n]));
  return {
    notices: [...once.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, n]) => n)
      .slice(0, MAX_NOTICES),
  };
}

/** The notice for an email address not stored because another account holds it (emails are unique). */
export const emailTaken = (email: string, holder: Pick<UserRecord, 'username'>, created: boolean): ProvisioningNotice => ({
  code: 'email_taken',
  name: email.slice(0, 255),
  reason:
    `not stored: the account ${holder.username} holds this address (an email belongs to one account); ${created ? 'the new user has' : 'the user is left with'} no email until it is freed`.slice(
      0,
      500,
    ),
});

/** The notice for an asserted group left out for its name (the name shown with its hidden characters as code points). */
export const nameRefused = (name: string, reason: string): ProvisioningNotice => ({
  code: 'name_refused',
  name: escapeHidden(name).slice(0, 255),
  reason: `not joined: ${reason}`.slice(0, 500),
});

/** Group names in the reply's order (by lower-cased name). */
export const sortedNames = (groups: Pick<GroupRecord, 'name' | 'nameLower'>[]) =>
  [...groups].sort((a, b) => (a.nameLower < b.nameLower ? -1 : a.nameLower > b.nameLower ? 1 : 0)).map((g) => g.name);

/** When the login happened, as the caller says (its event's time), else now; never later than now (a clock ahead). */
export const loginTime = (req: { loginAt?: string }, now: Date): Date => (req.loginAt && Date.parse(req.loginAt) < now.getTime() ? new Date(req.loginAt) : now);

/** A login's display name and properties after the input hygiene (../names/name-policy `screenValues`, which lives with the platform's text rules). */
export interface ScreenedValues {
  displayName: string | null | undefined;
  properties: Record<string, PropertyValue> | undefined;
  refused: { field: string; reason: string }[];
}

/**
 * A login's names by the name rules: the username and email in NFC, or the login is refused
 * (`name_refused`: its identity cannot be stored as asserted); asserted groups in NFC, those that
 * break the rules left out while the login goes on (a notice each, as for a group the IdP does
 * not own). Its display name and properties come screened (`values`): each refused one is left
 * out with a notice.
 */
export function screenNames(
  req: ProvisionRequest,
  values: ScreenedValues,
): { req: ProvisionRequest; notices: ProvisioningNotice[] } | { refused: ProvisionUserReply } {
  const username = req.username === undefined ? undefined : acceptName(req.username, 'username', 'username');
  if (username && !username.ok) return { refused: { status: 'error', code: 'name_refused', message: username.reason } };
  const email = req.email === null ? null : acceptName(req.email, 'email', 'email');
  if (email && !email.ok) return { refused: { status: 'error', code: 'name_refused', message: email.reason } };
  // A value the directory cannot store as sent is left out, each with its notice; the login goes on.
  const notices: ProvisioningNotice[] = values.refused.map((r) => ({ code: 'value_refused', name: r.field, reason: `not stored: ${r.reason}` }));
  const groups = (names: string[]) =>
    names.flatMap((name) => {
      const group = acceptName(name, 'group', 'group');
      if (group.ok) return [group.name];
      notices.push(nameRefused(name, group.reason));
      return [];
    });
  return {
    req: {
      ...req,
      username: username?.name,
      email: email?.name ?? null,
      displayName: values.displayName ?? null,
      properties: values.properties ?? {},
      groups: groups(req.groups),
      newUserGroups: groups(req.newUserGroups),
    },
    notices,
  };
}

/**
 * What a known user keeps: the fields the login did not carry (an absent claim is not an empty
 * value), as the directory holds them.
 */
export function keptFrom(req: ProvisionRequest, user: Pick<UserRecord, 'username' | 'email' | 'displayName'>): ProvisionRequest {
  const absent = new Set(req.absent);
  return {
    ...req,
    username: absent.has('username') ? user.username : req.username,
    email: absent.has('email') ? user.email : req.email,
    displayName: absent.has('displayName') ? user.displayName : req.displayName,
  };
}

/**
 * The repeat login that changes nothing, first step (over the one read of the login's hot path:
 * the user by subject with their groups, and the asserted properties): undefined when the login
 * changes something (or the user is new or disabled) and takes the full path; else the asserted
 * groups the user is not in, which the second step (unchangedReply) judges once the service has
 * read them by name — only when there are any.
 */
export function repeatLogin(
  req: ProvisionRequest,
  user: UserRecord | undefined,
  current: MemberGroup[],
  stored: ReadonlyMap<string, PropertyValue>,
): { missing: string[] } | undefined {
  if (!user || !user.active) return undefined;
  const kept = keptFrom(req, user);
  if (user.username !== kept.username || user.email !== kept.email || user.displayName !== kept.displayName) return undefined;
  const currentLower = new Set(current.map((g) => g.nameLower));
  const wanted = new Map(req.groups.map((n) => [n.toLowerCase(), n]));
  if (!req.absent.includes('groups') && current.some((g) => g.source === req.source && !wanted.has(g.nameLower))) return undefined;
  const props = req.properties ?? {};
  if (Object.keys(props).some((k) => !samePropertyValue(stored.get(k), props[k]))) return undefined;
  return { missing: [...wanted].filter(([lower]) => !currentLower.has(lower)).map(([, asserted]) => asserted) };
}

/**
 * The repeat login, second step: it changes nothing when each asserted group the user is not in
 * is one this source may not join (a notice), one it would not create, or one whose name looks
 * like another group's (a notice); then the reply. Undefined: the full path (a group to join or
 * create). `named`: the missing groups and their lookalikes, read only when `missing` is not empty.
 */
export function unchangedReply(
  req: ProvisionRequest,
  user: UserRecord,
  current: MemberGroup[],
  missing: string[],
  named: NamedLike<MemberGroup> | undefined,
  screened: ProvisioningNotice[],
): ProvisionUserReply | undefined {
  const notices = [...screened];
  if (missing.length) {
    const granted = grantSet(req.grantLocalGroups);
    for (const asserted of missing) {
      const { same: group, lookalike } = named!.clash(asserted);
      if (!group && lookalike) {
        notices.push(nameRefused(asserted, looksLike('group', asserted, lookalike.name, 'group')));
        continue;
      }
      if (!group && !req.createMissingGroups) continue; // not created, nothing to join
      if (!group || groupUse(group, req.source, granted) !== 'refused') return undefined;
      notices.push(groupRefused(asserted, group));
    }
  }
  return { status: 'provisioned', user: toDirectoryUser(user), groups: sortedNames(current), created: false, changed: false, ...withNotices(notices) };
}

/** A login's request once it is known whose it is: a username for sure. */
export type LoginRequest = ProvisionRequest & { username: string };

/**
 * The full path, first step, over the user the login's subject names (or none): what the login
 * carries once a known user keeps what it did not carry, or `no_username` for a new user without
 * one; and what the next step needs read. `usersNamed`: the username and its lookalikes (a new
 * user, or a rename; never for a login that keeps its name). `emailHolder`: the account holding
 * the asserted address (lower-cased), unless the user known by subject holds it already — read
 * once, it serves both the match on email and the address's owner.
 */
export function loginIdentity(
  asserted: ProvisionRequest,
  bySubject: UserRecord | null,
): { refused: ProvisionUserReply } | { req: LoginRequest; read: { usersNamed: boolean; emailHolder: string | null } } {
  // A known user keeps what the login did not carry; a new one needs a username (asserted or a fallback).
  const kept = bySubject ? keptFrom(asserted, bySubject) : asserted;
  if (kept.username === undefined)
    return { refused: { status: 'error', code: 'no_username', message: 'the login carries no username, and no user of this IdP has its subject' } };
  const req = { ...kept, username: kept.username };
  const emailLower = req.email?.toLowerCase() ?? null;
  return {
    req,
    read: {
      usersNamed: !bySubject || bySubject.username !== req.username,
      emailHolder: emailLower !== null && bySubject?.emailLower !== emailLower ? emailLower : null,
    },
  };
}

export interface AccountFacts {
  /** The request as the login asserted it (after screening): `absent` tells a fallback username from an asserted one. */
  asserted: ProvisionRequest;
  req: LoginRequest;
  bySubject: UserRecord | null;
  /** The users holding the username or one like it, when loginIdentity asked for them. */
  usersNamed: NamedLike<UserRecord> | undefined;
  /** The account holding the asserted email, when loginIdentity asked for it. */
  emailHolder: UserRecord | null;
  notices: ProvisioningNotice[];
  now: Date;
  newUserId: () => string;
}

export type AccountDecision =
  | { reply: ProvisionUserReply }
  | {
      /** The user.create or user.update to apply first. */
      change: DirectoryChange;
      /** The account as it is after the change. */
      account: UserRecord;
      created: boolean;
      changed: boolean;
      notices: ProvisioningNotice[];
    };

/**
 * Which account the login is, and its user change. Known by its subject, it is that user's. Else
 * an account without a subject may be linked (matchOn), if it is this source's to link
 * (mayLinkAccount: its own, a local one the admin lets it claim, never a protected one or
 * another's); a username from a fallback (the email, a NameID) names a new user only, never links.
 * Usernames are unique: a name held by an account this login does not link refuses it, as does a
 * name new to its user that looks like another user's. An address another account holds is not
 * stored (a notice). A disabled user stays disabled and unchanged.
 */
export function accountChanges(facts: AccountFacts): AccountDecision {
  const { asserted, req, usersNamed, emailHolder, now } = facts;
  const loginAt = loginTime(asserted, now);
  const notices = [...facts.notices];
  let user = facts.bySubject;
  if (!user) {
    const grants = { source: req.source, externalId: req.externalId, claimLocalUsers: req.claimLocalUsers };
    const byName = usersNamed!.clash(req.username).same ?? null;
    let match = req.matchOn.includes('username') && !asserted.absent.includes('username') ? byName : null;
    if (!match && req.matchOn.includes('email') && req.email) match = emailHolder;
    if (match) {
      const use = mayLinkAccount(match, grants);
      if (use.ok) user = match;
      else if (match.id === byName?.id) return { reply: { status: 'error', code: 'account_not_owned', message: use.reason } };
      else notices.push(accountNotClaimed(match, use.reason));
    }
    // Usernames are unique: a name taken by an account this login does not link refuses it.
    if (byName && byName.id !== user?.id) {
      const use = mayLinkAccount(byName, grants);
      return {
        reply: {
          status: 'error',
          code: 'account_not_owned',
          message: use.ok
            ? `${byName.username} is taken by another account, which the mapping's matchOn (${req.matchOn.join(', ') || 'none'}) does not link`
            : use.reason,
        },
      };
    }
  }
  // A name new to its user may not look like another user's: the login is refused, with both names in its trace.
  const lookalike = usersNamed?.clash(req.username, user?.id).lookalike;
  if (lookalike) return { reply: { status: 'error', code: 'name_refused', message: looksLike('username', req.username, lookalike.username, 'user') } };
  // The address stays the user's own when it is unchanged (it is unique).
  const keepsEmail = !!user && !!req.email && user.emailLower === req.email.toLowerCase();
  const emailOwner = req.email && !keepsEmail ? emailHolder : null;
  const email = emailOwner && emailOwner.id !== user?.id ? null : req.email;
  // Not silent: the trace and the user.provisioned event say whose address it is.
  // (Once: an account matched by this email and not linked has its account_not_claimed notice already.)
  const saidAlready = notices.some((n) => n.code === 'account_not_claimed' && n.name === emailOwner?.username);
  if (email === null && req.email && emailOwner && !saidAlready) notices.push(emailTaken(req.email, emailOwner, !user));
  if (!user) {
    const account = newUserRecord(
      {
        id: facts.newUserId(),
        username: req.username,
        email,
        displayName: req.displayName,
        source: req.source,
        externalId: req.externalId,
        lastLoginAt: loginAt,
      },
      now,
    );
    return { change: { kind: 'user.create', user: account }, account, created: true, changed: true, notices };
  }
  if (!user.active) return { reply: { status: 'disabled', user: toDirectoryUser(user) } };
  // The last-login time never moves back (a redelivered or late login).
  const set = {
    username: req.username,
    email,
    displayName: req.displayName,
    source: req.source,
    externalId: req.externalId,
    lastLoginAt: user.lastLoginAt && user.lastLoginAt > loginAt ? user.lastLoginAt : loginAt,
  };
  const update = userUpdate(user, set);
  const account = { ...update.after, ...(update.profileChanged ? { updatedAt: now } : {}) };
  return { change: { kind: 'user.update', user, set }, account, created: false, changed: update.profileChanged, notices };
}

/** What a group step decided: the changes in the order to apply them, and the groups the user is in after them. */
export interface GroupDecision {
  changes: DirectoryChange[];
  /** Every group the user is in once the changes are applied. */
  groups: GroupRecord[];
  /** The groups it creates (a later step's name lookups must see them). */
  created: GroupRecord[];
  changed: boolean;
  /** The notices so far and this step's. */
  notices: ProvisioningNotice[];
}

interface NewGroups {
  named: NamedLike<GroupRecord>;
  /** This step's new groups by their lookalike keys: two of them may not look alike either. */
  created: NameIndex<string>;
  now: Date;
  newGroupId: () => string;
  notices: ProvisioningNotice[];
}

/**
 * A group a login names, to create, unless its name looks like another group's or like another
 * new one of this login (a notice, nothing created).
 */
function newGroup(name: string, source: string, at: NewGroups): GroupRecord | undefined {
  const keys = nameKeys(name);
  const lookalike = at.named.clash(name).lookalike?.name ?? at.created.find(keys);
  if (lookalike !== undefined) {
    at.notices.push(nameRefused(name, looksLike('group', name, lookalike, 'group')));
    return undefined;
  }
  at.created.add(name, keys.folded, keys.shown);
  return newGroupRecord({ id: at.newGroupId(), name, source }, at.now);
}

export interface GroupFacts {
  req: LoginRequest;
  userId: string;
  /** The asserted groups and those whose names look like them (../names/name-policy `groupsNamedLike`). */
  named: NamedLike<GroupRecord>;
  /** The groups the user is in (none for a new user). */
  current: GroupRecord[];
  /** The notices so far (the answer has them and this step's). */
  notices: ProvisioningNotice[];
  now: Date;
  newGroupId: () => string;
}

/**
 * Makes the memberships in this source's groups match the request (creating its missing groups
 * when the mapping says so: a notice that the IdP owns the name from now on), and joins the granted
 * local groups it asserts; any other group it asserts is not joined (a notice). Only memberships
 * in groups this source manages are removed (local groups stay), and none when the login did not
 * carry the groups attribute (an absent claim is not an empty list).
 */
export function groupChanges(facts: GroupFacts): GroupDecision {
  const { req, userId, named, current } = facts;
  const notices = [...facts.notices];
  const wanted = new Map(req.groups.map((name) => [name.toLowerCase(), name]));
  const existing = named.found.filter((g) => wanted.has(g.nameLower));
  const byLower = new Map<string, GroupRecord>();
  const granted = grantSet(req.grantLocalGroups);
  const refused = new Map<string, GroupRecord>();
  for (const g of existing) (groupUse(g, req.source, granted) === 'refused' ? refused : byLower).set(g.nameLower, g);
  const at: NewGroups = { named, created: new NameIndex<string>(), now: facts.now, newGroupId: facts.newGroupId, notices };
  const created: GroupRecord[] = [];
  for (const [lower, name] of wanted) {
    if (byLower.has(lower) || refused.has(lower) || !req.createMissingGroups) continue;
    const group = newGroup(name, req.source, at);
    if (!group) continue;
    created.push(group);
    byLower.set(lower, group);
    // Not silent: the login's trace says the IdP now owns the name (no other source can join it).
    notices.push({ code: 'group_created', name, reason: `created, owned by ${req.source} from now on: no other IdP or connector can put its users in it` });
  }
  const currentIds = new Set(current.map((g) => g.id));
  const add = [...byLower.values()].filter((g) => !currentIds.has(g.id));
  for (const [lower, g] of refused) if (!currentIds.has(g.id)) notices.push(groupRefused(wanted.get(lower)!, g));
  const remove = req.absent.includes('groups') ? [] : current.filter((g) => g.source === req.source && !wanted.has(g.nameLower));
  const removed = new Set(remove.map((g) => g.id));
  return {
    changes: [
      ...created.map((group): DirectoryChange => ({ kind: 'group.create', group })),
      ...add.map((g): DirectoryChange => ({ kind: 'membership.add', userId, groupId: g.id, group: g.name })),
      ...remove.map((g): DirectoryChange => ({ kind: 'membership.remove', userId, groupId: g.id, group: g.name })),
    ],
    groups: [...current.filter((g) => !removed.has(g.id)), ...add],
    created,
    changed: add.length + remove.length > 0,
    notices,
  };
}

/**
 * A new user's default groups (the admin's own configuration), after groupChanges: created as
 * local groups when missing, joined once when local or this source's own; another source's group
 * never (a notice). `named`: the default names and their lookalikes as read before any write; the
 * groups groupChanges creates are added to it here (they exist by the time these are written).
 */
export function defaultGroupChanges(facts: GroupFacts & { createdBefore: GroupRecord[] }): GroupDecision {
  const { req, userId, current } = facts;
  const notices = [...facts.notices];
  const named = groupsLike([...facts.named.found, ...facts.createdBefore]);
  const names = new Map(req.newUserGroups.map((n) => [n.toLowerCase(), n]));
  const existing = named.found.filter((g) => names.has(g.nameLower));
  const byLower = new Map<string, GroupRecord>();
  for (const g of existing) {
    if (g.source === req.source || g.source === LOCAL_SOURCE) byLower.set(g.nameLower, g);
    else notices.push(groupRefused(names.get(g.nameLower)!, g));
  }
  const at: NewGroups = { named, created: new NameIndex<string>(), now: facts.now, newGroupId: facts.newGroupId, notices };
  const created: GroupRecord[] = [];
  for (const [lower, name] of names) {
    if (byLower.has(lower) || existing.some((g) => g.nameLower === lower)) continue;
    const group = newGroup(name, LOCAL_SOURCE, at);
    if (!group) continue;
    created.push(group);
    byLower.set(lower, group);
  }
  const currentIds = new Set(current.map((g) => g.id));
  const add = [...byLower.values()].filter((g) => !currentIds.has(g.id));
  return {
    changes: [
      ...created.map((group): DirectoryChange => ({ kind: 'group.create', group })),
      ...add.map((g): DirectoryChange => ({ kind: 'membership.add', userId, groupId: g.id, group: g.name })),
    ],
    groups: [...current, ...add],
    created,
    changed: add.length > 0,
    notices,
  };
}

/** The asserted properties that differ from the stored ones (a list in another order is the same value, as User Sync compares); other properties stay. */
export function propertyChanges(userId: string, props: Record<string, PropertyValue>, stored: ReadonlyMap<string, PropertyValue>): DirectoryChange[] {
  return Object.keys(props)
    .filter((k) => !samePropertyValue(stored.get(k), props[k]))
    .map((key) => ({ kind: 'property.set', userId, key, before: stored.get(key), value: props[key] }));
}

/**
 * Manual's and User Sync's lookup, for an account found by username (no user has the login's
 * subject): refused unless this source may use it (mayUseAccount; when subjects key the users,
 * mayLinkAccount, and an account without a subject is linked to this one at its first login,
 * except on a dry run).
 */
export function resolveAccount(
  byUsername: UserRecord,
  req: ResolveRequest,
): { refused: { status: 'refused'; code: 'account_not_owned'; reason: string } } | { link: boolean } {
  const grants = { source: req.source, claimLocalUsers: req.claimLocalUsers };
  const use = req.subjectKeysUsers ? mayLinkAccount(byUsername, { ...grants, externalId: req.externalId }) : mayUseAccount(byUsername, grants);
  if (!use.ok) return { refused: { status: 'refused', code: 'account_not_owned', reason: use.reason } };
  // Linked at its first login: from now on the account is this subject's, and a later holder of
  // the same username at the IdP is another person.
  return { link: req.subjectKeysUsers && !byUsername.externalId && !req.dryRun };
}
