/**
 * Who publishes and who consumes each event, and who serves and who calls each command: the
 * catalogue in libs/contracts says what travels, not who sends it, so this is written here by hand
 * (from the `bus.publish`, `bus.consume`/`subscribe`, `@RpcHandler` and `.call` sites in apps/ and
 * libs/). The reference test fails when a subject of the catalogue is missing here or one here is
 * no longer in it.
 */
export interface EventRoles {
  publishedBy: string;
  consumedBy: string;
}

export const EVENT_ROLES: Record<string, EventRoles> = {
  'user.authenticated': {
    publishedBy: 'auth (a validated login)',
    consumedBy: 'provisioning (durable `provisioning__user-authenticated`); auth watches its dead letters and fails the waiting login',
  },
  'user.provisioned': { publishedBy: 'provisioning', consumedBy: 'auth (the waiting login gets its session)' },
  'user.rejected': { publishedBy: 'provisioning', consumedBy: 'auth (the waiting login shows why)' },
  'sync.requested': {
    publishedBy: "other systems (Bridgekeeper's own admin API and schedules start runs directly)",
    consumedBy: 'provisioning (durable `provisioning__sync-requested`)',
  },
  'sync.completed': { publishedBy: 'provisioning', consumedBy: 'none in Bridgekeeper: for other systems' },
  'sync.connector.changed': { publishedBy: 'provisioning (admin API)', consumedBy: 'every provisioning instance (a plain subscription, no queue group)' },
  'directory.user.created': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.user.updated': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.user.disabled': { publishedBy: 'directory (outbox)', consumedBy: "auth (durable `auth__user-disabled`: ends the user's sessions)" },
  'directory.user.enabled': { publishedBy: 'directory (outbox)', consumedBy: 'auth (durable `auth__user-enabled`)' },
  'directory.user.deleted': { publishedBy: 'directory (outbox)', consumedBy: "auth (durable `auth__user-deleted`: ends the user's sessions)" },
  'directory.group.created': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.group.updated': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.group.deleted': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.membership.added': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.membership.removed': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.property.changed': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.property.removed': { publishedBy: 'directory (outbox)', consumedBy: 'none in Bridgekeeper: for other systems' },
  'directory.token.revoked': {
    publishedBy: 'directory (outbox; the CLI too)',
    consumedBy: 'every auth and provisioning instance (a plain subscription: drops the token from its cache)',
  },
  'idp.created': { publishedBy: 'auth (after the change committed)', consumedBy: 'provisioning (durable `provisioning__idp-created`)' },
  'idp.updated': { publishedBy: 'auth (after the change committed)', consumedBy: 'provisioning (durable `provisioning__idp-updated`)' },
  'idp.deleted': { publishedBy: 'auth (after the change committed)', consumedBy: 'provisioning (durable `provisioning__idp-deleted`)' },
};

export interface RpcRoles {
  servedBy: string;
  calledBy: string;
  meaning: string;
}

export const RPC_ROLES: Record<string, RpcRoles> = {
  'rpc.directory.users.provision': {
    servedBy: 'directory',
    calledBy: 'provisioning (JIT logins; the mapping simulator with `dryRun`)',
    meaning:
      'JIT: create or update a user and their IdP-managed memberships in one audited transaction, changing only what the source owns and what `grantLocalGroups` / `claimLocalUsers` grant (refusals as `notices`, or `account_not_owned`). `absent` lists what the login did not carry, which a known user keeps. A login that changes nothing (most) is answered by a read, writing only its last-login time (`loginAt`, which never moves back).',
  },
  'rpc.directory.users.resolve': {
    servedBy: 'directory',
    calledBy: 'provisioning (Manual and User Sync logins, the simulator with `dryRun`); auth (break-glass, as source `local`)',
    meaning:
      'Find the user a login names (its own, a local one with `claimLocalUsers`, never a protected one: else `refused`), changing nothing but the last-login time (`dryRun`: nothing at all). Break-glass is told whether the account is local and protected.',
  },
  'rpc.directory.sync.state': {
    servedBy: 'directory',
    calledBy: 'provisioning (User Sync)',
    meaning:
      "A page of the users a connector manages (or a changes run names), with their groups (its own and other sources' apart) and properties; cut by size under the NATS server's `max_payload`, a user too large for a page in `continued` parts (docs/user-sync.md).",
  },
  'rpc.directory.sync.groups': {
    servedBy: 'directory',
    calledBy: 'provisioning (User Sync)',
    meaning:
      "A page of the directory's groups: every group's lower-cased name, the connector's own with their IdP group, and those it may not join; cut by size likewise.",
  },
  'rpc.directory.sync.apply': {
    servedBy: 'directory',
    calledBy: 'provisioning (User Sync)',
    meaning:
      "One batch of a plan in one audited transaction, changing only what the connector owns and its grants allow. Names the name rules refuse and values it cannot store are left out and listed in `refused`, names another account holds in `conflicts`, departed users' names released for new users in `released`; `writes` and `counts` are what the batch wrote.",
  },
  'rpc.directory.sync.names-held': {
    servedBy: 'directory',
    calledBy: 'provisioning (held User Sync plans)',
    meaning:
      'Who holds the usernames (or a lookalike of them) and emails a held plan gives users, any account of any source; read when the plan is held and again before it is approved.',
  },
  'rpc.directory.tokens.verify': {
    servedBy: 'directory',
    calledBy: 'auth and provisioning (admin API tokens; a valid answer is cached 30 s)',
    meaning: 'Check an admin API token: its id, name and role, or not valid.',
  },
  'rpc.auth.login-traces.get': {
    servedBy: 'auth',
    calledBy: 'provisioning (the mapping simulator)',
    meaning: 'A recorded login for the simulator to replay: its IdP, subject, how it was keyed and its attributes.',
  },
  'rpc.auth.idps.exists': {
    servedBy: 'auth',
    calledBy: 'provisioning',
    meaning: 'Whether auth has an IdP: provisioning asks about an id no `idp.*` event has named (an IdP created before auth announced them).',
  },
  'rpc.auth.idps.subject-policy': {
    servedBy: 'auth',
    calledBy: 'provisioning (the mapping simulator)',
    meaning: 'How an IdP keys its SAML logins (`nameIdFormat`, `subjectAttribute`), so the simulator reads a pasted response as a login would.',
  },
};
