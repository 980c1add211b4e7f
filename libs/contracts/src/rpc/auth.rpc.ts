import { z } from 'zod';
import { attributesSchema, idpIdSchema } from '../events/common';

/** Request/reply commands auth serves over NATS (queue group `auth`). */
export const AuthRpc = {
  /** The mapping simulator replays a recorded login: its IdP, subject and attributes. */
  loginTrace: {
    subject: 'rpc.auth.login-traces.get',
    request: z.object({ traceId: z.uuid() }).strict(),
    reply: z.discriminatedUnion('found', [
      z.object({
        found: z.literal(true),
        idp: idpIdSchema,
        subject: z.string().nullable(),
        attributes: attributesSchema.nullable(),
        /** The login's protocol, and how its subject was keyed (SAML: the NameID's format or `attribute:<name>`); absent from an older auth. */
        protocol: z.enum(['saml', 'oidc']).optional(),
        subjectFormat: z.string().nullable().optional(),
      }),
      z.object({ found: z.literal(false) }),
    ]),
  },
  /**
   * Whether auth has an IdP: provisioning asks about an id its table of known IdPs (kept from the
   * idp.* events) does not hold, e.g. an IdP created before those events existed.
   */
  idpExists: {
    subject: 'rpc.auth.idps.exists',
    request: z.object({ idp: idpIdSchema }).strict(),
    reply: z.object({ exists: z.boolean() }),
  },
  /**
   * How an IdP's logins are keyed, for the mapping simulator to read a pasted SAML response as a
   * login would: the NameID format the IdP's logins ask for and its subjectAttribute (SAML only).
   */
  idpSubjectPolicy: {
    subject: 'rpc.auth.idps.subject-policy',
    request: z.object({ idp: idpIdSchema }).strict(),
    reply: z.discriminatedUnion('found', [
      z.object({ found: z.literal(true), protocol: z.enum(['saml', 'oidc']), nameIdFormat: z.string().nullable(), subjectAttribute: z.string().nullable() }),
      z.object({ found: z.literal(false) }),
    ]),
  },
} as const;
