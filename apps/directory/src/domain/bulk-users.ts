import { LOCAL_SOURCE, PropertyValue, samePropertyValue } from '@bridgekeeper/contracts';
import { NameKeys, nameKeys, showName } from '@bridgekeeper/names';
import { DirectoryChange, newUserRecord, UserRecord, userUpdate } from './change-set';
import { acceptName, looksLike, NameIndex, NameRefusal } from './names';
import { mayUseAccount, SourceGrants } from './ownership';

/**
 * A bulk upsert of users (the admin API's bulk, User Sync's batches) as pure rules, in the steps
 * the service runs between its reads: screenItems (each item's names and values, duplicates in
 * the request), newNameLookalikes (new names that look like another new name of the request),
 * planUpserts (who is created, updated or left alone, and what refuses an item), propertyChanges
 * (which values differ). An admin's request fails at the first item it refuses (BulkRefused, the
 * service's 400 or 409); User Sync's batch leaves the item out and lists it (`collect`), so one
 * bad name does not stop a run.
 */

/** An item as the request sends it: fields left out keep an existing user's values (a new user gets the defaults). */
export interface BulkUserInput {
  username: string;
  email?: string | null;
  displayName?: string | null;
  active?: boolean;
  source?: string;
  externalId?: string | null;
  protected?: boolean;
  properties?: Record<string, PropertyValue>;
  /** User Sync: properties the connector owns that the IdP no longer sends. */
  removeProperties?: string[];
}

/** An accepted item: its names in NFC, its values screened, and its place in the request (named in refusals). */
export type BulkItem<I extends BulkUserInput = BulkUserInput> = I & { index: number };

/** Why an admin's bulk fails: `invalid` (400) or `conflict` (409), the message naming the item (`users.<index>.<field>: …`). */
export class BulkRefused extends Error {
  constructor(
    readonly status: 'invalid' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'BulkRefused';
  }
}

/** User Sync's screen of a value it cannot store as sent (../names/name-policy `screenValues`: the platform's input hygiene). */
export type ValueScreen = (
  displayName: string | null | undefined,
  properties: Record<string, PropertyValue> | undefined,
) => { displayName: string | null | undefined; properties: Record<string, PropertyValue> | undefined; refused: { field: string; reason: string }[] };

/** Refuses an item: the first one fails the request, or (`collect`) each is listed and left out. */
class Refusals {
  readonly list: NameRefusal[] = [];
  constructor(private readonly collect: boolean) {}

  refuse(item: { index: number; username: string; externalId?: string | null }, reason: string, status: 'invalid' | 'conflict'): void {
    if (!this.collect) throw new BulkRefused(status, `users.${item.index}.${reason}`);
    this.list.push({ kind: 'user', name: item.username, ...(item.externalId ? { externalId: item.externalId } : {}), reason });
  }
}

/** Refuses these items (each with its reason): the first fails the request, or (`collect`) each is listed. */
export function refuseItems(
  refusals: readonly { item: { index: number; username: string; externalId?: string | null }; reason: string }[],
  collect: boolean,
  status: 'invalid' | 'conflict',
): NameRefusal[] {
  const out = new Refusals(collect);
  for (const { item, reason } of refusals) out.refuse(item, reason, status);
  return out.list;
}

/**
 * Each item's username and email by the name rules (a name that breaks them refuses the item) and,
 * given `screen` (User Sync), its values (one it cannot store is left out, alone, and listed).
 * Then the request as a whole: a username twice (any case) fails it, whoever sends it; so does an
 * email twice in an admin's bulk (`distinctEmails`; User Sync settles addresses with its identities).
 * `emails`: the lower-case addresses the upserts check against other users (an admin's bulk only).
 */
export function screenItems<I extends BulkUserInput>(
  input: readonly I[],
  opts: { collect: boolean; screen?: ValueScreen; distinctEmails: boolean },
): { accepted: BulkItem<I>[]; refused: NameRefusal[]; emails: string[] } {
  const refusals = new Refusals(opts.collect);
  const accepted: BulkItem<I>[] = [];
  for (const [index, raw] of input.entries()) {
    const username = acceptName(raw.username, 'username', 'username');
    const email = typeof raw.email === 'string' ? acceptName(raw.email, 'email', 'email') : undefined;
    if (!username.ok || (email && !email.ok)) {
      refusals.refuse({ ...raw, index }, !username.ok ? username.reason : (email as { reason: string }).reason, 'invalid');
      continue;
    }
    // A value it cannot store as sent (a NUL, a lone surrogate, too long) is left out, alone.
    const values = opts.screen?.(raw.displayName, raw.properties);
    for (const r of values?.refused ?? [])
      refusals.list.push({
        kind: 'value',
        name: r.field,
        ...(raw.externalId ? { externalId: raw.externalId } : {}),
        reason: `${r.field}: ${r.reason}; left out`,
      });
    accepted.push({
      ...raw,
      username: username.name,
      ...(email ? { email: email.name } : {}),
      ...(values ? { displayName: values.displayName, properties: values.properties } : {}),
      index,
    });
  }
  const dupes = firstDuplicate(accepted.map((u) => u.username.toLowerCase()));
  if (dupes !== undefined) throw new BulkRefused('invalid', `users.${accepted[dupes].index}.username: appears twice in the request`);
  // An admin's bulk names the item whose address is another's.
  const withEmail = opts.distinctEmails ? accepted.filter((u) => typeof u.email === 'string') : [];
  const sameEmail = firstDuplicate(withEmail.map((u) => u.email!.toLowerCase()));
  if (sameEmail !== undefined) {
    const later = withEmail[sameEmail];
    const earlier = withEmail.find((u) => u.email!.toLowerCase() === later.email!.toLowerCase())!;
    throw new BulkRefused('invalid', `users.${later.index}.email: the same address as users.${earlier.index}.email`);
  }
  return { accepted, refused: refusals.list, emails: [...new Set(withEmail.map((u) => u.email!.toLowerCase()))] };
}

