import { linearRegex, regexProblem } from './linear-regex';
import { Properties, propertyValue } from '@bridgekeeper/contracts';

/**
 * Attribute mapping: from what the IdP asserts (SAML attributes, OIDC claims) to the
 * directory's user. Pure functions; no I/O. Regular expressions run on RE2 (linear-regex.ts).
 */
export type Attributes = Readonly<Record<string, readonly string[]>>;

export interface AttributeMapping {
  username: {
    /** NameID / `sub`, a named attribute, or the local part of the email. */
    source: 'subject' | 'attribute' | 'emailLocalPart';
    attribute?: string;
    /** With source `attribute`: use the subject when the attribute is absent. */
    fallbackToSubject?: boolean;
    lowercase: boolean;
    /** A regex replacement applied last, e.g. `^(.*)@corp\.example$` → `$1`. */
    replace?: { pattern: string; replacement: string };
  };
  /** Attribute names tried in order; the first one present wins. */
  email: string[];
  firstName: string[];
  lastName: string[];
  displayName: string[];
  groups: {
    attribute: string[];
    /** Keycloak sends `/parent/child` paths: keep `parent/child`, or the leaf `child`. */
    naming: 'path' | 'leaf';
    /** Applied in order to each (named) group; the first rule whose regex matches decides. */
    rules?: GroupRule[];
    /** Drop groups no rule matched (an allow-list). */
    skipUnmatched?: boolean;
    /** Groups every user of this IdP gets (managed: asserted on every login). */
    defaultForAll?: string[];
    /** Groups a user gets when created (local: provisioning never removes them). */
    defaultForNew?: string[];
    /** Create groups the directory does not have yet (else such memberships are skipped). */
    createMissing?: boolean;
    /** The user must be in at least one of these (mapped) groups to sign in. */
    required?: string[];
  };
  /** Besides the IdP subject, match an existing user on these (an account no IdP owns yet). */
  matchOn?: ('username' | 'email')[];
  /** Directory user property key → attribute name (every value of it: property-value.ts). */
  properties: Record<string, string>;
}

/**
 * Works with Keycloak's standard SAML mappers and OIDC claims out of the box: the username is
 * OIDC's `preferred_username` claim, or else the subject (SAML: the NameID, which Keycloak sets to
 * the username), so both protocols provision the same user.
 */
export const KEYCLOAK_DEFAULT_MAPPING: AttributeMapping = {
  username: { source: 'attribute', attribute: 'preferred_username', fallbackToSubject: true, lowercase: true },
  email: ['email', 'urn:oid:0.9.2342.19200300.100.1.3', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'],
  firstName: ['firstName', 'given_name', 'urn:oid:2.5.4.42'],
  lastName: ['lastName', 'family_name', 'urn:oid:2.5.4.4'],
  displayName: ['displayName', 'name', 'urn:oid:2.16.840.1.113730.3.1.241'],
  groups: { attribute: ['groups', 'memberOf'], naming: 'path' },
  properties: {},
};

export interface GroupRule {
  /** Regular expression over the group name. */
  match: string;
  /** `drop` removes the group; otherwise it is kept, renamed by `rename` ($1… capture groups). */
  action?: 'keep' | 'drop';
  rename?: string;
}

export interface MappedIdentity {
  username: string;
  email: string | null;
  displayName: string | null;
  groups: string[];
  /** Default groups for a user created by this login. */
  newUserGroups: string[];
  /** One value is a string, several a list (property-value.ts), as User Sync stores them. */
  properties: Properties;
}

export type MappingResult = { ok: true; identity: MappedIdentity } | { ok: false; code: 'no_username' | 'invalid_identity' | 'required_group_missing'; reason: string };

const EMAIL = /^[^\s@]+@[^\s@]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The first non-empty value of the first attribute present (own properties only). */
export function firstValue(attributes: Attributes, names: readonly string[]): string | undefined {
  for (const name of names) {
    if (!Object.prototype.hasOwnProperty.call(attributes, name)) continue;
    const value = attributes[name]?.find((v) => v.trim() !== '');
    if (value !== undefined) return value.trim();
  }
  return undefined;
}

export function allValues(attributes: Attributes, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(attributes, name)) out.push(...(attributes[name] ?? []));
  }
  return out;
}

/** `/engineering/backend` → `engineering/backend` (path) or `backend` (leaf). */
export function groupName(raw: string, naming: 'path' | 'leaf'): string | undefined {
  const parts = raw.split('/').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return undefined;
  return naming === 'leaf' ? parts[parts.length - 1] : parts.join('/');
}

