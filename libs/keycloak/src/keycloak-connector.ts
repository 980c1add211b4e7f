import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { decodeJwt } from 'jose';
import { requiredGroupPath } from '@bridgekeeper/provisioning-model';
import type { IdpGroup, IdpSnapshot, IdpUser } from '@bridgekeeper/provisioning-model';
import { ChangeFeed, ChangeVerdict, USER_CHANGE_EVENT_TYPES } from './change-feed';
import { FIRST_FULL_USER_PAGE, nextFullUserPage } from './user-pages';

export interface KeycloakConnection {
  baseUrl: string;
  realm: string;
  clientId: string;
  clientSecret: string;
  /** Members and groups per request (default 1,000). */
  pageSize?: number;
  /**
   * Users per request (default 10,000). Keycloak's user listing costs a large fixed amount per
   * request that grows with the realm (at 100,000 users, dev mode: 0.63 s for a page of one user,
   * 0.92 s for 1,000, 1.24 s for 10,000), so big pages make the read ten times shorter.
   */
  userPageSize?: number;
  /** One request's time limit. */
  timeoutMs?: number;
  /** Requests in flight at once while reading (Keycloak serves them on several threads). */
  concurrency?: number;
}

/** What Keycloak said, in words; `field` names the connector setting it points at, when one does. */
export class KeycloakError extends Error {
  constructor(
    message: string,
    readonly field?: ConnectorField,
  ) {
    super(message);
  }
}

/** The connector settings a check's problem can point at. */
export type ConnectorField = 'baseUrl' | 'realm' | 'clientId' | 'clientSecret' | 'attributes' | 'changesSchedule' | 'requiredGroups';

/** Keycloak names each client's service-account user `service-account-<clientId>`. */
const SERVICE_ACCOUNT_PREFIX = 'service-account-';

export interface ConnectorCheck {
  ok: boolean;
  problems: string[];
  /** The problems again, each with the connector setting it points at (what a refused save names). */
  issues: { field: ConnectorField; message: string }[];
  /** What does not stop the runs configured now, but would stop others (changes runs without admin events). */
  warnings: string[];
  users?: number;
  groups?: number;
  unmanagedAttributePolicy?: string | null;
  /** Whether changes runs can read the realm's events, and which user events it saves (read whatever the schedule). */
  events?: { adminEvents: boolean; userEventTypes: string[] };
}

// The admin client is ESM-only: load it once, lazily (Node 20.19+ can require() ESM; Jest transforms it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadClient = (): typeof KcAdminClient => require('@keycloak/keycloak-admin-client').default;

/**
 * User Sync's view of Keycloak through its Admin REST API, as a service account: users in pages of
 * brief representations, groups through `/groups/{id}/children`, members per group — never one
 * request per user. Users are keyed on Keycloak's immutable id.
 */
export class KeycloakConnector {
  private readonly kc: KcAdminClient;
  private authedAt = 0;
  private readonly pageSize: number;
  private readonly userPageSize: number;
  private readonly timeoutMs: number;
  private readonly concurrency: number;

  constructor(private readonly conn: KeycloakConnection) {
    const Client = loadClient();
    this.kc = new Client({ baseUrl: conn.baseUrl.replace(/\/$/, ''), realmName: conn.realm });
    this.pageSize = conn.pageSize ?? 1000;
    this.userPageSize = conn.userPageSize ?? 10_000;
    this.timeoutMs = conn.timeoutMs ?? 15_000;
    this.concurrency = Math.max(1, conn.concurrency ?? 4);
  }

