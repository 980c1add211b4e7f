import { propertyValueSchema } from '@bridgekeeper/contracts';
import { z } from 'zod';
import { nameSchema } from '@bridgekeeper/names';
import { pageQuery } from '@bridgekeeper/data';

const username = nameSchema('username').describe(
  `${nameSchema('username').description} Unique case-insensitively, and by look: a username that looks like another user's (the same Unicode TR 39 skeleton, in lower case or as written: "аlice" with a Cyrillic а, "ａｌｉｃｅ", "bi11" or "biII" for "bill") is refused with 409.`,
);
const source = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');

const protectedFlag = z
  .boolean()
  .describe('no IdP or connector may ever claim, link or change this account (local administrators, the break-glass account); only `local` accounts');
const protectedIsLocal = { message: 'only a local account (source `local`) can be protected', path: ['protected'] };

const userFields = z
  .object({
    username,
    email: z.email().max(320).nullable().default(null),
    displayName: z.string().trim().max(255).nullable().default(null),
    active: z.boolean().default(true),
    source: source
      .default('local')
      .describe(
        "the IdP or connector id for a user an admin creates for that IdP (the Manual model: its first login links it by username), or `local` for an account kept by hand, which no IdP may claim unless the IdP's provisioning settings allow it (claimLocalUsers)",
      ),
    externalId: z.string().min(1).max(255).nullable().default(null).describe("the IdP's immutable user id"),
    protected: protectedFlag.default(false),
  })
  .strict();

export const createUserSchema = userFields.refine((u) => !u.protected || u.source === 'local', protectedIsLocal);

export const updateUserSchema = z
  .object({
    username: username.optional(),
    email: z.email().max(320).nullable().optional(),
    displayName: z.string().trim().max(255).nullable().optional(),
    externalId: z.string().min(1).max(255).nullable().optional(),
    protected: protectedFlag.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change');

export const listUsersSchema = z
  .object({
    ...pageQuery,
    status: z.enum(['active', 'disabled']).optional(),
    source: source.optional(),
    group: z.string().max(255).optional().describe('group id or name: members only'),
    q: z.string().trim().min(1).max(100).optional().describe('contains, case-insensitive: username, email, display name'),
    sort: z.enum(['username', '-username', 'createdAt', '-createdAt', 'updatedAt', '-updatedAt']).default('username'),
  })
  .strict();

/**
 * A property's value: a string, or a list of strings (a multi-valued property: repeats and empty
 * strings left out, a list of one stored as its string; docs/admin-api.md).
 */
export const propertyValue = z
  .union([z.string().max(4000), z.array(z.string().max(4000)).min(1).max(100)])
  .pipe(propertyValueSchema)
  .describe('a string, or a list of strings (a multi-valued property)');
export const setPropertySchema = z.object({ value: propertyValue }).strict();
export const propertyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : -');

export const setUserGroupsSchema = z
  .object({ groupIds: z.array(z.uuid()).max(1000) })
  .strict()
  .describe("replaces the user's memberships with exactly these groups");

export const bulkUpsertUsersSchema = z
  .object({
    users: z
      .array(
        // A field left out is left alone on an existing user (a new user gets the defaults): an
        // import of display names does not blank emails, and never enables a disabled user.
        z
          .object({
            username,
            email: userFields.shape.email.removeDefault().optional(),
            displayName: userFields.shape.displayName.removeDefault().optional(),
            active: z.boolean().optional().describe('left out: an existing user keeps their state (a new one is active)'),
            source: userFields.shape.source.removeDefault().optional().describe('left out: an existing user keeps theirs (a new one is local)'),
            externalId: userFields.shape.externalId.removeDefault().optional(),
            protected: protectedFlag.optional().describe("left out: an existing user's flag is kept (a new user's is false)"),
            properties: z.record(propertyKey, propertyValue).optional().describe('these keys are set; other properties stay'),
          })
          .strict()
          .refine((u) => !u.protected || (u.source ?? 'local') === 'local', protectedIsLocal),
      )
      .min(1)
      .max(5000),
  })
  .strict()
  .describe(
    'creates or updates users by (source, externalId), else by username; all or nothing. On an existing user only the fields an item names change (a disabled user stays disabled unless the item sends active: true); a new user gets the defaults for the rest',
  );

export type CreateUser = z.infer<typeof createUserSchema>;
export type UpdateUser = z.infer<typeof updateUserSchema>;
export type ListUsers = z.infer<typeof listUsersSchema>;
export type BulkUpsertUsers = z.infer<typeof bulkUpsertUsersSchema>;
