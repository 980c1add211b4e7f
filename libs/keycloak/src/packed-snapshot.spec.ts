import type { IdpSnapshot, IdpUser } from '@bridgekeeper/provisioning-model';
import { packSnapshot, unpackSnapshot } from './packed-snapshot';

const user = (id: string): IdpUser => ({ id, username: `user-${id}`, email: null, firstName: null, lastName: null, enabled: true });

describe('packSnapshot / unpackSnapshot', () => {
  const snapshot: IdpSnapshot = {
    users: [user('u1'), user('u2'), user('u3')],
    groups: [
      { id: 'g1', path: '/staff' },
      { id: 'g2', path: '/staff/dev' },
      { id: 'g3', path: '/empty' },
    ],
    // u9 joined a group after the user listing was read; g3 has no members.
    members: new Map([
      ['g1', ['u1', 'u2', 'u3']],
      ['g2', ['u3', 'u9']],
      ['g3', []],
    ]),
  };

  it('gives back the same users, groups and members', () => {
    const back = unpackSnapshot(packSnapshot(snapshot));
    expect(back.users).toEqual(snapshot.users);
    expect(back.groups).toEqual(snapshot.groups);
    expect([...back.members]).toEqual([...snapshot.members]);
  });

  it('carries members as user indexes, an id the listing missed after the users', () => {
    const packed = packSnapshot(snapshot);
    expect([...packed.memberCounts]).toEqual([3, 2, 0]);
    expect([...packed.members]).toEqual([0, 1, 2, 2, 3]);
    expect(packed.extraIds).toEqual(['u9']);
  });

  it('survives the copy between threads', () => {
    const back = unpackSnapshot(structuredClone(packSnapshot(snapshot)));
    expect(back.users).toEqual(snapshot.users);
    expect([...back.members]).toEqual([...snapshot.members]);
  });

  it('gives a group the member map does not name an empty list', () => {
    const back = unpackSnapshot(packSnapshot({ ...snapshot, members: new Map([['g1', ['u1']]]) }));
    expect(back.members.get('g2')).toEqual([]);
    expect(back.members.get('g1')).toEqual(['u1']);
  });
});