  /**
   * Everything User Sync needs, read in pages: users (brief, or full when `attributes` are
   * wanted), the group tree, then the members of each group — the users and the groups side by
   * side, members `concurrency` groups at a time.
   */
  async snapshot(opts: { attributes?: string[]; onProgress?: (phase: string, done: number) => void } = {}): Promise<IdpSnapshot> {
    const withAttributes = (opts.attributes?.length ?? 0) > 0;
    // A user's id arrives once in the listing and once per group they are in (five times as many
    // strings at 100k): each is kept once, whichever read met it first.
    const idOnce = new Map<string, string>();
    const once = (id: string) => {
      const known = idOnce.get(id);
      if (known !== undefined) return known;
      idOnce.set(id, id);
      return id;
    };
    // Keycloak pages users by offset only, and each request has a large fixed cost: pages of
    // 10,000, read one after another (several at once overload a small Keycloak: requests time
    // out and the run is held); a user seen twice (offsets shifted) counts once. Full
    // representations (attributes wanted) start smaller and grow with Keycloak's pace, so a
    // Keycloak with cold caches does not exceed the time limit (nextFullUserPage).
    const readUsers = async () => {
      const byId = new Map<string, IdpUser>();
      let size = withAttributes ? Math.min(FIRST_FULL_USER_PAGE, this.userPageSize) : this.userPageSize;
      for (let first = 0; ;) {
        const started = Date.now();
        const page = await this.call('listing users', () => this.kc.users.find({ first, max: size, briefRepresentation: !withAttributes }));
        for (const u of page) {
          if (!u.id) continue;
          const user = toIdpUser(u, opts.attributes);
          user.id = once(u.id);
          byId.set(user.id, user);
        }
        opts.onProgress?.('users', byId.size);
        if (page.length < size) break;
        first += size;
        if (withAttributes) size = nextFullUserPage(size, Date.now() - started, this.timeoutMs, this.userPageSize);
      }
      return [...byId.values()];
    };
    const readGroups = async () => {
      const groups = await this.allGroups();
      opts.onProgress?.('groups', groups.length);
      const members = new Map<string, string[]>();
      await this.inParallel(groups, async (g) => {
        const ids: string[] = [];
        for (let first = 0; ; first += this.pageSize) {
          const page = await this.call(`listing members of ${g.path}`, () =>
            this.kc.groups.listMembers({ id: g.id, first, max: this.pageSize, briefRepresentation: true }),
          );
          for (const m of page) if (m.id) ids.push(once(m.id));
          if (page.length < this.pageSize) break;
        }
        members.set(g.id, ids);
        opts.onProgress?.('members', members.size);
      });
      return { groups, members };
    };
    const [users, { groups, members }] = await Promise.all([readUsers(), readGroups()]);
    return { users, groups, members: new Map(groups.filter((g) => members.has(g.id)).map((g) => [g.id, members.get(g.id)!])) };
  }

  /** One user and their groups (changes runs; single-user sync at first login), or null. */
  async user(id: string, attributes: string[] = []): Promise<{ user: IdpUser; groups: IdpGroup[] } | null> {
    const u = await this.call('reading a user', () => this.kc.users.findOne({ id }));
    // A client's service account is not a person: Keycloak's user listing (what full runs read)
    // leaves it out, and so does a read by id (an admin event on it, such as a role granted, must
    // not bring it in). Its representation does not say so; its reserved username prefix does.
    if (!u || u.serviceAccountClientId || u.username?.startsWith(SERVICE_ACCOUNT_PREFIX)) return null;
    const groups = await this.call("reading a user's groups", () => this.kc.users.listGroups({ id, briefRepresentation: true, max: 10_000 }));
    return { user: toIdpUser(u, attributes), groups: groups.filter((g) => g.id && g.path).map((g) => ({ id: g.id!, path: g.path!.normalize('NFC') })) };
  }

  /**
   * Keycloak's clock now (ms, rounded down to its second), read from a fresh service-account
   * token's iat: event times are Keycloak's, so the point a changes run continues from must be too.
   */
  async clock(): Promise<number> {
    await this.authenticate(true);
    const iat = this.kc.accessToken ? decodeJwt(this.kc.accessToken).iat : undefined;
    if (typeof iat !== 'number') throw new KeycloakError('Keycloak issued a token without iat, so its clock cannot be read');
    return iat * 1000;
  }

  /**
   * What changed since `since` (Keycloak ms), from the realm's admin events and, where the realm
   * saves them, the user events of a user's own profile edits — read again from `overlapMs`
   * before `since`, for events committed late. Refuses, saying how to fix it, when the realm does
   * not save admin events or the service account cannot read them.
   */
  async changes(since: number, opts: { maxUsers: number; overlapMs: number }): Promise<ChangeVerdict> {
    const realm = this.conn.realm;
    const config = await this.eventsConfig();
    if (!config.adminEvents) throw new KeycloakError(this.noAdminEvents());
    const feed = new ChangeFeed({ since, maxUsers: opts.maxUsers });
    // Keycloak takes epoch milliseconds as dateFrom (inclusive); the admin client's type says Date.
    const dateFrom = String(Math.max(0, since - opts.overlapMs)) as unknown as Date;
    for (let first = 0; !feed.decided; first += this.pageSize) {
      const page = await this.call('reading admin events', () => this.kc.realms.findAdminEvents({ realm, dateFrom, first, max: this.pageSize }));
      feed.addAdminEvents(page);
      if (page.length < this.pageSize) break;
    }
    for (let first = 0; config.userEventTypes.length && !feed.decided; first += this.pageSize) {
      const page = await this.call('reading user events', () =>
        this.kc.realms.findEvents({ realm, type: config.userEventTypes as never, dateFrom: dateFrom as unknown as string, first, max: this.pageSize }),
      );
      feed.addUserEvents(page);
      if (page.length < this.pageSize) break;
    }
    return feed.verdict();
  }

