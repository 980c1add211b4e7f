import { z } from 'zod';

const attrList = z.array(z.string().min(1).max(255)).max(20);

const regex = z
  .string()
  .min(1)
  .max(500)
  .refine((p) => {
    try {
      new RegExp(p);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

/** The attribute mapping, as admins send it (validated; a bad regex is named). */
export const mappingSchema = z
  .object({
    username: z
      .object({
        source: z.enum(['subject', 'attribute', 'emailLocalPart']),
        attribute: z.string().min(1).max(255).optional(),
        fallbackToSubject: z.boolean().optional().describe('with source attribute: the subject when the attribute is absent'),
        lowercase: z.boolean().default(true),
        replace: z
          .object({
            pattern: regex,
            replacement: z.string().max(500),
          })
          .strict()
          .optional(),
      })
      .strict()
      .refine((u) => u.source !== 'attribute' || !!u.attribute, { message: 'name the attribute when source is attribute', path: ['attribute'] }),
    email: attrList,
    firstName: attrList,
    lastName: attrList,
    displayName: attrList,
    groups: z
      .object({
        attribute: attrList,
        naming: z.enum(['path', 'leaf']),
        rules: z
          .array(z.object({ match: regex, action: z.enum(['keep', 'drop']).optional(), rename: z.string().max(255).optional() }).strict())
          .max(100)
          .optional()
          .describe('first matching rule decides: drop, or keep (renamed with $1… when rename is given)'),
        skipUnmatched: z.boolean().optional().describe('drop groups no rule matched'),
        defaultForAll: z.array(z.string().min(1).max(255)).max(50).optional(),
        defaultForNew: z.array(z.string().min(1).max(255)).max(50).optional(),
        createMissing: z.boolean().optional().describe('create groups the directory lacks (default true)'),
        required: z.array(z.string().min(1).max(255)).max(50).optional().describe('the user must be in one of these (mapped) groups to sign in'),
      })
      .strict(),
    matchOn: z
      .array(z.enum(['username', 'email']))
      .max(2)
      .optional()
      .describe('link an account without an external id by username (default) and/or email: one an admin created for this IdP, or a local one when claimLocalUsers is on'),
    properties: z.record(z.string().regex(/^[A-Za-z0-9_.:-]{1,255}$/), z.string().min(1).max(255)).default({}),
  })
  .strict();

export const idpSettingsSchema = z
  .object({
    model: z.enum(['jit', 'manual', 'sync']),
    mapping: mappingSchema.optional().describe('defaults to the Keycloak mapping'),
    updateOnLogin: z.boolean().default(true),
    grantLocalGroups: z
      .array(z.string().trim().min(1).max(255))
      .max(500)
      .default([])
      .describe(
        "`local` groups (names, any case) this IdP's logins — and its User Sync connector — may put users in when the IdP asserts them; joined, never left by a login. Groups another IdP or connector owns are never joined. Default: none (the mapping's defaultForAll and defaultForNew groups are grants of their own)",
      ),
    claimLocalUsers: z
      .boolean()
      .default(false)
      .describe(
        "let this IdP's logins (and its connector) link a `local` account no IdP owns yet, by the mapping's matchOn (username, email); a protected account never. Default off: an admin creates a user for this IdP with `source` = the IdP id instead",
      ),
  })
  .strict();

export const simulateSchema = z
  .object({
    subject: z.string().min(1).max(1000).optional().describe('the SAML NameID or OIDC sub'),
    attributes: z.record(z.string(), z.array(z.string().max(4000)).max(500)).optional().describe('attributes / claims, values as lists'),
    assertionXml: z.string().max(500_000).optional().describe('a SAML assertion (or Response) to read the NameID and attributes from'),
    traceId: z.uuid().optional().describe('replay a recorded login: its subject and attributes from the login trace'),
  })
  .strict()
  .refine((v) => [v.subject, v.assertionXml, v.traceId].filter((x) => x !== undefined).length === 1, 'give one of subject (with attributes), assertionXml or traceId');

export type IdpSettingsInput = z.infer<typeof idpSettingsSchema>;
export type SimulateInput = z.infer<typeof simulateSchema>;
