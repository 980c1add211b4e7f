import { MAPPING_PRESET_NAMES, sourceIdSchema } from '@bridgekeeper/contracts';
import { ID_TOKEN_ALGORITHMS } from '@bridgekeeper/oidc';
import { z } from 'zod';

/** Lower-case letters, digits and dashes; never a reserved source id (`local`, `break-glass`). */
const idpId = sourceIdSchema;
const domain = z
  .string()
  .toLowerCase()
  .regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, 'a domain such as example.com');

const options = {
  binding: z.enum(['HTTP-Redirect', 'HTTP-POST']),
  emailDomains: z.array(domain).max(100),
  forceAuthn: z.boolean(),
  isPassive: z.boolean(),
  nameIdFormat: z
    .string()
    .max(200)
    .nullable()
    .describe('the NameID format the AuthnRequest asks for; a response in another format is refused (null: any format)'),
  subjectAttribute: z
    .string()
    .min(1)
    .max(255)
    .nullable()
    .describe(
      'key users on this attribute (its one value) instead of the NameID: needed for an IdP that sends transient NameIDs, which are refused otherwise (null: the NameID)',
    ),
  allowIdpInitiated: z.boolean().describe('accept logins the IdP starts; every other check still applies'),
  allowCbcEncryption: z
    .boolean()
    .describe(
      'accept assertions encrypted with AES-CBC (default false: AES-GCM only). Weak: CBC has no integrity protection, so an attacker can read an encrypted assertion by sending altered copies (padding oracle) and can downgrade GCM-encrypted ones; only for an IdP that cannot encrypt with AES-GCM',
    ),
};

/** Metadata from one of three places: a URL (refreshed), pasted XML, or entered by hand. */
const metadataSource = {
  metadataUrl: z
    .url({ protocol: /^https?$/ })
    .max(1000)
    .optional(),
  metadataXml: z.string().max(1_000_000).optional(),
  manual: z
    .object({
      entityId: z.string().min(1).max(1000),
      ssoUrl: z.url({ protocol: /^https?$/ }),
      sloUrl: z.url({ protocol: /^https?$/ }).optional(),
      certificates: z.array(z.string().min(100).max(20_000)).min(1).max(10).describe('PEM or base64 DER; several during a key rollover'),
    })
    .strict()
    .optional(),
};

const oneSource = (v: { metadataUrl?: unknown; metadataXml?: unknown; manual?: unknown }) =>
  [v.metadataUrl, v.metadataXml, v.manual].filter((x) => x !== undefined).length <= 1;
const samlSources = (v: { metadataUrl?: unknown; metadataXml?: unknown; manual?: unknown }) =>
  [v.metadataUrl, v.metadataXml, v.manual].filter((x) => x !== undefined).length;

const oidcFields = {
  issuer: z
    .url({ protocol: /^https?$/ })
    .max(1000)
    .describe("the IdP's issuer, e.g. https://kc.example.com/realms/corp (discovery is read from it)"),
  clientId: z.string().min(1).max(255),
  clientSecret: z.string().min(1).max(1000).describe('stored encrypted, never returned'),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope token'))
    .min(1)
    .max(20)
    .refine((s) => s.includes('openid'), 'must include openid'),
  groupsClaim: z.string().min(1).max(255).describe("the claim that carries groups (Keycloak: the Group Membership mapper's claim name)"),
  idTokenAlgorithm: z
    .enum(ID_TOKEN_ALGORITHMS)
    .describe('the one algorithm ID tokens may be signed with (EdDSA and Ed25519, its fully specified name, are one)'),
  userinfo: z.boolean().describe('also read the userinfo endpoint and merge its claims (same sub required)'),
};

const oidcCreate = z
  .object({
    ...oidcFields,
    scopes: oidcFields.scopes.default(['openid', 'email', 'profile']),
    groupsClaim: oidcFields.groupsClaim.default('groups'),
    idTokenAlgorithm: oidcFields.idTokenAlgorithm.default('RS256'),
    userinfo: oidcFields.userinfo.default(true),
  })
  .strict();

export const createIdpSchema = z
  .object({
    id: idpId,
    name: z.string().trim().min(1).max(255),
    enabled: z.boolean().default(true),
    protocol: z.enum(['saml', 'oidc']).default('saml'),
    oidc: oidcCreate.optional().describe('protocol oidc: issuer, client and claims'),
    binding: options.binding.default('HTTP-Redirect'),
    emailDomains: options.emailDomains.default([]),
    forceAuthn: options.forceAuthn.default(false),
    isPassive: options.isPassive.default(false),
    nameIdFormat: options.nameIdFormat.default(null),
    subjectAttribute: options.subjectAttribute.default(null),
    allowIdpInitiated: options.allowIdpInitiated.default(false),
    allowCbcEncryption: options.allowCbcEncryption.default(false),
    mappingPreset: z
      .enum(MAPPING_PRESET_NAMES)
      .optional()
      .describe(
        "the attribute mapping for this IdP's family (keycloak, entra-adfs, okta, google, generic-oidc; docs/idps/): provisioning stores it as the IdP's mapping. Left out: the environment's defaults (the Keycloak mapping) until an admin sets one",
      ),
    ...metadataSource,
  })
  .strict()
  .refine((v) => v.protocol !== 'saml' || samlSources(v) > 0, 'give metadataUrl, metadataXml or manual')
  .refine(oneSource, 'give only one of metadataUrl, metadataXml, manual')
  .refine((v) => v.protocol !== 'oidc' || (v.oidc !== undefined && samlSources(v) === 0), {
    message: 'an OIDC IdP takes oidc (issuer, clientId, clientSecret), not SAML metadata',
    path: ['oidc'],
  })
  .refine((v) => v.protocol !== 'saml' || v.oidc === undefined, { message: 'oidc settings need protocol: oidc', path: ['oidc'] });

export const updateIdpSchema = z
  .object({ name: z.string().trim().min(1).max(255), enabled: z.boolean(), ...options, ...metadataSource, oidc: z.object(oidcFields).partial().strict() })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .refine(oneSource, 'give only one of metadataUrl, metadataXml, manual');

export type CreateIdp = z.infer<typeof createIdpSchema>;
export type UpdateIdp = z.infer<typeof updateIdpSchema>;
