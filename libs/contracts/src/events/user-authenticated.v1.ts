import { z } from 'zod';
import { defineEvent } from '../envelope';
import { STREAMS } from '../streams';
import { attributesSchema, idpIdSchema } from './common';

export const UserAuthenticatedV1 = defineEvent({
  subject: 'user.authenticated',
  v: 1,
  stream: STREAMS.USERS.name,
  description: 'auth validated a login at an IdP; provisioning answers with user.provisioned or user.rejected',
  data: z
    .object({
      idp: idpIdSchema,
      protocol: z.enum(['saml', 'oidc']),
      /** The IdP's subject: SAML NameID (or the IdP's subjectAttribute's value) or OIDC `sub`. */
      subject: z.string().min(1),
      /** SAML: the NameID format, or `attribute:<name>` when the IdP keys users on an attribute. */
      subjectFormat: z.string().optional(),
      attributes: attributesSchema,
      sessionIndex: z.string().optional(),
      /** Login-trace id, shown on error pages. */
      traceId: z.uuid(),
    })
    .strict(),
});
