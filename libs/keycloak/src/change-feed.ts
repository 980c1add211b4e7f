/**
 * What Keycloak's event store says changed, reduced to what a User Sync "changes" run must do:
 * re-read these users, or fall back to a full run because an event cannot be pinned to users (a
 * group created, renamed, moved or deleted, or imported; the user profile or user federation
 * changed).
 * Pure: the connector reads the events, this decides.
 */

/** The fields of Keycloak's AdminEventRepresentation used here. */
export interface AdminEventLike {
  time?: number;
  operationType?: string;
  resourceType?: string;
  resourcePath?: string;
  error?: string;
}

/** The fields of Keycloak's EventRepresentation (user events) used here. */
export interface UserEventLike {
  time?: number;
  type?: string;
  userId?: string;
  error?: string;
}

/**
 * User events that change what User Sync copies (a user's own profile edits, self-registration,
 * first login through a brokered IdP, deleting one's account). Keycloak saves them only when the
 * realm saves these event types.
 */
export const USER_CHANGE_EVENT_TYPES = ['REGISTER', 'UPDATE_PROFILE', 'UPDATE_EMAIL', 'DELETE_ACCOUNT', 'IDENTITY_PROVIDER_FIRST_LOGIN'] as const;

/**
 * Admin resource types whose changes reach users User Sync cannot name one by one. (A new group is
 * one of them: Keycloak records moving a group with the same path as creating one.)
 */
const FULL_RUN_RESOURCES: Record<string, string> = {
  GROUP: 'a group was created, renamed, moved or deleted',
  USER_PROFILE: "the realm's user profile changed",
  USER_FEDERATION_PROVIDER: 'user federation changed (a provider, or its sync)',
  USER_FEDERATION_MAPPER: 'a user federation mapper changed',
};

export type ChangeVerdict = { kind: 'users'; userIds: string[] } | { kind: 'full'; reason: string };

export interface ChangeRules {
  /** Keycloak time (ms) up to which the previous run accounted for every change. */
  since: number;
  /** More changed users than this: a full run reads them faster than one by one. */
  maxUsers: number;
}

const USER_PATH = /^users\/([^/]+)(?:\/|$)/;

/**
 * Folds events into a verdict. Events that touch one user (their record, their group
 * memberships, their own profile edits) name that user; events from before `since` were read
 * again only as an overlap against late commits, so they can name users but never force a full
 * run a second time. Failed operations are skipped.
 */
export class ChangeFeed {
  private readonly users = new Set<string>();
  private fullReason: string | null = null;

  constructor(private readonly rules: ChangeRules) {}

  /** A verdict is final once a full run is needed. */
  get decided(): boolean {
    return this.fullReason !== null;
  }

  addAdminEvents(events: readonly AdminEventLike[]): this {
    for (const e of events) {
      if (this.fullReason || e.error) continue;
      const type = e.resourceType ?? '';
      const path = e.resourcePath ?? '';
      const fullReason =
        FULL_RUN_RESOURCES[type] ?? (type === 'REALM' && path.startsWith('groups/') ? 'groups were imported into the realm (partial import)' : null);
      if (fullReason) {
        if ((e.time ?? 0) >= this.rules.since) this.fullReason = `${fullReason} (${e.operationType ?? 'change'} ${path || type})`;
        continue;
      }
      // A user's record, memberships, role mappings or credentials; a user added by partial import
      // (resource type REALM): re-reading a user who did not change writes nothing.
      const user = USER_PATH.exec(path)?.[1];
      if (user) this.addUser(user);
    }
    return this;
  }

  addUserEvents(events: readonly UserEventLike[]): this {
    for (const e of events) {
      if (this.fullReason || e.error || !e.userId) continue;
      if ((USER_CHANGE_EVENT_TYPES as readonly string[]).includes(e.type ?? '')) this.addUser(e.userId);
    }
    return this;
  }

  verdict(): ChangeVerdict {
    if (this.fullReason) return { kind: 'full', reason: this.fullReason };
    return { kind: 'users', userIds: [...this.users].sort() };
  }

  private addUser(id: string): void {
    this.users.add(id);
    if (this.users.size > this.rules.maxUsers) this.fullReason = `more than ${this.rules.maxUsers} users changed: a full run reads them faster than one by one`;
  }
}
