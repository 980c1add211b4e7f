import type { Change } from '../audit/change-log.service';
import { appliedCounts } from './applied-counts';

const c = (action: Change['action'], targetId: string): Change => ({
  actor: 'sync:r',
  action,
  targetType: action.split('.')[0] as Change['targetType'],
  targetId,
});

describe('appliedCounts', () => {
  it('counts what the audit entries say, a user updated once however many of their fields and properties changed', () => {
    const counts = appliedCounts(
      [
        c('user.created', 'u1'),
        c('property.changed', 'u1:dept'),
        c('user.updated', 'u2'),
        c('property.changed', 'u2:dept'),
        c('property.removed', 'u2:roles'),
        c('property.removed', 'u3:roles'),
        c('user.updated', 'u4'),
        c('user.disabled', 'u5'),
        c('user.enabled', 'u6'),
        c('user.deleted', 'u7'),
        c('group.created', 'g1'),
        { ...c('group.updated', 'g2'), before: { name: 'a', source: 'kc' }, after: { name: 'b', source: 'kc' } },
        { ...c('group.updated', 'g3'), before: { name: 'c', source: 'kc', externalId: null }, after: { name: 'c', source: 'kc', externalId: 'kg3' } },
        c('membership.added', 'u1:g1'),
        c('membership.removed', 'u2:g1'),
      ],
      new Set(['u4']),
    );
    expect(counts).toEqual({
      usersCreated: 1,
      usersUpdated: 2,
      usersEnabled: 1,
      usersDisabled: 1,
      usersDeleted: 1,
      groupsCreated: 1,
      groupsRenamed: 1,
      groupsLinked: 1,
      membershipsAdded: 1,
      membershipsRemoved: 1,
      propertiesChanged: 2,
      propertiesRemoved: 2,
    });
  });
});
