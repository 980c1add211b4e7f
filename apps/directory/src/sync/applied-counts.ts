import type { SyncAppliedCounts } from '@bridgekeeper/contracts';
import type { Change } from '../audit/change-log.service';

/**
 * What a User Sync batch did, read from its audit entries (what it wrote, not what it was asked):
 * a user is updated when their profile or a property changed, unless the batch created them or
 * only released their name (`released`: those users' ids; the run reports them apart).
 */
export function appliedCounts(changes: readonly Change[], released: ReadonlySet<string> = new Set()): SyncAppliedCounts {
  const of = (action: Change['action']) => changes.filter((c) => c.action === action);
  const created = new Set(of('user.created').map((c) => c.targetId));
  const updated = new Set<string>();
  for (const c of changes) {
    const userId = c.action === 'user.updated' ? c.targetId : c.targetType === 'property' ? c.targetId.slice(0, c.targetId.indexOf(':')) : undefined;
    if (userId !== undefined && !created.has(userId) && !(c.action === 'user.updated' && released.has(userId))) updated.add(userId);
  }
  return {
    usersCreated: created.size,
    usersUpdated: updated.size,
    usersEnabled: of('user.enabled').length,
    usersDisabled: of('user.disabled').length,
    usersDeleted: of('user.deleted').length,
    groupsCreated: of('group.created').length,
    // A group.updated of User Sync either links a group to its IdP group (its externalId was null) or renames it.
    groupsRenamed: of('group.updated').filter((c) => !isLink(c)).length,
    groupsLinked: of('group.updated').filter(isLink).length,
    membershipsAdded: of('membership.added').length,
    membershipsRemoved: of('membership.removed').length,
    propertiesChanged: of('property.changed').length,
    propertiesRemoved: of('property.removed').length,
  };
}

const isLink = (c: Change) =>
  (c.before as { externalId?: unknown } | null | undefined)?.externalId === null &&
  typeof (c.after as { externalId?: unknown } | null | undefined)?.externalId === 'string';
