import { linearRegex, regexProblem } from './linear-regex';
import { Properties, propertyValue, propertyValueProblem } from '@bridgekeeper/contracts';

/**
 * Attribute mapping: from what the IdP asserts (SAML attributes, OIDC claims) to the
 * directory's user. Pure functions; no I/O. Regular expressions run on RE2 (linear-regex.ts).
 */
export type Attributes = Readonly<Record<string, readonly string[]>>;

/** Profile fields a login may leave out: a known user then keeps what the directory holds. */
export type ProfileField = 'username' | 'email' | 'displayName' | 'groups';
export const PROFILE_FIELDS: readonly ProfileField[] = ['username', 'email', 'displayName', 'groups'];

/**
 * Where the username comes from when the username attribute is absent, tried in order: `nameId`
 * a SAML NameID that names a person (any format but persistent and transient; never an OIDC
 * `sub`), `email` the email, `subject` any subject (opaque ones too).
 */
export type UsernameFallback = 'nameId' | 'email' | 'subject';

export interface AttributeMapping {
  username: {
    /** NameID / `sub`, a named attribute, or the local part of the email. */
    source: 'subject' | 'attribute' | 'emailLocalPart';
    /** With source `attribute`: its name, or names tried in order. */
    attribute?: string | string[];
    /**
     * With source `attribute`, when it is absent: see UsernameFallback. A username from a fallback
     * names a new user only; a known user keeps theirs.
     */
    fallback?: UsernameFallback[];
    /** Older mappings: `subject` as the last fallback. */
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
  /**
   * Fields the IdP sends on every login whenever they have a value, so that leaving them out means
   * empty (the email or name cleared, the managed groups left). Any other field a login leaves out
   * is absent: a known user keeps what the directory holds. A login that carries no profile claim
   * at all (an ID token with only `sub`, an assertion with no attributes) never empties anything.
   */
  authoritative?: Exclude<ProfileField, 'username'>[];
}

/**
 * Works with Keycloak's standard SAML mappers and OIDC claims out of the box: the username is
 * OIDC's `preferred_username` claim, or else a SAML NameID that names a person (Keycloak sets it to
 * the username), so both protocols provision the same user; else the email, never an opaque `sub`.
 * Groups are authoritative: Keycloak leaves the attribute out for a user in no group.
 */
export const KEYCLOAK_DEFAULT_MAPPING: AttributeMapping = {
  username: { source: 'attribute', attribute: 'preferred_username', fallback: ['nameId', 'email'], lowercase: true },
  email: ['email', 'urn:oid:0.9.2342.19200300.100.1.3', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'],
  firstName: ['firstName', 'given_name', 'urn:oid:2.5.4.42'],
  lastName: ['lastName', 'family_name', 'urn:oid:2.5.4.4'],
  displayName: ['displayName', 'name', 'urn:oid:2.16.840.1.113730.3.1.241'],
  groups: { attribute: ['groups', 'memberOf'], naming: 'path' },
  properties: {},
  authoritative: ['groups'],
};

export interface GroupRule {
  /** Regular expression over the group name. */
  match: string;
  /** `drop` removes the group; otherwise it is kept, renamed by `rename` ($1… capture groups). */
  action?: 'keep' | 'drop';
  rename?: string;
}

export interface MappedIdentity {
  username: string | null;
  /** Where the username came from: the mapping's source, or the fallback that gave it (null: none). */
  usernameFrom: 'attribute' | 'subject' | 'emailLocalPart' | 'nameId' | 'email' | null;
  email: string | null;
  displayName: string | null;
  groups: string[];
  /** Default groups for a user created by this login. */
  newUserGroups: string[];
  /** One value is a string, several a list (property-value.ts), as User Sync stores them. */
  properties: Properties;
  /**
   * What the login did not carry (the email and display name are then null, the groups only the
   * default ones): a known user keeps what the directory holds for these. `username`: none came
   * from the username attribute; `username` is then a fallback for a new user (null: none).
   */
  absent: ProfileField[];
}

/** What a login says about its subject: a SAML NameID of a format that names a person may be a username. */
export interface LoginContext {
  protocol?: 'saml' | 'oidc';
  subjectFormat?: string;
}

/** A warning for the login trace: the login did not carry this field, which a known user keeps. */
export interface AbsentNotice {
  code: 'claim_absent';
  name: ProfileField;
  reason: string;
}

export type MappingResult =
  { ok: true; identity: MappedIdentity } | { ok: false; code: 'no_username' | 'invalid_identity' | 'required_group_missing'; reason: string };

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

/** Whether the login carries any of these attributes (own properties only), even with no value. */
export function hasAny(attributes: Attributes, names: readonly string[]): boolean {
  return names.some((name) => Object.prototype.hasOwnProperty.call(attributes, name));
}

/** NameID formats that never name a person: persistent and transient identifiers. */
const OPAQUE_NAMEID = /:nameid-format:(persistent|transient)$/;

/**
 * A subject that may serve as a username: a SAML NameID whose format names a person — not
 * persistent or transient. A NameID without a format is `unspecified` (SAML Core 8.3.1), as
 * Keycloak's username NameID is. Never an OIDC `sub`.
 */
export function readableSubject(login: LoginContext): boolean {
  // `attribute:<name>`: the IdP keys users on an attribute (subjectAttribute), an id, not a name.
  return login.protocol !== 'oidc' && !OPAQUE_NAMEID.test(login.subjectFormat ?? '') && !(login.subjectFormat ?? '').startsWith('attribute:');
}

/** A login whose IdP left its groups out for being too many (Entra: `_claim_names.groups`, `hasgroups`, SAML's groups.link): what says so, or undefined. */
export function groupOverage(attributes: Attributes): string | undefined {
  if (hasAny(attributes, ['http://schemas.microsoft.com/claims/groups.link'])) return 'the groups.link claim';
  if (firstValue(attributes, ['hasgroups'])?.toLowerCase() === 'true') return 'hasgroups';
  if (Object.prototype.hasOwnProperty.call(attributes, '_claim_names') && attributes._claim_names?.includes('groups')) return '_claim_names.groups';
  return undefined;
}

const usernameAttributes = (mapping: AttributeMapping): string[] => {
  const a = mapping.username.attribute;
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
};

export function allValues(attributes: Attributes, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(attributes, name)) out.push(...(attributes[name] ?? []));
  }
  return out;
}

