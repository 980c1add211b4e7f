import { z } from 'zod';
import { MAPPING_PRESET_NAMES } from '@bridgekeeper/contracts';
import { KEYCLOAK_DEFAULT_MAPPING, regexProblem } from '@bridgekeeper/provisioning-model';

const attrList = z.array(z.string().min(1).max(255)).max(20);

/** A regular expression RE2 runs in linear time (docs/adr/0002): backreferences and lookaround are refused, named. */
const regex = z
  .string()
  .min(1)
  .max(500)
  .superRefine((pattern, ctx) => {
    const problem = regexProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('a JavaScript regular expression without backreferences, lookahead or lookbehind: it runs on RE2, in time linear in the input');

/** The attribute mapping, as admins send it (validated; a bad regex is named). */
export const mappingSchema = z
  .object({
    username: z
      .object({
        source: z.enum(['subject', 'attribute', 'emailLocalPart']),
        attribute: z
          .union([z.string().min(1).max(255), z.array(z.string().min(1).max(255)).min(1).max(20)])
          .optional()
          .describe('with source attribute: its name, or names tried in order'),
        fallback: z
          .array(z.enum(['nameId', 'email', 'subject']))
          .max(3)
          .optional()
          .describe(
            'with source attribute, when it is absent, tried in order: nameId (a SAML NameID that names a person: not persistent, not transient, never an OIDC sub), email, subject (any, opaque ones too). A fallback names a new user only: a known user keeps their username',
          ),
        fallbackToSubject: z.boolean().optional().describe('older mappings: the subject as the last fallback'),
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
      .describe(
        'link an account without an external id by username (default) and/or email: one an admin created for this IdP, or a local one when claimLocalUsers is on',
      ),
    properties: z.record(z.string().regex(/^[A-Za-z0-9_.:-]{1,255}$/), z.string().min(1).max(255)).default({}),
    authoritative: z
      .array(z.enum(['email', 'displayName', 'groups']))
      .max(3)
      .optional()
      .describe(
        'fields the IdP sends on every login whenever they have a value: a login (with any profile claim) that leaves one out empties it (email or name cleared, managed groups left). Any other field a login leaves out is kept as the directory holds it. Default: none (the Keycloak mapping: groups)',
      ),
  })
  .strict();

const model = z.enum(['jit', 'manual', 'sync']).describe('jit (Just-in-Time), manual or sync (User Sync)');
const grantLocalGroups = z
  .array(z.string().trim().min(1).max(255))
  .max(500)
  .describe(
    "`local` groups (names, any case) this IdP's logins — and its User Sync connector — may put users in when the IdP asserts them; joined, never left by a login. Groups another IdP or connector owns are never joined. Default: none (the mapping's defaultForAll and defaultForNew groups are grants of their own)",
  );
const claimLocalUsers = z
  .boolean()
  .describe(
    "let this IdP's logins (and its connector) link a `local` account no IdP owns yet, by the mapping's matchOn (username, email); a protected account never. Default off: an admin creates a user for this IdP with `source` = the IdP id instead",
  );
const updateOnLogin = z.boolean().describe('JIT: update profile, properties and managed groups on every login (else only on the first). Default true');

/** PUT: the whole document. A member left out is an error, never a default that silently replaces what was set. */
export const idpSettingsSchema = z
  .object({
    model,
    mapping: mappingSchema,
    updateOnLogin,
    grantLocalGroups,
    claimLocalUsers,
  })
  .strict();

/**
 * The document a merge patch leaves, validated as PUT's is; a member the patch removed (null)
 * takes its default where it has one: the Keycloak mapping, updateOnLogin true, no grants. The
 * model has none.
 */
export const mergedSettingsSchema = z
  .object({
    model,
    mapping: mappingSchema.default(KEYCLOAK_DEFAULT_MAPPING as z.output<typeof mappingSchema>),
    updateOnLogin: updateOnLogin.default(true),
    grantLocalGroups: grantLocalGroups.default([]),
    claimLocalUsers: claimLocalUsers.default(false),
  })
  .strict();

/** PATCH (a JSON merge patch, RFC 7396), as the OpenAPI document shows it: the result is checked as PUT's document is. */
export const idpSettingsPatchSchema = z
  .object({
    model: model.nullable().optional(),
    mapping: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .describe(
        'merged member by member (objects within it too); a member set to null is removed and falls back to its default where it has one; null: the Keycloak mapping',
      ),
    updateOnLogin: z.boolean().nullable().optional().describe('null: the default, true'),
    grantLocalGroups: z.array(z.string()).nullable().optional().describe('replaces the list; null: the default, none'),
    claimLocalUsers: z.boolean().nullable().optional().describe('null: the default, false'),
  })
  .strict();

export const simulateSchema = z
  .object({
    subject: z.string().min(1).max(1000).optional().describe('the SAML NameID or OIDC sub'),
    attributes: z
      .record(z.string(), z.array(z.string().max(4000)).max(500))
      .optional()
      .describe('attributes / claims, values as lists'),
    protocol: z
      .enum(['saml', 'oidc'])
      .optional()
      .describe("with subject: the login's protocol (an OIDC sub never serves as a username; a SAML NameID may, by its format)"),
    subjectFormat: z.string().max(200).optional().describe('with subject: the SAML NameID format (persistent and transient NameIDs never serve as a username)'),
    assertionXml: z.string().max(500_000).optional().describe('a SAML assertion (or Response) to read the NameID and attributes from'),
    traceId: z.uuid().optional().describe('replay a recorded login: its subject and attributes from the login trace'),
  })
  .strict()
  .refine(
    (v) => [v.subject, v.assertionXml, v.traceId].filter((x) => x !== undefined).length === 1,
    'give one of subject (with attributes), assertionXml or traceId',
  );

export type IdpSettingsInput = z.infer<typeof idpSettingsSchema>;
export type IdpSettingsPatch = z.infer<typeof idpSettingsPatchSchema>;
export type SimulateInput = z.infer<typeof simulateSchema>;

/** POST /api/v1/idps/{idp}/provisioning/mapping-preset: which family's mapping to apply. */
export const applyPresetSchema = z
  .object({
    preset: z.enum(MAPPING_PRESET_NAMES).describe("the IdP family whose mapping replaces this IdP's mapping (GET /api/v1/mapping-presets lists them)"),
  })
  .strict();
export type ApplyPresetInput = z.infer<typeof applyPresetSchema>;
