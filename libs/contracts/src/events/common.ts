import { z } from 'zod';

/** Identity-provider id as it appears in URLs (`/saml/:idp/acs`). */
export const idpIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');

/** SAML attributes / OIDC claims, normalised to lists of strings. */
export const attributesSchema = z.record(z.string(), z.array(z.string()));

export const directoryUserSchema = z.object({
  id: z.uuid(),
  username: z.string().min(1),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
  active: z.boolean(),
});
export type DirectoryUser = z.infer<typeof directoryUserSchema>;

/**
 * The directory source no IdP or connector may use: accounts and groups an admin keeps by hand.
 * The provisioning commands and User Sync batches refuse it as their `source`.
 */
export const LOCAL_SOURCE = 'local';

/**
 * Source ids no IdP or connector may take: `local` (the directory's own accounts and groups) and
 * `break-glass` (auth's sessions of the break-glass account).
 */
export const RESERVED_SOURCE_IDS: readonly string[] = [LOCAL_SOURCE, 'break-glass'];

/**
 * Names that are never a name of anything: not a member of a JSON body, a path parameter, a query
 * parameter, a property key nor an IdP's or connector's id. In JavaScript they reach an object's
 * prototype (`obj['__proto__']`), so one rule refuses them everywhere instead of each map dropping
 * or keeping them its own way (the admin APIs answer 400).
 */
export const RESERVED_NAMES: readonly string[] = ['__proto__', 'constructor', 'prototype'];
export const RESERVED_NAMES_MESSAGE = 'is a reserved name (__proto__, constructor, prototype)';

/** An IdP's or connector's id as the directory's writing commands, auth's IdPs and provisioning's connectors take it: never a reserved one. */
export const sourceIdSchema = idpIdSchema
  .refine((s) => !RESERVED_SOURCE_IDS.includes(s), "is reserved (local, break-glass): the directory's own source, not an IdP's or connector's")
  .refine((s) => !RESERVED_NAMES.includes(s), RESERVED_NAMES_MESSAGE);

/**
 * Part of what a login asserted that provisioning refused while the login went on: a group the
 * IdP does not own (`group_not_owned`), an account matched by email that it may not link
 * (`account_not_claimed`), a name that breaks the directory's name rules or looks like another
 * group's (`name_refused`: the group is left out); a display name or property value that holds a
 * NUL or a lone surrogate, or a display name that is too long (`value_refused`: not stored, the
 * field in `name`); an email address another account holds (`email_taken`: not stored, the
 * address in `name`); a group the login created, which its IdP owns from then on
 * (`group_created`); and a profile field the login did not carry, which a known user keeps
 * (`claim_absent`: the field in `name`, the attributes looked for in `reason`). For the login
 * trace (admins).
 */
export const provisioningNoticeSchema = z
  .object({
    code: z
      .enum(['group_not_owned', 'account_not_claimed', 'group_created', 'name_refused', 'value_refused', 'email_taken', 'claim_absent'])
      .describe(
        "`group_not_owned`: a group the IdP does not own; `account_not_claimed`: an account matched by email it may not link; `name_refused`: a name the name rules refuse or that looks like another group's (left out); `value_refused`: a display name or property value not stored; `email_taken`: an email another account holds (not stored); `group_created`: a group the login created, which its IdP owns from then on; `claim_absent`: a profile field the login did not carry, which a known user keeps.",
      ),
    name: z.string().max(255).describe("The group's name as asserted, the account's username, the email address or the field."),
    reason: z.string().max(500).describe('Why, in words (for `claim_absent`: the attributes looked for).'),
  })
  .strict();
export type ProvisioningNotice = z.infer<typeof provisioningNoticeSchema>;
