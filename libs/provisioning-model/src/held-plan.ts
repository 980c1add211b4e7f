/**
 * What a held plan is approved against, besides the state of its own users (plan-basis.ts): the
 * run it belongs to (its digest), the IdP's provisioning settings it was planned under, and who
 * held the names it gives users. An approval applies the plan only if all of them are as they were.
 */
import { createHash } from 'node:crypto';
import type { SyncPlan } from './sync-plan';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A held plan's digest, bound to its run: SHA-256 (hex) of the run id, a newline and the plan's
 * JSON as stored. Two runs with the same plan have different digests, so an approval names the
 * run that was reviewed, and a digest seen on one run approves no other.
 */
export function heldPlanDigest(runId: string, planJson: string): string {
  return sha256(`${runId}\n${planJson}`);
}

/** JSON with every object's keys sorted: the same value gives the same text, whatever the key order. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    const out: [string, unknown][] = Object.entries(v as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => [k, sort(x)]);
    return out; // entries, not an object: a key like `__proto__` stays data
  };
  return JSON.stringify(sort(value));
}

/** The IdP provisioning settings a sync plan depends on (as the effective settings give them). */
export interface PlannedSettings {
  model: string;
  mapping: unknown;
  updateOnLogin: boolean;
  grantLocalGroups: readonly string[];
  claimLocalUsers: boolean;
}

/** A digest of the IdP's effective provisioning settings; the order of the granted groups does not count. */
export function settingsDigest(s: PlannedSettings): string {
  return sha256(
    canonicalJson({
      model: s.model,
      mapping: s.mapping ?? null,
      updateOnLogin: s.updateOnLogin,
      grantLocalGroups: [...s.grantLocalGroups].sort(),
      claimLocalUsers: s.claimLocalUsers,
    }),
  );
}

/** The longest username and email the directory stores (and the names-held query takes): longer ones are refused when applied, so nobody holds them. */
export const NAME_LIMITS = { username: 255, email: 320 } as const;

/** The usernames and emails a plan gives users — the ones it creates, and new names and emails of the ones it updates — each once, lower-cased, sorted. */
export function namesGiven(plan: SyncPlan): { usernames: string[]; emails: string[] } {
  const usernames = new Set<string>();
  const emails = new Set<string>();
  const give = (u: { username: string; email: string | null }, fields: readonly string[] | 'all') => {
    const username = u.username.toLowerCase();
    const email = u.email?.toLowerCase();
    if ((fields === 'all' || fields.includes('username')) && username.length <= NAME_LIMITS.username) usernames.add(username);
    if ((fields === 'all' || fields.includes('email')) && email && email.length <= NAME_LIMITS.email) emails.add(email);
  };
  for (const u of plan.create) give(u, 'all');
  for (const u of plan.update)
    give(
      u.fields,
      u.changes.map((c) => c.field),
    );
  return { usernames: [...usernames].sort(), emails: [...emails].sort() };
}

/** An account that holds a name (its own, or one that looks like it), as the directory reports it. */
export interface NameHolder {
  id: string;
  source: string;
  externalId: string | null;
  username: string;
  email: string | null;
  active: boolean;
  protected: boolean;
}

/**
 * Who held each name a plan gives, when it was planned: `username:<name>` or `email:<address>` →
 * a digest of the accounts that held it (or a name that looks like it), null when none did.
 */
export type NamesBasis = Record<string, string | null>;

/** A basis of the names asked about from who holds them now; a name nobody holds is null. */
export function namesBasis(
  names: { usernames: readonly string[]; emails: readonly string[] },
  held: readonly { kind: 'username' | 'email'; name: string; holders: readonly NameHolder[] }[],
): NamesBasis {
  const basis: NamesBasis = {};
  for (const n of names.usernames) basis[`username:${n}`] = null;
  for (const n of names.emails) basis[`email:${n}`] = null;
  for (const h of held) {
    const key = `${h.kind}:${h.name}`;
    if (!Object.prototype.hasOwnProperty.call(basis, key) || !h.holders.length) continue;
    const holders = [...h.holders]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((u) => [u.id, u.source, u.externalId, u.username, u.email, u.active, u.protected]);
    basis[key] = sha256(JSON.stringify(holders));
  }
  return basis;
}

/** The names whose holders are not the ones the plan was made with (taken, freed or changed since), sorted, as `username:…`/`email:…`. */
export function namesChangedSince(then: NamesBasis, now: NamesBasis): string[] {
  return Object.keys(then)
    .filter((k) => (Object.prototype.hasOwnProperty.call(now, k) ? now[k] : null) !== then[k])
    .sort();
}