/** `/engineering/backend` → `engineering/backend` (path) or `backend` (leaf). */
export function groupName(raw: string, naming: 'path' | 'leaf'): string | undefined {
  const parts = raw
    .split('/')
    .map((p) => p.trim())
    .filter(Boolean);
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

export function mapIdentity(
  subject: string,
  attributes: Attributes,
  mapping: AttributeMapping = KEYCLOAK_DEFAULT_MAPPING,
  login: LoginContext = {},
): MappingResult {
  // Refused rather than run without the rule: a skipped drop rule or rename would hand out other groups or another account.
  const unusable = mappingRegexProblem(mapping);
  if (unusable) return { ok: false, code: 'invalid_identity', reason: `the mapping cannot be used until an admin changes it: ${unusable}` };

  // An absent claim is not an empty value: what the login leaves out, a known user keeps, unless
  // the mapping calls the field authoritative — then absent is empty, whatever else the login
  // carries (a user who asks for `scope=openid` alone must not keep groups the IdP took away).
  const names = {
    username: usernameAttributes(mapping),
    email: mapping.email,
    displayName: [...mapping.displayName, ...mapping.firstName, ...mapping.lastName],
    groups: mapping.groups.attribute,
  };
  const absent = new Set<ProfileField>();
  for (const field of ['email', 'displayName', 'groups'] as const) {
    if (!hasAny(attributes, names[field]) && !(mapping.authoritative ?? []).includes(field)) absent.add(field);
  }
  // Too many groups to list (Entra's overage): neither keeping nor removing groups by guess is safe.
  const overage = groupOverage(attributes);
  if (overage)
    return {
      ok: false,
      code: 'invalid_identity',
      reason: `the IdP left the groups out of the login (${overage}: too many to list); assign groups to the application or filter the groups claim at the IdP`,
    };

  const emailRaw = firstValue(attributes, mapping.email);
  const email = emailRaw && EMAIL.test(emailRaw) ? emailRaw.toLowerCase() : null;

  let username: string | undefined;
  let usernameFrom: MappedIdentity['usernameFrom'] = mapping.username.source;
  switch (mapping.username.source) {
    case 'subject':
      username = subject.trim() || undefined;
      break;
    case 'attribute':
      username = firstValue(attributes, names.username);
      if (username === undefined) {
        absent.add('username');
        usernameFrom = null;
        const fallbacks = [...(mapping.username.fallback ?? []), ...(mapping.username.fallbackToSubject ? (['subject'] as const) : [])];
        for (const fallback of fallbacks) {
          // An OIDC email names a user only when the IdP says it verified it (an unverified one is anyone's to type).
          if (fallback === 'email')
            username = login.protocol === 'oidc' && firstValue(attributes, ['email_verified'])?.toLowerCase() !== 'true' ? undefined : (email ?? undefined);
          else if (fallback === 'subject' || readableSubject(login)) username = subject.trim() || undefined;
          if (username) {
            usernameFrom = fallback;
            // A NameID that names a person is the IdP's own name for them (Keycloak's SAML client
            // sends the username so): a present username, which renames and may link as one. The
            // email and the subject only name a new user, and never link an existing account.
            if (fallback === 'nameId') absent.delete('username');
            break;
          }
        }
      }
      break;
    case 'emailLocalPart':
      username = email ? email.slice(0, email.indexOf('@')) : undefined;
      break;
  }
  if (!username && !absent.has('username'))
    return { ok: false, code: 'no_username', reason: `the mapping (username from ${describeSource(mapping)}) produced no username` };
  if (username && mapping.username.lowercase) username = username.toLowerCase();
  if (username && mapping.username.replace) {
    username = username.replace(linearRegex(mapping.username.replace.pattern), mapping.username.replace.replacement);
    if (!username) return { ok: false, code: 'no_username', reason: 'the username replacement left nothing' };
  }
  if (username && (username.length > 255 || CONTROL.test(username))) {
    return { ok: false, code: 'invalid_identity', reason: 'the username is longer than 255 characters or holds control characters' };
  }

  const first = firstValue(attributes, mapping.firstName);
  const last = firstValue(attributes, mapping.lastName);
  const displayName = firstValue(attributes, mapping.displayName) ?? ([first, last].filter(Boolean).join(' ') || null);

  const properties: Properties = Object.create(null);
  for (const [key, attribute] of Object.entries(mapping.properties)) {
    const value = propertyValue(Object.prototype.hasOwnProperty.call(attributes, attribute) ? attributes[attribute] : undefined);
    // Over the property limits (a self-edited attribute of thousands of values) it is left out: the login goes on.
    if (value !== undefined && !propertyValueProblem(value)) properties[key] = value;
  }

  const groups = mapGroups(attributes, mapping.groups);
  const required = mapping.groups.required ?? [];
  if (required.length && !required.some((r) => groups.some((g) => g.toLowerCase() === r.toLowerCase()))) {
    const why = absent.has('groups')
      ? `the login carries no groups attribute (${names.groups.join(', ')}), so membership in a group required to sign in (${required.join(', ')}) cannot be checked`
      : `${username ?? subject} is in none of the groups required to sign in (${required.join(', ')})`;
    return { ok: false, code: 'required_group_missing', reason: why };
  }

  return {
    ok: true,
    identity: {
      username: username || null,
      usernameFrom: username ? usernameFrom : null,
      email,
      displayName: displayName?.slice(0, 255) ?? null,
      groups,
      newUserGroups: [...new Set(mapping.groups.defaultForNew ?? [])].sort(),
      properties: { ...properties },
      absent: PROFILE_FIELDS.filter((f) => absent.has(f)),
    },
  };
}

/** The trace's warnings for what a login left out (a known user keeps it), each naming the attributes looked for. */
export function absentNotices(identity: MappedIdentity, mapping: AttributeMapping): AbsentNotice[] {
  const looked: Record<ProfileField, string[]> = {
    username: usernameAttributes(mapping),
    email: mapping.email,
    displayName: [...mapping.displayName, ...mapping.firstName, ...mapping.lastName],
    groups: mapping.groups.attribute,
  };
  const list = (names: string[]) => (names.length ? names.join(', ') : 'no attribute (none mapped)');
  // A NameID that names a person is how some IdPs send the username (Keycloak's SAML client): nothing to say.
  return identity.absent
    .filter((name) => name !== 'username' || identity.usernameFrom !== 'nameId')
    .map((name) => ({
      code: 'claim_absent',
      name,
      reason: (name === 'username'
        ? `the login carries none of ${list(looked.username)}: a known user keeps their username; ${identity.username ? `a new one is named ${identity.username} (fallback)` : 'a new one cannot be created (no fallback applies)'}`
        : `the login carries none of ${list(looked[name])}: a known user keeps what the directory holds (turn on userinfo or send the claim, or mark it authoritative in the mapping)`
      ).slice(0, 500),
    }));
}

/** Why a login that carries no username cannot create a user, naming where the mapping looks. */
export function noUsernameReason(mapping: AttributeMapping, login?: { protocol?: 'saml' | 'oidc'; attributes: Attributes }): string {
  const fallback = [...(mapping.username.fallback ?? []), ...(mapping.username.fallbackToSubject ? ['subject'] : [])];
  const said = `the mapping (username from ${describeSource(mapping)}${fallback.length ? `, else ${fallback.join(', ')}` : ''}) produced no username for a new user`;
  // The email fallback passed over an email the IdP sent without saying it verified it: say so, not "send the claim".
  if (
    login?.protocol === 'oidc' &&
    fallback.includes('email') &&
    firstValue(login.attributes, mapping.email) !== undefined &&
    firstValue(login.attributes, ['email_verified'])?.toLowerCase() !== 'true'
  ) {
    return `${said}: the IdP sent an email but not email_verified true, and an unverified email names nobody (anyone may type one): make the IdP verify emails (or release email_verified), send a username claim, or change the mapping`;
  }
  return `${said}: send the claim (e.g. turn on userinfo, or add the profile or email scope) or change the mapping`;
}

function describeSource(mapping: AttributeMapping): string {
  if (mapping.username.source === 'attribute')
    return `attribute ${usernameAttributes(mapping)
      .map((a) => `'${a}'`)
      .join(' or ')}${mapping.username.fallbackToSubject ? ' or the subject' : ''}`;
  return mapping.username.source === 'subject' ? 'the NameID / subject' : "the email's local part";
}
