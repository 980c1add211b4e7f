import { z } from 'zod';
import { nameSchema } from '@bridgekeeper/names';
import { pageQuery } from '@bridgekeeper/data';

const groupName = nameSchema('group').describe(
  `${nameSchema('group').description} Unique case-insensitively, and by look: a name that looks like another group's (the same Unicode TR 39 skeleton, in lower case or as written: "adrnins" for "admins", "BiIIing" for "Billing") is refused with 409.`,
);

const membership = z.object({ userId: z.uuid(), groupId: z.uuid() }).strict();

export const createGroupSchema = z
  .object({
    name: groupName,
    description: z.string().max(2000).nullable().default(null),
    source: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
      .default('local')
      .describe(
        "`local` (kept by hand: an IdP's logins or connector join users to it only where the admin granted it in that IdP's provisioning settings, grantLocalGroups, and never remove them), or the id of the IdP or connector that owns it",
      ),
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
    add: z.array(membership).max(50_000).default([]),
    remove: z.array(membership).max(50_000).default([]),
  })
  .strict()
  .superRefine((req, ctx) => {
    // A pair in both lists asks for two outcomes: refused (400, naming both entries; the first 50
    // such pairs), never guessed.
    const added = new Map(req.add.map((m, i) => [`${m.userId}:${m.groupId}`, i]));
    let named = 0;
    for (const [j, m] of req.remove.entries()) {
      const i = added.get(`${m.userId}:${m.groupId}`);
      if (i === undefined) continue;
      if (++named > 50) break;
      ctx.addIssue({
        code: 'custom',
        path: ['add', i],
        message: `the same membership (user ${m.userId}, group ${m.groupId}) as remove.${j}: add or remove it, not both`,
      });
      ctx.addIssue({
        code: 'custom',
        path: ['remove', j],
        message: `the same membership (user ${m.userId}, group ${m.groupId}) as add.${i}: add or remove it, not both`,
      });
    }
  })
  .describe(
    'adds and removes memberships in one transaction; unknown users or groups fail the whole request, and so does a membership named in both add and remove (400 naming both entries): nothing is changed',
  );

export type CreateGroup = z.infer<typeof createGroupSchema>;
export type UpdateGroup = z.infer<typeof updateGroupSchema>;
export type ListGroups = z.infer<typeof listGroupsSchema>;
export type BulkMemberships = z.infer<typeof bulkMembershipsSchema>;
