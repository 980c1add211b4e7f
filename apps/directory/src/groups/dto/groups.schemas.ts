import { z } from 'zod';
import { pageQuery } from '@bridgekeeper/platform';

const groupName = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'no control characters');

export const createGroupSchema = z
  .object({
    name: groupName,
    description: z.string().max(2000).nullable().default(null),
    source: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .default('local')
      .describe("`local` (kept by hand: an IdP's logins or connector join users to it only where the admin granted it in that IdP's provisioning settings, grantLocalGroups, and never remove them), or the id of the IdP or connector that owns it"),
  })
  .strict();

export const updateGroupSchema = z
  .object({ name: groupName.optional(), description: z.string().max(2000).nullable().optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change');

export const listGroupsSchema = z
  .object({
    ...pageQuery,
    source: z.string().max(64).optional(),
    q: z.string().trim().min(1).max(100).optional().describe('contains, case-insensitive'),
  })
  .strict();

export const bulkMembershipsSchema = z
  .object({
    add: z.array(z.object({ userId: z.uuid(), groupId: z.uuid() }).strict()).max(50_000).default([]),
    remove: z.array(z.object({ userId: z.uuid(), groupId: z.uuid() }).strict()).max(50_000).default([]),
  })
  .strict()
  .describe('adds and removes memberships in one transaction; unknown users or groups fail the whole request');

export type CreateGroup = z.infer<typeof createGroupSchema>;
export type UpdateGroup = z.infer<typeof updateGroupSchema>;
export type ListGroups = z.infer<typeof listGroupsSchema>;
export type BulkMemberships = z.infer<typeof bulkMembershipsSchema>;