/** The key an account is found by for an item with an IdP id: its source (local when left out) and that id. */
export const externalKey = (source: string, externalId: string) => `${source}\u0000${externalId}`;

/** An item's own account: the one of its source with its IdP id, among those read by externalKey. */
export const ownAccount =
  <R extends UserRecord>(byExternal: ReadonlyMap<string, R>) =>
  (item: Pick<BulkUserInput, 'source' | 'externalId'>): R | undefined =>
    item.externalId ? byExternal.get(externalKey(item.source ?? LOCAL_SOURCE, item.externalId)) : undefined;

/**
 * A name new to its user (a new user, a rename) may look like no other new name of the request:
 * the later one is refused, as it would be one by one. Only those names are keyed (`keys`: the
 * service then reads the users that hold those keys), so a run that renames nobody costs nothing more.
 */
export function newNameLookalikes<I extends BulkItem>(
  accepted: readonly I[],
  existingOf: (item: I) => UserRecord | undefined,
  collect: boolean,
): { items: I[]; keys: Map<I, NameKeys>; refused: NameRefusal[] } {
  const refusals = new Refusals(collect);
  const keys = new Map<I, NameKeys>();
  const firstByKey = new NameIndex<I>();
  const items = accepted.filter((item) => {
    const existing = existingOf(item);
    if (existing && existing.username === item.username) return true;
    const key = nameKeys(item.username);
    const first = firstByKey.find(key);
    if (first) {
      refusals.refuse(
        item,
        `username: ${showName(item.username)} looks like users.${first.index}.username ${showName(first.username)} in the same request (Unicode TR 39 confusable)`,
        'conflict',
      );
      return false;
    }
    firstByKey.add(item, key.folded, key.shown);
    keys.set(item, key);
    return true;
  });
  return { items, keys, refused: refusals.list };
}

export interface UpsertFacts<I extends BulkItem> {
  items: readonly I[];
  /** The item's own account (by its IdP id). */
  ownOf: (item: I) => UserRecord | undefined;
  /** An account by lower-case username (the accounts User Sync's identities moved or released are no longer here). */
  byUsername: ReadonlyMap<string, UserRecord>;
  /** Each new name's lookalike keys (newNameLookalikes), and the accounts that hold them. */
  keys: ReadonlyMap<I, NameKeys>;
  byKey: NameIndex<UserRecord>;
  /** Accounts by lower-case email (screenItems' `emails`). */
  byEmail: ReadonlyMap<string, UserRecord>;
  /** User Sync's connector: an account found by username is used only if it may (mayUseAccount). */
  asSource?: SourceGrants;
  collect: boolean;
  now: Date;
  newId: () => string;
}

export type UpsertStatus = 'created' | 'updated' | 'unchanged';

export interface UpsertPlan<I> {
  /** Updates before creates: a create may take a name or email an update leaves. */
  changes: DirectoryChange[];
  results: { index: number; id: string; status: UpsertStatus }[];
  /** Each item written (created, updated or unchanged) and its user's id: whose properties follow. */
  written: { item: I; id: string; created: boolean }[];
  refused: NameRefusal[];
}

/**
 * Per item, the account it upserts (its own by IdP id, else the one with its username) and what
 * happens: a new name that looks like another user's is refused; an email another user holds, an
 * account the connector may not use, another source's account linked to another identity, or a
 * protected account re-sourced fail the request (409). Fields an item leaves out keep an existing
 * user's values; an update that changes nothing is not written.
 */
