import { z } from 'zod';
import { defineEvent } from '../envelope';
import { STREAMS } from '../streams';

export const SyncRequestedV1 = defineEvent({
  subject: 'sync.requested',
  v: 1,
  stream: STREAMS.SYNC.name,
  description: 'someone asked for a User Sync run of a connector (all users, or one user at first login)',
  data: z
    .object({
      connectorId: z.string().min(1),
      dryRun: z.boolean().default(false).describe('Plan the run and write nothing.'),
      mode: z.enum(['full', 'changes']).default('full').describe("`changes`: only the users Keycloak's events name since the last run."),
      subject: z.string().optional().describe('Only this IdP user (single-user sync at first login).'),
      requestedBy: z.string().min(1).describe('Who asked, for the run record and the audit log.'),
    })
    .strict(),
});

const countsSchema = z.object({
  usersCreated: z.number().int().nonnegative(),
  usersUpdated: z.number().int().nonnegative(),
  usersDisabled: z.number().int().nonnegative(),
  usersDeleted: z.number().int().nonnegative(),
  groupsCreated: z.number().int().nonnegative(),
  membershipsAdded: z.number().int().nonnegative(),
  membershipsRemoved: z.number().int().nonnegative(),
});

export const SyncCompletedV1 = defineEvent({
  subject: 'sync.completed',
  v: 1,
  stream: STREAMS.SYNC.name,
  description: 'a User Sync run ended (applied, held for approval, or failed) with its counts',
  data: z
    .object({
      connectorId: z.string().min(1),
      runId: z.uuid(),
      status: z.enum(['applied', 'held', 'failed', 'dry-run']).describe("`held`: the plan waits for an admin's approval (the safety breaker)."),
      counts: countsSchema.describe('What the run wrote (planned, when held or a dry run).'),
      durationMs: z.number().int().nonnegative(),
      error: z.string().optional().describe('Why the run failed.'),
    })
    .strict(),
});

/**
 * A connector was created, changed (schedule, enabled, anything) or deleted through the admin API
 * of one provisioning instance. Every instance listens (no queue group) and reads the connector's
 * schedules from the database again; a periodic reconcile from the database covers an instance
 * that missed it. Carries no configuration: the database is the one truth.
 */
export const SyncConnectorChangedV1 = defineEvent({
  subject: 'sync.connector.changed',
  v: 1,
  stream: STREAMS.SYNC.name,
  description: 'a User Sync connector was created, changed or deleted: every provisioning instance reloads its schedules from the database',
  data: z
    .object({
      connectorId: z.string().min(1).max(64),
      change: z.enum(['created', 'updated', 'deleted']),
      actor: z.string().min(1).max(255).describe('Who changed it, as in audit logs: `admin-token:<id>`.'),
    })
    .strict(),
});
