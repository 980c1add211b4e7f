import { z } from 'zod';
import { defineEvent } from '../envelope';
import { STREAMS } from '../streams';

/**
 * Directory changes, for any consumer (applications, a console, a SIEM). One payload shape for
 * all of them: which object, who changed it, and its state before and after. Written to an
 * outbox in the same transaction as the change, then published, so none is lost.
 */
export const directoryChangeData = z
  .object({
    targetType: z.enum(['user', 'group', 'membership', 'property', 'token']),
    targetId: z.string().min(1).describe("The changed object's id: the user's for a membership or a property, the token's for `token.revoked`."),
    actor: z.string().min(1).describe('Who changed it, as in the audit log: `admin-token:<id>`, `login:<traceId>`, `sync:<runId>`, `cli:<user>`.'),
    before: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe(
        'The object before the change (null when it was created). A property: `{ key: value }`, a value a string or, multi-valued, a list of strings; a token: its name and role.',
      ),
    after: z.record(z.string(), z.unknown()).nullable().describe('The object after the change (null when it was deleted or removed), shaped as `before`.'),
  })
  .strict();

/** Every change the directory announces, as `directory.<action>`: the audit log's actions are these (and token.created, audited only). */
export const DIRECTORY_ACTIONS = [
  'user.created',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'group.created',
  'group.updated',
  'group.deleted',
  'membership.added',
  'membership.removed',
  'property.changed',
  'property.removed',
  'token.revoked',
] as const;
export type DirectoryAction = (typeof DIRECTORY_ACTIONS)[number];

const change = (action: DirectoryAction, description: string) =>
  defineEvent({ subject: `directory.${action}`, v: 1, stream: STREAMS.DIRECTORY.name, data: directoryChangeData, description });

export const DirectoryEventsV1 = {
  userCreated: change('user.created', 'a directory user was created'),
  userUpdated: change('user.updated', "a directory user's profile changed"),
  userDisabled: change('user.disabled', 'a directory user was disabled (frees a licence seat)'),
  userEnabled: change('user.enabled', 'a directory user was enabled again'),
  userDeleted: change('user.deleted', 'a directory user was deleted'),
  groupCreated: change('group.created', 'a group was created'),
  groupUpdated: change('group.updated', 'a group was renamed or described'),
  groupDeleted: change('group.deleted', 'a group was deleted'),
  membershipAdded: change('membership.added', 'a user joined a group'),
  membershipRemoved: change('membership.removed', 'a user left a group'),
  propertyChanged: change('property.changed', 'a user property was set'),
  propertyRemoved: change(
    'property.removed',
    'a user property was removed (by an admin, or by User Sync when Keycloak no longer has an attribute the connector syncs)',
  ),
  tokenRevoked: change('token.revoked', 'an admin API token was revoked: every service drops it from its verification cache at once'),
} as const;

export const directoryEventFor = (action: string) => Object.values(DirectoryEventsV1).find((e) => e.subject === `directory.${action}`);