/** The group after the rules: renamed, kept as is, or dropped (undefined). */
export function applyGroupRules(name: string, rules: readonly GroupRule[] = [], skipUnmatched = false): string | undefined {
  for (const rule of rules) {
    const re = linearRegex(rule.match);
    if (!re.test(name)) continue;
    if (rule.action === 'drop') return undefined;
    return rule.rename !== undefined ? name.replace(re, rule.rename) : name;
  }
  return skipUnmatched ? undefined : name;
}

export function mapGroups(attributes: Attributes, mapping: AttributeMapping['groups']): string[] {
  const names = new Set<string>();
  for (const raw of allValues(attributes, mapping.attribute)) {
    const named = groupName(raw, mapping.naming);
    const name = named === undefined ? undefined : applyGroupRules(named, mapping.rules, mapping.skipUnmatched);
    if (name && name.length <= 255 && !CONTROL.test(name)) names.add(name);
  }
  for (const g of mapping.defaultForAll ?? []) names.add(g);
  return [...names].sort();
}

/**
 * The first regular expression of a mapping that cannot run (a mapping saved before patterns were
 * checked), named by its field, with why; undefined when all can.
 */
export function mappingRegexProblem(mapping: AttributeMapping): string | undefined {
  const patterns: [string, string][] = (mapping.groups.rules ?? []).map((r, i) => [`groups.rules.${i}.match`, r.match]);
  if (mapping.username.replace) patterns.unshift(['username.replace.pattern', mapping.username.replace.pattern]);
  for (const [field, pattern] of patterns) {
    const problem = regexProblem(pattern);
    if (problem) return `${field}: ${problem}`;
  }
  return undefined;
}

export function mapIdentity(subject: string, attributes: Attributes, mapping: AttributeMapping = KEYCLOAK_DEFAULT_MAPPING): MappingResult {
  // Refused rather than run without the rule: a skipped drop rule or rename would hand out other groups or another account.
  const unusable = mappingRegexProblem(mapping);
  if (unusable) return { ok: false, code: 'invalid_identity', reason: `the mapping cannot be used until an admin changes it: ${unusable}` };

  const emailRaw = firstValue(attributes, mapping.email);
  const email = emailRaw && EMAIL.test(emailRaw) ? emailRaw.toLowerCase() : null;

  let username: string | undefined;
  switch (mapping.username.source) {
    case 'subject':
      username = subject.trim() || undefined;
      break;
    case 'attribute':
      username = mapping.username.attribute ? firstValue(attributes, [mapping.username.attribute]) : undefined;
      if (username === undefined && mapping.username.fallbackToSubject) username = subject.trim() || undefined;
      break;
    case 'emailLocalPart':
      username = email ? email.slice(0, email.indexOf('@')) : undefined;
      break;
  }
  if (!username) return { ok: false, code: 'no_username', reason: `the mapping (username from ${describeSource(mapping)}) produced no username` };
  if (mapping.username.lowercase) username = username.toLowerCase();
  if (mapping.username.replace) username = username.replace(linearRegex(mapping.username.replace.pattern), mapping.username.replace.replacement);
  if (!username) return { ok: false, code: 'no_username', reason: 'the username replacement left nothing' };
  if (username.length > 255 || CONTROL.test(username)) {
    return { ok: false, code: 'invalid_identity', reason: 'the username is longer than 255 characters or holds control characters' };
  }

  const first = firstValue(attributes, mapping.firstName);
  const last = firstValue(attributes, mapping.lastName);
  const displayName = firstValue(attributes, mapping.displayName) ?? ([first, last].filter(Boolean).join(' ') || null);

  const properties: Properties = Object.create(null);
  for (const [key, attribute] of Object.entries(mapping.properties)) {
    const value = propertyValue(Object.prototype.hasOwnProperty.call(attributes, attribute) ? attributes[attribute] : undefined);
    if (value !== undefined) properties[key] = value;
  }

  const groups = mapGroups(attributes, mapping.groups);
  const required = mapping.groups.required ?? [];
  if (required.length && !required.some((r) => groups.some((g) => g.toLowerCase() === r.toLowerCase()))) {
    return { ok: false, code: 'required_group_missing', reason: `${username} is in none of the groups required to sign in (${required.join(', ')})` };
  }

  return {
    ok: true,
    identity: {
      username,
      email,
      displayName: displayName?.slice(0, 255) ?? null,
      groups,
      newUserGroups: [...new Set(mapping.groups.defaultForNew ?? [])].sort(),
      properties: { ...properties },
    },
  };
}

function describeSource(mapping: AttributeMapping): string {
  if (mapping.username.source === 'attribute') return `attribute '${mapping.username.attribute ?? ''}'${mapping.username.fallbackToSubject ? ' or the subject' : ''}`;
  return mapping.username.source === 'subject' ? 'the NameID / subject' : "the email's local part";
}