  /**
   * These users and their groups, `concurrency` at a time, as a snapshot User Sync can plan
   * from; a user Keycloak no longer has is left out (the plan then treats them as gone).
   */
  async users(ids: readonly string[], attributes: string[] = []): Promise<IdpSnapshot> {
    const users: IdpUser[] = [];
    const groups = new Map<string, IdpGroup>();
    const members = new Map<string, string[]>();
    await this.inParallel(ids, async (id) => {
      const one = await this.user(id, attributes);
      if (!one) return;
      users.push(one.user);
      for (const g of one.groups) {
        groups.set(g.id, g);
        if (members.has(g.id)) members.get(g.id)!.push(one.user.id);
        else members.set(g.id, [one.user.id]);
      }
    });
    return { users, groups: [...groups.values()], members };
  }

  /** `work` for each item, `concurrency` at a time (Keycloak serves requests on several threads). */
  private async inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await work(items[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
  }

  private noAdminEvents(): string {
    return `realm ${this.conn.realm} does not save admin events, which changes runs read: turn on "Save events" under Realm settings → Events → Admin events settings`;
  }

  private async eventsConfig(): Promise<{ adminEvents: boolean; userEventTypes: string[] }> {
    try {
      const config = await this.call("reading the realm's event settings", () => this.kc.realms.getConfigEvents({ realm: this.conn.realm }));
      const saved = new Set(config.eventsEnabled ? (config.enabledEventTypes ?? []) : []);
      return { adminEvents: config.adminEventsEnabled === true, userEventTypes: USER_CHANGE_EVENT_TYPES.filter((t) => saved.has(t)) };
    } catch (err) {
      if (/403|forbidden/i.test((err as Error).message))
        throw new KeycloakError(`the service account cannot read realm ${this.conn.realm}'s events: give it the realm-management role view-events`);
      throw err;
    }
  }

  /** The user whose username is exactly this one, or null. */
  async userByUsername(username: string): Promise<IdpUser | null> {
    const found = await this.call('finding a user', () => this.kc.users.find({ username, exact: true, briefRepresentation: true }));
    return found[0] ? toIdpUser(found[0]) : null;
  }

  /**
   * Reachability, credentials, the roles the service account needs (view-users, query-groups;
   * view-events for changes runs), whether custom attributes can come through, and whether the
   * realm saves the events changes runs read; every problem in plain words.
   */
  async check(attributes: string[] = [], opts: { changes?: boolean; requiredGroups?: string[] } = {}): Promise<ConnectorCheck> {
    const problems: string[] = [];
    const issues: ConnectorCheck['issues'] = [];
    const warnings: string[] = [];
    const result: ConnectorCheck = { ok: false, problems, issues, warnings };
    const problem = (field: ConnectorField, message: string) => {
      problems.push(message);
      issues.push({ field, message });
    };
    try {
      await this.authenticate(true);
    } catch (err) {
      problem(err instanceof KeycloakError && err.field ? err.field : 'baseUrl', (err as Error).message);
      return result;
    }
    try {
      result.users = await this.call('counting users', () => this.kc.users.count());
    } catch (err) {
      problem('clientId', `the service account cannot list users: give it the realm-management role view-users (${(err as Error).message})`);
    }
    try {
      result.groups = await this.call('counting groups', async () => (await this.kc.groups.count()).count);
    } catch (err) {
      problem('clientId', `the service account cannot list groups: give it the realm-management role query-groups (${(err as Error).message})`);
    }
    if (opts.requiredGroups?.length && result.groups !== undefined) {
      try {
        const missing = await this.missingGroups(opts.requiredGroups);
        if (missing.length)
          problem(
            'requiredGroups',
            `Keycloak's realm ${this.conn.realm} has no group ${missing.join(', ')} (paths are exact and case-sensitive, e.g. /engineering/backend): no one in it would be synced`,
          );
      } catch (err) {
        problem('requiredGroups', `the required groups cannot be checked: ${(err as Error).message}`);
      }
    }
    if (attributes.length) {
      try {
        const profile = await this.call('reading the user profile', () => this.kc.users.getProfile());
        const declared = new Set((profile.attributes ?? []).map((a) => a.name));
        const policy = profile.unmanagedAttributePolicy ?? null;
        result.unmanagedAttributePolicy = policy;
        const undeclared = attributes.filter((a) => !declared.has(a));
        if (undeclared.length && !policy) {
          problem(
            'attributes',
            `Keycloak drops the attributes ${undeclared.join(', ')}: declare them in the realm's user profile or set its unmanaged attribute policy (e.g. ENABLED)`,
          );
        }
      } catch (err) {
        problem('attributes', `the user profile cannot be read, so attribute sync cannot be checked (view-realm or manage-realm): ${(err as Error).message}`);
      }
    }
    // Changes runs need the realm's admin events: said whenever they are off, a problem when a
    // changes schedule is set and a warning otherwise (before someone sets one).
    const eventsProblem = (message: string) => (opts.changes ? problem('changesSchedule', message) : warnings.push(`changes runs would fail: ${message}`));
    try {
      result.events = await this.eventsConfig();
      if (!result.events.adminEvents) eventsProblem(this.noAdminEvents());
    } catch (err) {
      eventsProblem((err as Error).message);
    }
    result.ok = problems.length === 0;
    return result;
  }

  /** The group paths (as a connector's requiredGroups name them) that the realm does not have; compared as the sync compares them. */
  async missingGroups(paths: readonly string[]): Promise<string[]> {
    const have = new Set((await this.allGroups()).map((g) => g.path));
    return paths.filter((p) => !have.has(requiredGroupPath(p)));
  }

  private async allGroups(): Promise<IdpGroup[]> {
    const out: IdpGroup[] = [];
    const walk = async (parentId: string | null, parentPath: string) => {
      for (let first = 0; ; first += this.pageSize) {
        const page = parentId
          ? await this.call(`listing subgroups of ${parentPath}`, () =>
              this.kc.groups.listSubGroups({ parentId, first, max: this.pageSize, briefRepresentation: true }),
            )
          : await this.call('listing groups', () => this.kc.groups.find({ first, max: this.pageSize, briefRepresentation: true }));
        for (const g of page) {
          if (!g.id || !g.name) continue;
          // In NFC, as the directory stores names: the plan then compares like with like.
          const path = (g.path ?? `${parentPath}/${g.name}`).normalize('NFC');
          out.push({ id: g.id, path });
          // subGroups is empty since Keycloak 23: subGroupCount says whether to walk children.
          if ((g.subGroupCount ?? 0) > 0) await walk(g.id, path);
        }
        if (page.length < this.pageSize) break;
      }
    };
    await walk(null, '');
    return out;
  }

  private authenticating?: Promise<void>;

  /** Concurrent requests share one sign-in. */
  private authenticate(force = false): Promise<void> {
    // Service-account tokens are short-lived: renew well before Keycloak's default 5 minutes.
    if (!force && Date.now() - this.authedAt < 60_000) return Promise.resolve();
    this.authenticating ??= this.signIn().finally(() => (this.authenticating = undefined));
    return this.authenticating;
  }

  private async signIn(): Promise<void> {
    try {
      await withTimeout(
        this.kc.auth({ grantType: 'client_credentials', clientId: this.conn.clientId, clientSecret: this.conn.clientSecret }),
        this.timeoutMs,
        'authenticating',
      );
      this.authedAt = Date.now();
    } catch (err) {
      const msg = (err as Error).message;
      // An HTTP answer (the admin client's NetworkError carries it) is what Keycloak said; no answer is unreachable.
      const status = (err as { response?: { status?: unknown } }).response?.status;
      if (status === 401 || /unauthorized|invalid_client/i.test(msg))
        throw new KeycloakError(
          `Keycloak refused the client credentials of ${this.conn.clientId} (wrong secret, or not a confidential client with service accounts)`,
          'clientSecret',
        );
      if (status === 404 || /realm does not exist/i.test(msg))
        throw new KeycloakError(`realm ${this.conn.realm} was not found at ${this.conn.baseUrl} (Keycloak said: ${msg})`, 'realm');
      if (typeof status === 'number') throw new KeycloakError(`Keycloak at ${this.conn.baseUrl} refused the sign-in (HTTP ${status}): ${msg}`, 'clientId');
      throw new KeycloakError(`Keycloak at ${this.conn.baseUrl} cannot be reached: ${msg}`, 'baseUrl');
    }
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    await this.authenticate();
    try {
      return await withTimeout(fn(), this.timeoutMs, what);
    } catch (err) {
      if (err instanceof KeycloakError) throw err;
      throw new KeycloakError(`Keycloak failed while ${what}: ${(err as Error).message}`);
    }
  }
}

function toIdpUser(
  u: { id?: string; username?: string; email?: string; firstName?: string; lastName?: string; enabled?: boolean; attributes?: Record<string, unknown> },
  attributes: string[] = [],
): IdpUser {
  const attrs: Record<string, string[]> = {};
  for (const a of attributes) {
    const v = u.attributes && Object.prototype.hasOwnProperty.call(u.attributes, a) ? u.attributes[a] : undefined;
    if (Array.isArray(v)) attrs[a] = v.map(String);
  }
  return {
    id: u.id ?? '',
    // In NFC, as the directory stores names: a decomposed spelling would plan an update every run.
    username: (u.username ?? '').normalize('NFC'),
    email: u.email?.normalize('NFC') ?? null,
    firstName: u.firstName ?? null,
    lastName: u.lastName ?? null,
    enabled: u.enabled !== false,
    ...(attributes.length ? { attributes: attrs } : {}),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new KeycloakError(`Keycloak did not answer within ${ms} ms while ${what}`)), ms);
    }),
  ]);
}