export function planUpserts<I extends BulkItem>(facts: UpsertFacts<I>): UpsertPlan<I> {
  const { ownOf, byUsername, keys, byKey, byEmail, asSource, now } = facts;
  const refusals = new Refusals(facts.collect);
  const creates: DirectoryChange[] = [];
  const updates: DirectoryChange[] = [];
  const plan: UpsertPlan<I> = { changes: [], results: [], written: [], refused: refusals.list };
  for (const item of facts.items) {
    const { index } = item;
    const own = ownOf(item);
    const existing = own || byUsername.get(item.username.toLowerCase());
    const key = keys.get(item);
    const lookalike = key && byKey.find(key, (u) => u.id === existing?.id);
    if (lookalike) {
      refusals.refuse(item, looksLike('username', item.username, lookalike.username, 'user'), 'conflict');
      continue;
    }
    const emailHolder = typeof item.email === 'string' ? byEmail.get(item.email.toLowerCase()) : undefined;
    if (emailHolder && emailHolder.id !== existing?.id) throw new BulkRefused('conflict', `users.${index}.email: already used by another user`);
    if (existing && !own && asSource) {
      const use = mayUseAccount(existing, asSource);
      if (!use.ok) throw new BulkRefused('conflict', `users.${index}.username: ${use.reason}`);
    }
    const source = item.source ?? existing?.source ?? LOCAL_SOURCE;
    const externalId = item.externalId !== undefined ? item.externalId : (existing?.externalId ?? null);
    if (existing && existing.source !== source && existing.externalId && existing.externalId !== externalId) {
      throw new BulkRefused('conflict', `users.${index}.username: ${item.username} belongs to another account (source ${existing.source})`);
    }
    if (existing?.protected && existing.source !== source) {
      throw new BulkRefused('conflict', `users.${index}.username: ${item.username} is a protected account; it is not linked to ${source}`);
    }
    if (!existing) {
      const user = newUserRecord(
        {
          id: facts.newId(),
          username: item.username,
          email: item.email ?? null,
          displayName: item.displayName ?? null,
          active: item.active ?? true,
          source,
          externalId,
          protected: item.protected ?? false,
        },
        now,
      );
      creates.push({ kind: 'user.create', user });
      plan.results.push({ index, id: user.id, status: 'created' });
      plan.written.push({ item, id: user.id, created: true });
      continue;
    }
    plan.written.push({ item, id: existing.id, created: false });
    const set = {
      username: item.username,
      email: item.email !== undefined ? item.email : existing.email,
      displayName: item.displayName !== undefined ? item.displayName : existing.displayName,
      source,
      externalId,
      ...(item.protected !== undefined ? { protected: item.protected } : {}),
      active: item.active ?? existing.active,
    };
    const { profileChanged, activeChanged } = userUpdate(existing, set);
    if (!profileChanged && !activeChanged) {
      plan.results.push({ index, id: existing.id, status: 'unchanged' });
      continue;
    }
    // Disabling and enabling are their own changes (their events end or restore the user's sessions everywhere): the writer audits them apart.
    updates.push({ kind: 'user.update', user: existing, set });
    plan.results.push({ index, id: existing.id, status: 'updated' });
  }
  plan.changes = [...updates, ...creates];
  return plan;
}

/** The existing users whose current properties propertyChanges needs (a new user has none: not read). */
export function propertyOwners(written: UpsertPlan<BulkItem>['written']): string[] {
  return [...new Set(written.filter((w) => !w.created && (Object.keys(w.item.properties ?? {}).length || w.item.removeProperties?.length)).map((w) => w.id))];
}

/**
 * Properties: only values that differ are written (a no-change run writes nothing); a list in
 * another order is the same value. Removals (User Sync: the IdP no longer has an attribute the
 * connector owns) delete only what exists. `current`: the owners' rows (propertyOwners).
 */
export function propertyChanges(
  written: UpsertPlan<BulkItem>['written'],
  current: readonly { userId: string; key: string; value: PropertyValue }[],
): DirectoryChange[] {
  const held = new Map(current.map((p) => [`${p.userId}\u0000${p.key}`, p.value]));
  const wanted = written.flatMap(({ item, id }) => Object.entries(item.properties ?? {}).map(([key, value]) => ({ userId: id, key, value })));
  const unset = written.flatMap(({ item, id }) =>
    (item.removeProperties ?? []).filter((key) => !Object.prototype.hasOwnProperty.call(item.properties ?? {}, key)).map((key) => ({ userId: id, key })),
  );
  const sets: DirectoryChange[] = wanted
    .filter((p) => !samePropertyValue(held.get(`${p.userId}\u0000${p.key}`), p.value))
    .map((p) => ({ kind: 'property.set', ...p, before: held.get(`${p.userId}\u0000${p.key}`) }));
  const removals: DirectoryChange[] = unset.flatMap((p) => {
    const before = held.get(`${p.userId}\u0000${p.key}`);
    return before === undefined ? [] : [{ kind: 'property.remove' as const, ...p, before }];
  });
  return [...sets, ...removals];
}

/** The bulk's answer: counts by status, and each item's user. */
export function bulkAnswer(results: UpsertPlan<BulkItem>['results']) {
  const count = (s: UpsertStatus) => results.filter((r) => r.status === s).length;
  return { created: count('created'), updated: count('updated'), unchanged: count('unchanged'), users: results };
}

function firstDuplicate(values: string[]): number | undefined {
  const seen = new Set<string>();
  for (const [i, v] of values.entries()) {
    if (seen.has(v)) return i;
    seen.add(v);
  }
  return undefined;
}
