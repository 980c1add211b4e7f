import { z } from 'zod';
import { defineEvent } from '../envelope';
import { STREAMS } from '../streams';
import { directoryUserSchema, idpIdSchema, provisioningNoticeSchema } from './common';

export const UserProvisionedV1 = defineEvent({
  subject: 'user.provisioned',
  v: 1,
  stream: STREAMS.USERS.name,
  description: 'provisioning created or updated the directory user of a login; auth issues the session',
  data: z
    .object({
      authEventId: z.uuid().describe('The id of the `user.authenticated` event this answers.'),
      traceId: z.uuid(),
      idp: idpIdSchema,
      user: directoryUserSchema.describe("The login's directory user: it exists and is active."),
      groups: z.array(z.string()).describe("The names of the user's groups."),
      created: z.boolean().describe('The login created the user.'),
      changed: z.boolean().describe('The login changed the user or their memberships.'),
      notices: z
        .array(provisioningNoticeSchema)
        .max(100)
        .optional()
        .describe(
          'What the login asserted that was refused while it went on (groups its IdP does not own, group names the name rules refuse, an email another account holds) and what it did not carry, which a known user keeps (`claim_absent`); auth writes them into the login trace. Optional: older producers send none.',
        ),
    })
    .strict(),
});

export const UserRejectedV1 = defineEvent({
  subject: 'user.rejected',
  v: 1,
  stream: STREAMS.USERS.name,
  description: 'provisioning refused a login (user disabled, mapping produced no username, …); auth shows why',
  data: z
    .object({
      authEventId: z.uuid(),
      traceId: z.uuid(),
      idp: idpIdSchema,
      code: z
        .enum([
          'user_disabled',
          'not_in_directory',
          'no_username',
          'invalid_identity',
          'required_group_missing',
          'seat_limit',
          'sync_unavailable',
          'directory_error',
          'account_not_owned',
          'name_refused',
        ])
        .describe(
          "Why. `account_not_owned`: the login names an account its IdP may not use (protected, local without the admin's grant, another source's). `name_refused`: the username or email breaks the directory's name rules (hidden or disguised characters) or looks like another user's.",
        ),
      reason: z.string().describe('The reason in words, for the login trace.'),
    })
    .strict(),
});
