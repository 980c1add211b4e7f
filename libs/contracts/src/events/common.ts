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
