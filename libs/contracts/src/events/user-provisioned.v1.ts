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
      /** id of the user.authenticated event this answers. */
      authEventId: z.uuid(),
      traceId: z.uuid(),
      idp: idpIdSchema,
      user: directoryUserSchema,
      groups: z.array(z.string()),
      created: z.boolean(),
      changed: z.boolean(),
      /**
       * What the login asserted that was refused while it went on (a group its IdP does not own, an
       * account it may not claim); auth writes them into the login trace. Optional: older
       * producers send none.
       */
      notices: z.array(provisioningNoticeSchema).max(100).optional(),
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
      /**
       * account_not_owned: the login names an account its IdP may not use (protected, local without
       * the admin's grant, another source's). name_refused: the username or email breaks the
       * directory's name rules (hidden or disguised characters) or looks like another user's.
       */
      code: z.enum(['user_disabled', 'not_in_directory', 'no_username', 'invalid_identity', 'required_group_missing', 'seat_limit', 'sync_unavailable', 'directory_error', 'account_not_owned', 'name_refused']),
      reason: z.string(),
    })
    .strict(),
});
