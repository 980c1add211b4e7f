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
      idp: idpIdSchema.describe('The IdP the login came through.'),
      protocol: z.enum(['saml', 'oidc']),
      subject: z.string().min(1).describe("The IdP's subject: the SAML NameID (or the value of the IdP's `subjectAttribute`) or the OIDC `sub`."),
      subjectFormat: z.string().optional().describe('SAML: the NameID format, or `attribute:<name>` when the IdP keys users on an attribute.'),
      attributes: attributesSchema.describe('The SAML attributes or OIDC claims, each a list of strings.'),
      sessionIndex: z.string().optional().describe("The IdP's session index (SAML single logout)."),
      traceId: z.uuid().describe('The login trace, shown on error pages.'),
    })
    .strict(),
});
