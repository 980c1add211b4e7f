import { z } from 'zod';
import { directoryUserSchema, idpIdSchema } from '../events/common';

/**
 * Request/reply commands the directory serves over NATS (queue group `directory`).
 * They live under `rpc.` so no JetStream stream captures them.
 */
export const DirectoryRpc = {
  provisionUser: {
    subject: 'rpc.directory.users.provision',
    request: z
      .object({
        /** IdP id or connector id managing the user. */
        source: idpIdSchema,
        externalId: z.string().min(1),
        username: z.string().min(1).max(255),
        email: z.email().nullable(),
        displayName: z.string().max(255).nullable(),
        /** Groups the IdP asserts; memberships of groups from the same source are made to match. */
        groups: z.array(z.string().min(1).max(255)),
        properties: z.record(z.string(), z.string()).default({}),
        /** Who asks, for the audit trail: `login:<traceId>`, `sync:<runId>`. */
        actor: z.string().min(1),
      })
      .strict(),
    reply: z.discriminatedUnion('status', [
      z.object({
        status: z.literal('provisioned'),
        user: directoryUserSchema,
        groups: z.array(z.string()),
        created: z.boolean(),
        changed: z.boolean(),
      }),
      z.object({ status: z.literal('disabled'), user: directoryUserSchema }),
      z.object({ status: z.literal('error'), code: z.enum(['invalid_request', 'conflict', 'seat_limit']), message: z.string() }),
    ]),
  },
  /**
   * The Manual model: find the user a login names (IdP id + subject, else username) without
   * creating or changing anything but the last-login time.
   */
  resolveUser: {
    subject: 'rpc.directory.users.resolve',
    request: z.object({ source: idpIdSchema, externalId: z.string().min(1), username: z.string().min(1).max(255) }).strict(),
    reply: z.discriminatedUnion('status', [
      z.object({ status: z.literal('found'), user: directoryUserSchema, groups: z.array(z.string()) }),
      z.object({ status: z.literal('disabled'), user: directoryUserSchema }),
      z.object({ status: z.literal('not_found') }),
    ]),
  },
  /** auth and provisioning check admin API tokens against the directory, which owns them. */
  verifyToken: {
    subject: 'rpc.directory.tokens.verify',
    request: z.object({ token: z.string().min(1).max(200) }).strict(),
    reply: z.discriminatedUnion('valid', [
      z.object({ valid: z.literal(true), tokenId: z.string(), name: z.string(), role: z.enum(['admin', 'read-only']) }),
      z.object({ valid: z.literal(false) }),
    ]),
  },
} as const;

export type ProvisionUserRequest = z.input<typeof DirectoryRpc.provisionUser.request>;
export type ProvisionUserReply = z.infer<typeof DirectoryRpc.provisionUser.reply>;
