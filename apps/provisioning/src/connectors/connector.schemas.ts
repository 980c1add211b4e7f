import { RESERVED_NAMES, RESERVED_NAMES_MESSAGE, RESERVED_SOURCE_IDS } from '@bridgekeeper/contracts';
import { CronTime } from 'cron';
import { z } from 'zod';

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes');

const cron = z
  .string()
  .max(100)
  .refine((v) => {
    if (v === '') return true;
    try {
      new CronTime(v);
      return true;
    } catch {
      return false;
    }
  }, 'not a cron expression (e.g. "0 * * * *" for hourly); empty for on demand only');

/** Every field without defaults: an update names only what changes (zod would fill defaults in). */
const fields = {
  id: id
    .refine((v) => !RESERVED_SOURCE_IDS.includes(v), "is reserved (local, break-glass): the directory's own source, not a connector's")
    .refine((v) => !RESERVED_NAMES.includes(v), RESERVED_NAMES_MESSAGE)
    .describe('also the directory source of the synced users and groups'),
  idp: id.describe("auth's IdP id whose logins this connector serves"),
  baseUrl: z.url({ protocol: /^https?$/ }),
  realm: z.string().min(1).max(255),
  clientId: z.string().min(1).max(255),
  clientSecret: z.string().min(1).max(500).describe('stored encrypted, never returned'),
  schedule: cron.describe('cron (UTC) of full runs, default hourly; empty for on demand only'),
  changesSchedule: cron.describe(
    "cron (UTC) of changes runs, which read only the users Keycloak's admin events name (the realm must save admin events); empty (default) for none",
  ),
  enabled: z.boolean(),
  requiredGroups: z.array(z.string().min(1).max(500)).max(100).describe('only members of these group paths are synced; empty = everyone'),
  includeSubgroups: z.boolean(),
  naming: z.enum(['path', 'leaf']).describe('`/eng/backend` becomes `eng/backend` (path) or `backend` (leaf)'),
  attributes: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z0-9_.:-]{1,255}$/)
        .refine((v) => !RESERVED_NAMES.includes(v), RESERVED_NAMES_MESSAGE),
    )
    .max(50)
    .describe('Keycloak user attributes copied to user properties (under the same names)'),
  vanished: z.enum(['disable', 'delete', 'keep']).describe('users gone from Keycloak, disabled there, or out of scope'),
  stripGroupsOfVanished: z.boolean(),
  maxRemovalShare: z.number().min(0).max(1).describe('hold a run that would disable or delete more than this share of users'),
};

export const createConnectorSchema = z
  .object({
    ...fields,
    schedule: fields.schedule.default('0 * * * *'),
    changesSchedule: fields.changesSchedule.default(''),
    enabled: fields.enabled.default(true),
    requiredGroups: fields.requiredGroups.default([]),
    includeSubgroups: fields.includeSubgroups.default(true),
    naming: fields.naming.default('path'),
    attributes: fields.attributes.default([]),
    vanished: fields.vanished.default('disable'),
    stripGroupsOfVanished: fields.stripGroupsOfVanished.default(false),
    maxRemovalShare: fields.maxRemovalShare.default(0.1),
  })
  .strict();

const { id: _id, ...updatable } = fields;
export const updateConnectorSchema = z
  .object(updatable)
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change');

export const syncQuerySchema = z
  .object({
    dryRun: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    mode: z
      .enum(['full', 'changes'])
      .default('full')
      .describe("`changes`: only the users Keycloak's events name since the last run (a full run where they cannot tell)"),
  })
  .strict();

export const saveQuerySchema = z
  .object({
    verify: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true')
      .describe(
        '`false` saves without asking Keycloak (the realm, client, secret and required groups are not checked; `idp` still is): for setting up while Keycloak cannot be reached. Recorded in the audit entry; run the connection test once it can',
      ),
  })
  .strict();

export type CreateConnector = z.infer<typeof createConnectorSchema>;
export type UpdateConnector = z.infer<typeof updateConnectorSchema>;
