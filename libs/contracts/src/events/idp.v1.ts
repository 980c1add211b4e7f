import { z } from 'zod';
import { defineEvent } from '../envelope';
import { STREAMS } from '../streams';
import { sourceIdSchema } from './common';

/**
 * auth's identity providers as they come and go, so a service that keeps something per IdP
 * (provisioning's settings) keeps it only for IdPs that exist. auth publishes each one after the
 * change committed (never one that did not happen), with `occurredAt` the time the change was made
 * in its transaction. An IdP's events are ordered by that time: a consumer applies one only when it
 * is not older than the last it applied for that IdP, so a redelivered or reordered event never
 * brings a deleted IdP back.
 */
const actor = z.string().min(1).max(255).describe('who changed the IdP, as in audit logs: `admin-token:<id>`, `cli:<user>`');

const idpState = z
  .object({
    idp: sourceIdSchema.describe("The IdP's id."),
    name: z.string().min(1).max(255).describe('Its name on the IdP chooser.'),
    protocol: z.enum(['saml', 'oidc']),
    enabled: z.boolean(),
    actor,
  })
  .strict();

/**
 * The attribute-mapping presets an IdP can be added with, one per IdP family (provisioning holds
 * each preset's mapping; docs/idps/ says what to configure at each IdP).
 */
export const MAPPING_PRESET_NAMES = ['keycloak', 'entra-adfs', 'okta', 'google', 'generic-oidc'] as const;
export type MappingPresetName = (typeof MAPPING_PRESET_NAMES)[number];

export const IdpCreatedV1 = defineEvent({
  subject: 'idp.created',
  v: 1,
  stream: STREAMS.IDPS.name,
  description: 'an identity provider was added in auth',
  data: idpState
    .extend({
      mappingPreset: z
        .enum(MAPPING_PRESET_NAMES)
        .optional()
        .describe("The mapping preset chosen when the IdP was added: provisioning stores it as the IdP's mapping. Absent: the environment's defaults apply."),
    })
    .strict(),
});

export const IdpUpdatedV1 = defineEvent({
  subject: 'idp.updated',
  v: 1,
  stream: STREAMS.IDPS.name,
  description: "an identity provider's configuration changed in auth",
  data: idpState,
});

export const IdpDeletedV1 = defineEvent({
  subject: 'idp.deleted',
  v: 1,
  stream: STREAMS.IDPS.name,
  description: 'an identity provider was removed from auth: what other services keep for it goes too',
  data: z.object({ idp: sourceIdSchema, actor }).strict(),
});
