import { z } from 'zod';

const idpId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');
const domain = z.string().toLowerCase().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, 'a domain such as example.com');

const options = {
  binding: z.enum(['HTTP-Redirect', 'HTTP-POST']),
  emailDomains: z.array(domain).max(100),
  forceAuthn: z.boolean(),
  isPassive: z.boolean(),
  nameIdFormat: z.string().max(200).nullable(),
  allowIdpInitiated: z.boolean().describe('accept logins the IdP starts; every other check still applies'),
};

/** Metadata from one of three places: a URL (refreshed), pasted XML, or entered by hand. */
const metadataSource = {
  metadataUrl: z.url({ protocol: /^https?$/ }).max(1000).optional(),
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

const oneSource = (v: { metadataUrl?: unknown; metadataXml?: unknown; manual?: unknown }) => [v.metadataUrl, v.metadataXml, v.manual].filter((x) => x !== undefined).length <= 1;

export const createIdpSchema = z
  .object({
    id: idpId,
    name: z.string().trim().min(1).max(255),
    enabled: z.boolean().default(true),
    binding: options.binding.default('HTTP-Redirect'),
    emailDomains: options.emailDomains.default([]),
    forceAuthn: options.forceAuthn.default(false),
    isPassive: options.isPassive.default(false),
    nameIdFormat: options.nameIdFormat.default(null),
    allowIdpInitiated: options.allowIdpInitiated.default(false),
    ...metadataSource,
  })
  .strict()
  .refine((v) => v.metadataUrl !== undefined || v.metadataXml !== undefined || v.manual !== undefined, 'give metadataUrl, metadataXml or manual')
  .refine(oneSource, 'give only one of metadataUrl, metadataXml, manual');

export const updateIdpSchema = z
  .object({ name: z.string().trim().min(1).max(255), enabled: z.boolean(), ...options, ...metadataSource })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .refine(oneSource, 'give only one of metadataUrl, metadataXml, manual');

export type CreateIdp = z.infer<typeof createIdpSchema>;
export type UpdateIdp = z.infer<typeof updateIdpSchema>;
