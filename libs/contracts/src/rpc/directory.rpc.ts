import { z } from 'zod';
import { directoryUserSchema, idpIdSchema, provisioningNoticeSchema, sourceIdSchema } from '../events/common';
import { propertyValueSchema } from '../property-value';

/**
 * Local groups (by name, any case) the source may put its users in, beside its own groups: the
 * admin's explicit grant. Groups of other IdPs or connectors are never joined.
 */
const grantLocalGroups = z.array(z.string().min(1).max(255)).max(500).default([]);
/** Link a `local` account no IdP owns (no external id), as the admin allowed; never a protected one. */
const claimLocalUsers = z.boolean().default(false);

/**
 * Where a syncState page goes on: after a user (its id), or inside a user whose row was cut (its
 * id, `:`, how many of its groups, other groups and properties came already). Nothing else is
 * taken: a cursor never reaches a query unchecked.
 */
export const syncStateCursor = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:[1-9][0-9]{0,8})?$/, 'a cursor the previous page gave');

/**
 * What a User Sync batch did, from its audit entries: users created, updated (profile or
 * properties; not those created, not released names), enabled, disabled, deleted; groups created,
 * renamed and linked to their IdP group; memberships added and removed; property values set and properties removed.
 */
export const syncAppliedCountsSchema = z.object({
  usersCreated: z.number().int().nonnegative(),
  usersUpdated: z.number().int().nonnegative(),
  usersEnabled: z.number().int().nonnegative(),
  usersDisabled: z.number().int().nonnegative(),
  usersDeleted: z.number().int().nonnegative(),
  groupsCreated: z.number().int().nonnegative(),
  groupsRenamed: z.number().int().nonnegative(),
  groupsLinked: z.number().int().nonnegative(),
  membershipsAdded: z.number().int().nonnegative(),
  membershipsRemoved: z.number().int().nonnegative(),
  propertiesChanged: z.number().int().nonnegative(),
  propertiesRemoved: z.number().int().nonnegative(),
});
export type SyncAppliedCounts = z.infer<typeof syncAppliedCountsSchema>;

/**
 * Request/reply commands the directory serves over NATS (queue group `directory`).
 * They live under `rpc.` so no JetStream stream captures them.
 */
