import { nameKeys } from '@bridgekeeper/names';
import { activations, auditEntries, DirectoryChange, newGroupRecord, newUserRecord, userColumns, userUpdate } from './change-set';

const now = new Date('2026-12-05T09:00:00Z');
const ann = () => newUserRecord({ id: 'u1', username: 'Ann', email: 'Ann@Example.org', source: 'kc', externalId: 'sub-1' }, now);

describe('the directory change set', () => {
  it('derives a new user’s lower-case forms and lookalike keys from its fields', () => {
    const user = ann();
    const keys = nameKeys('Ann');
    expect(user).toMatchObject({
      usernameLower: 'ann',
      emailLower: 'ann@example.org',
      usernameSkeleton: keys.folded,
      usernameSkeletonShown: keys.shown,
      active: true,
      protected: false,
      displayName: null,
      lastLoginAt: null,
      createdAt: now,
      updatedAt: now,
    });
  });

  it('keys a new spelling (a change of case too), and leaves the keys of an unchanged name alone', () => {
    expect(userColumns({ username: 'Ann' }, { username: 'Ann' })).toEqual({ usernameLower: 'ann' });
    const recased = userColumns({ username: 'Ann' }, { username: 'ANN' });
    expect(recased).toMatchObject({ usernameLower: 'ann', usernameSkeleton: nameKeys('ANN').folded, usernameSkeletonShown: nameKeys('ANN').shown });
    expect(userColumns({ username: 'Ann' }, { email: null })).toEqual({ emailLower: null });
    expect(userColumns({ username: 'Ann' }, { displayName: 'A' })).toEqual({});
  });

  it('tells a profile change from enabling or disabling, and an unchanged update from both', () => {
    expect(userUpdate(ann(), { username: 'Ann', email: 'Ann@Example.org' })).toMatchObject({ profileChanged: false, activeChanged: false });
    expect(userUpdate(ann(), { active: false })).toMatchObject({ profileChanged: false, activeChanged: true });
    expect(userUpdate(ann(), { displayName: 'Ann B', active: false })).toMatchObject({ profileChanged: true, activeChanged: true });
    // The last-login time is a note, not a change of the profile.
    expect(userUpdate(ann(), { lastLoginAt: now })).toMatchObject({ profileChanged: false, activeChanged: false });
  });

  it('audits disabling as its own entry (its event ends the user’s sessions), never folded into user.updated', () => {
    const entries = auditEntries({ kind: 'user.update', user: ann(), set: { displayName: 'Ann B', active: false } }, 'sync:r1');
    expect(entries.map((e) => e.action)).toEqual(['user.updated', 'user.disabled']);
    expect(entries[0]).toMatchObject({ before: { displayName: null, active: true }, after: { displayName: 'Ann B', active: true } });
    expect(entries[1]).toEqual({
      actor: 'sync:r1',
      action: 'user.disabled',
      targetType: 'user',
      targetId: 'u1',
      before: { active: true },
      after: { active: false },
    });
  });

  it('writes no audit entry for an update that changes nothing, a parked name, or a conditional change that found nothing to do', () => {
    expect(auditEntries({ kind: 'user.update', user: ann(), set: { username: 'Ann' } }, 'a')).toEqual([]);
    expect(auditEntries({ kind: 'user.park', userId: 'u1', name: true, email: false }, 'a')).toEqual([]);
    expect(auditEntries({ kind: 'membership.remove', userId: 'u1', groupId: 'g1', ifPresent: true }, 'a', false)).toEqual([]);
    const group = newGroupRecord({ id: 'g1', name: 'devs', source: 'kc' }, now);
    expect(auditEntries({ kind: 'group.update', group, set: { name: 'devs' } }, 'a')).toEqual([]);
  });

  it('says why a departed user’s name was released, in the entry’s after', () => {
    const [entry] = auditEntries({ kind: 'user.update', user: ann(), set: { username: 'Ann~1a2b' }, reason: 'released for a new user of kc' }, 'sync:r1');
    expect(entry).toMatchObject({
      action: 'user.updated',
      before: { username: 'Ann' },
      after: { username: 'Ann~1a2b', reason: 'released for a new user of kc' },
    });
  });

  it('audits a group link as before externalId null and after the IdP group (how User Sync counts links apart from renames)', () => {
    const group = newGroupRecord({ id: 'g1', name: 'devs', source: 'kc' }, now);
    const [link] = auditEntries({ kind: 'group.update', group, set: { externalId: 'kg-1' }, onlyIfUnlinked: true }, 'sync:r1');
    expect(link).toMatchObject({ action: 'group.updated', before: { name: 'devs', externalId: null }, after: { name: 'devs', externalId: 'kg-1' } });
  });

  it('keys every entry by its target: memberships and properties by user and group or key', () => {
    const cases: [DirectoryChange, string, string][] = [
      [{ kind: 'membership.add', userId: 'u1', groupId: 'g1', group: 'devs' }, 'membership.added', 'u1:g1'],
      [{ kind: 'membership.remove', userId: 'u1', groupId: 'g1' }, 'membership.removed', 'u1:g1'],
      [{ kind: 'property.set', userId: 'u1', key: 'dept', before: undefined, value: ['a', 'b'] }, 'property.changed', 'u1:dept'],
      [{ kind: 'property.remove', userId: 'u1', key: 'dept', before: 'a' }, 'property.removed', 'u1:dept'],
      [{ kind: 'user.delete', user: ann(), groups: ['devs'] }, 'user.deleted', 'u1'],
    ];
    for (const [change, action, targetId] of cases) expect(auditEntries(change, 'a')).toEqual([expect.objectContaining({ action, targetId })]);
    expect(auditEntries(cases[2][0], 'a')[0]).toMatchObject({ before: null, after: { dept: ['a', 'b'] } });
    expect(auditEntries(cases[4][0], 'a')[0]).toMatchObject({ before: { username: 'Ann', groups: ['devs'] } });
  });

  it('counts the seats a change set takes: new active users and users enabled, never those already active or created disabled', () => {
    const disabled = { ...ann(), id: 'u2', active: false };
    expect(
      activations([
        { kind: 'user.create', user: ann() },
        { kind: 'user.create', user: newUserRecord({ id: 'u3', username: 'c', source: 'kc', active: false }, now) },
        { kind: 'user.update', user: disabled, set: { active: true } },
        { kind: 'user.update', user: ann(), set: { active: true } },
        { kind: 'user.update', user: ann(), set: { active: false } },
      ]),
    ).toBe(2);
  });
});