export const DirectoryRpc = {
  provisionUser: {
    subject: 'rpc.directory.users.provision',
    request: z
      .object({
        /** IdP id or connector id managing the user (never `local`). */
        source: sourceIdSchema,
        externalId: z.string().min(1),
        /**
         * Names and values as the IdP sent them: the directory applies its name rules and limits
         * (a username or email it refuses is `name_refused`; a group it refuses is left out, and a
         * display name or property value it refuses is not stored, each with a notice), so no
         * length or character here fails the login for want of a check on this side.
         */
        /** Absent only when `absent` lists username and no fallback applies: a known user keeps theirs, a new one is `no_username`. */
        username: z.string().min(1).optional(),
        email: z.email().nullable(),
        displayName: z.string().nullable(),
        /**
         * What the login did not carry (an absent claim is not an empty value): a known user keeps
         * what the directory holds for these. For a new user the value sent is used: `username` a
         * fallback (the email, a NameID that names a person), the email and display name null.
         * `groups` absent: no managed membership is left (the groups sent, the mapping's defaults,
         * are still joined).
         */
        absent: z.array(z.enum(['username', 'email', 'displayName', 'groups'])).default([]),
        /**
         * Groups the IdP asserts: groups of the same source are created when missing and their
         * memberships made to match; granted local groups are joined (never left); any other
         * group is not joined, and the reply's notices say so.
         */
        groups: z.array(z.string().min(1)),
        /** One value a string, several a list (property-value.ts). Only these keys are set; other properties stay. */
        properties: z.record(z.string(), propertyValueSchema).default({}),
        /** Groups a newly created user joins (local or the source's own, created local when missing; never removed by provisioning). */
        newUserGroups: z.array(z.string().min(1)).default([]),
        /** Create asserted groups the directory lacks (else those memberships are skipped). */
        createMissingGroups: z.boolean().default(true),
        /**
         * Besides the IdP subject, link an account without an external id by these: one an admin
         * created for this source, or (claimLocalUsers) a local one. Never a protected account.
         */
        matchOn: z.array(z.enum(['username', 'email'])).default(['username']),
        grantLocalGroups,
        claimLocalUsers,
        /** Who asks, for the audit trail: `login:<traceId>`, `sync:<runId>`. */
        actor: z.string().min(1),
        /** Compute everything, write nothing (the mapping simulator): the answer lists the changes. */
        dryRun: z.boolean().default(false),
        /**
         * When the login happened (its user.authenticated event's occurredAt); the last-login
         * time notes it (no later than now) and never moves back, so a redelivered login notes
         * nothing new. Default: now.
         */
        loginAt: z.iso.datetime().optional(),
      })
      .strict()
      .refine((r) => r.username !== undefined || r.absent.includes('username'), {
        message: 'a username is required unless absent lists it',
        path: ['username'],
      }),
    reply: z.discriminatedUnion('status', [
      z.object({
        status: z.literal('provisioned'),
        user: directoryUserSchema,
        groups: z.array(z.string()),
        created: z.boolean(),
        changed: z.boolean(),
        /** With dryRun: what a real login would change, as audit entries (before/after). */
        changes: z.array(z.object({ action: z.string(), targetType: z.string(), before: z.unknown().nullable(), after: z.unknown().nullable() })).optional(),
        /** What the login asserted that was refused while it went on (absent when nothing was). */
        notices: z.array(provisioningNoticeSchema).optional(),
      }),
      z.object({ status: z.literal('disabled'), user: directoryUserSchema }),
      /**
       * account_not_owned: the username (or subject) names an account this source may not link or
       * change. name_refused: the username or email breaks the name rules or looks like another
       * user's (the message says which and why). no_username: the login carries no username and
       * names no known user.
       */
      z.object({
        status: z.literal('error'),
        code: z.enum(['invalid_request', 'conflict', 'seat_limit', 'account_not_owned', 'name_refused', 'no_username']),
        message: z.string(),
      }),
    ]),
  },
  /**
   * The Manual and User Sync models: find the user a login names (source + subject, else the
   * username of an account of the same source, or with claimLocalUsers a local one; never a
   * protected one) without creating or changing anything but the last-login time (nothing at all
   * with dryRun). Break-glass asks with source `local`: the directory's own accounts, protected ones
   * included, and the reply says whether it found one that is local and protected.
   */
  resolveUser: {
    subject: 'rpc.directory.users.resolve',
    request: z
      .object({
        source: idpIdSchema,
        externalId: z.string().min(1),
        username: z.string().min(1).max(255),
        /** As for provisionUser: when the login happened; the last-login time never moves back. */
        loginAt: z.iso.datetime().optional(),
        /** Find the user without noting a login (the mapping simulator). */
        dryRun: z.boolean().default(false),
        claimLocalUsers,
        /**
         * The login's subject is what this source keys its users on (their externalId): an account
         * of the source linked to another subject is another person (refused), and one not linked
         * yet (an admin created it for the IdP: the Manual model) is linked to the subject at this
         * login. False only for User Sync logins over SAML, whose NameID is the username while the
         * connector keys its users on Keycloak's id: those match by username among the connector's
         * own users.
         */
        subjectKeysUsers: z.boolean().default(true),
      })
      .strict(),
    reply: z.discriminatedUnion('status', [
      z.object({
        status: z.literal('found'),
        user: directoryUserSchema,
        groups: z.array(z.string()),
        /** The account's source, and whether it is protected (break-glass accepts only a protected local account). */
        source: z.string().optional(),
        protected: z.boolean().default(false),
      }),
      z.object({ status: z.literal('disabled'), user: directoryUserSchema }),
      z.object({ status: z.literal('not_found') }),
      /** The username names an account this source may not use (protected, local without the grant, another source's). */
      z.object({ status: z.literal('refused'), code: z.literal('account_not_owned'), reason: z.string() }),
    ]),
  },
  /**
   * User Sync: a page of what the directory holds for one connector (source), or of the users a
   * changes run names. The directory fills a page up to a byte budget under the NATS server's
   * max_payload (so no directory is too large to read) and `nextCursor` says where the next one
   * starts; `limit` only caps the users a page reads. A user whose row alone is larger than the
   * budget comes in parts: the part that ends a page is `continued`, and the next page starts with
   * the same user (same fields) and the rest of its groups, then other groups, then properties
   * (by key). The reader joins the parts before using the row. The directory's groups are read
   * apart, page by page (syncGroups).
   */
  syncState: {
    subject: 'rpc.directory.sync.state',
    request: z
      .object({
        source: idpIdSchema,
        /** The previous page's nextCursor, as it was: refused otherwise. */
        cursor: syncStateCursor.optional(),
        limit: z.number().int().min(1).max(2000).default(1000),
        /**
         * Only these of the source's users (by IdP id); with the previous page's cursor (and the
         * same list) the pages of that answer after the first.
         */
        externalIds: z.array(z.string().min(1).max(255)).max(2000).optional(),
      })
      .strict(),
    reply: z.object({
      users: z.array(
        z.object({
          id: z.uuid(),
          externalId: z.string().nullable(),
          username: z.string(),
          email: z.string().nullable(),
          displayName: z.string().nullable(),
          active: z.boolean(),
          /** Names of the user's groups of this source. */
          groups: z.array(z.string()),
          /** Names of the user's groups of other sources (local, other IdPs): joined, never left by this source. */
          otherGroups: z.array(z.string()).default([]),
          /** Every property of the user (the connector's keys and others'): one value a string, several a list. */
          properties: z.record(z.string(), propertyValueSchema),
          /** This is a part of the user's row: the rest of its groups and properties start the next page. */
          continued: z.literal(true).optional(),
        }),
      ),
      /** With externalIds, on the first page: how many of the source's users are active. */
      activeUsers: z.number().int().nonnegative().optional(),
      /** Where the next page starts (pass it back as it is), or null: no more. */
      nextCursor: syncStateCursor.nullable(),
    }),
  },
  /**
   * User Sync: a page of the directory's groups (every group, by id), as the plan needs them: every
   * group's lower-cased name, this source's own groups, and those the source may not join. Filled
   * up to a byte budget under the NATS server's max_payload, like syncState's pages; the reader
   * joins the lists of every page.
   */
  syncGroups: {
    subject: 'rpc.directory.sync.groups',
    request: z
      .object({
        source: idpIdSchema,
        /** The id of the last group of the previous page (its nextCursor): a UUID, refused otherwise. */
        cursor: z.uuid().optional(),
        /** As for syncApply: which local groups the source may join (for groupsNotGrantable). */
        grantLocalGroups,
      })
      .strict(),
    reply: z.object({
      /** Lower-cased names of this page's groups. */
      groupNames: z.array(z.string()),
      /** This page's groups of the source, with the IdP group each one is (null: made before groups were linked by id). */
      ownGroups: z.array(z.object({ name: z.string(), externalId: z.string().nullable() })),
      /** Lower-cased names of this page's groups the source may not join: other sources', local ones not granted. */
      groupsNotGrantable: z.array(z.string()),
      nextCursor: z.uuid().nullable(),
    }),
  },
  /** User Sync: one batch of a plan, applied in one audited transaction. */
  syncApply: {
    subject: 'rpc.directory.sync.apply',
    request: z
      .object({
        source: sourceIdSchema,
        actor: z.string().min(1),
        /** Memberships are added only in the source's own groups and these local ones; removed only in its own. */
        grantLocalGroups,
        /** Upserts may link a local account without an external id by username (never a protected one). */
        claimLocalUsers,
        /**
         * Names and values as the IdP has them: the directory applies its name rules and limits to
         * each and leaves out only what breaks them (`refused`), so one over-long or malformed name
         * or value never fails the batch, and with it every run.
         */
        groupsToCreate: z
          .array(
            z.union([
              z
                .string()
                .min(1)
                .transform((name) => ({ name, externalId: null as string | null })),
              z.object({ name: z.string().min(1), externalId: z.string().min(1).max(255).nullable() }),
            ]),
          )
          .max(5000)
          .default([]),
        /** The source's groups renamed in place (found by IdP group id, only while still named `from`), before anything else of the batch. */
        groupsToRename: z
          .array(z.object({ externalId: z.string().min(1).max(255), from: z.string().min(1), to: z.string().min(1) }))
          .max(5000)
          .default([]),
        /** The source's groups made before groups were linked by IdP id, linked to the IdP group of their name. */
        groupsToLink: z
          .array(z.object({ name: z.string().min(1), externalId: z.string().min(1).max(255) }))
          .max(5000)
          .default([]),
        upsert: z
          .array(
            z.object({
              externalId: z.string().min(1),
              username: z.string().min(1),
              email: z.string().nullable(),
              displayName: z.string().nullable(),
              active: z.boolean(),
              /** Set to these values (one value a string, several a list); other keys stay. */
              properties: z.record(z.string(), propertyValueSchema),
              /** Keys of the connector's own properties the IdP no longer has: removed (audited, evented). */
              removeProperties: z.array(z.string().min(1).max(255)).max(1000).optional(),
            }),
          )
          .max(2000)
          .default([]),
        setActive: z
          .array(z.object({ id: z.uuid(), active: z.boolean() }))
          .max(5000)
          .default([]),
        delete: z.array(z.uuid()).max(5000).default([]),
        addMemberships: z
          .array(z.object({ externalId: z.string(), group: z.string() }))
          .max(10000)
          .default([]),
        removeMemberships: z
          .array(z.object({ externalId: z.string(), group: z.string() }))
          .max(10000)
          .default([]),
        /**
         * The IdP group a membership's group is, by the name the memberships give it: the source's
         * own group of that IdP group is meant, whatever its name now; without one, only a group
         * of another source (a granted local group) of that name, never another of its own.
         */
        groupIdentities: z
          .array(z.object({ group: z.string(), externalId: z.string().min(1).max(255) }))
          .max(10000)
          .default([]),
      })
      .strict(),
    reply: z.discriminatedUnion('status', [
      z.object({
        status: z.literal('applied'),
        /** Every row the batch wrote, one per audit entry it made (property writes and released names included). */
        writes: z.number().int().nonnegative(),
        /** What the batch did, by kind, as its audit entries say (absent from directories older than this field). */
        counts: syncAppliedCountsSchema.optional(),
        /**
         * Users and groups of the batch that were not written because a name breaks the name rules
         * or looks like another's (one bad name does not stop the run; the run reports it). A user
         * left out is left out of the batch's memberships too. `value`: a user's display name or
         * property (`name`: `displayName`, `properties.<key>`) not stored (a NUL, a lone surrogate,
         * too long); the user is written without it. Absent when none were.
         */
        refused: z
          .array(z.object({ kind: z.enum(['user', 'group', 'value']), name: z.string(), externalId: z.string().optional(), reason: z.string() }))
          .optional(),
        /**
         * Users left out because the username or email they ask for is held by another account
         * (an active user of another IdP id, another source's, a protected one): a user is the
         * IdP's id, never the name. Their memberships find no user. Absent when none were.
         */
        conflicts: z.array(z.object({ externalId: z.string(), username: z.string(), reason: z.string() })).optional(),
        /**
         * Departed users (disabled, another IdP id) whose username was released for a new user:
         * renamed `from` → `to` (and the email cleared when the new user asked for it), audited.
         */
        released: z
          .array(z.object({ id: z.string(), externalId: z.string().nullable(), from: z.string(), to: z.string(), emailReleased: z.literal(true).optional() }))
          .optional(),
      }),
      z.object({ status: z.literal('error'), code: z.enum(['invalid_request', 'conflict', 'seat_limit']), message: z.string() }),
    ]),
  },
  /**
   * User Sync: who holds the usernames and emails a held plan gives users (any account, any source;
   * for a username also any whose name looks like it, Unicode TR 39). A read; an approval compares
   * the answer with the one of when the plan was held. Names lower-cased, as asked.
   */
  namesHeld: {
    subject: 'rpc.directory.sync.names-held',
    request: z
      .object({
        usernames: z.array(z.string().min(1).max(255)).max(2000).default([]),
        emails: z.array(z.string().min(1).max(320)).max(2000).default([]),
      })
      .strict(),
    reply: z.object({
      /** Only the names some account holds. */
      held: z.array(
        z.object({
          kind: z.enum(['username', 'email']),
          name: z.string(),
          holders: z.array(
            z.object({
              id: z.string(),
              source: z.string(),
              externalId: z.string().nullable(),
              username: z.string(),
              email: z.string().nullable(),
              active: z.boolean(),
              protected: z.boolean(),
            }),
          ),
        }),
      ),
    }),
  },
  /** auth and provisioning check admin API tokens against the directory, which owns them. */
  verifyToken: {
    subject: 'rpc.directory.tokens.verify',
    request: z.object({ token: z.string().min(1).max(200) }).strict(),
    reply: z.discriminatedUnion('valid', [
      z.object({ valid: z.literal(true), tokenId: z.string(), name: z.string(), role: z.enum(['admin', 'read-only']) }),
      z.object({ valid: z.literal(false) }),
    ]),
  },
} as const;

export type ProvisionUserRequest = z.input<typeof DirectoryRpc.provisionUser.request>;
export type ProvisionUserReply = z.infer<typeof DirectoryRpc.provisionUser.reply>;
