import { canonicalJson, heldPlanDigest, NameHolder, namesBasis, namesChangedSince, namesGiven, settingsDigest } from './held-plan';
import type { SyncPlan } from './sync-plan';

const emptyPlan = (over: Partial<SyncPlan> = {}): SyncPlan => ({
  create: [],
  update: [],
  enable: [],
  disable: [],
  delete: [],
  groupsToCreate: [],
  groupsToRename: [],
  groupsToLink: [],
  addMemberships: [],
  removeMemberships: [],
  groupIdentities: [],
  groupRenamesRefused: [],
  groupsRefused: [],
  seatsDelta: 0,
  ...over,
});
const fields = (externalId: string, username: string, email: string | null) => ({
  externalId,
  username,
  email,
  displayName: null,
  active: true,
  properties: {},
});

describe('heldPlanDigest', () => {
  it('binds the digest to the run: the same plan held by two runs has two digests', () => {
    const plan = JSON.stringify(emptyPlan());
    expect(heldPlanDigest('run-1', plan)).toMatch(/^[0-9a-f]{64}$/);
    expect(heldPlanDigest('run-1', plan)).toBe(heldPlanDigest('run-1', plan));
    expect(heldPlanDigest('run-1', plan)).not.toBe(heldPlanDigest('run-2', plan));
    expect(heldPlanDigest('run-1', plan)).not.toBe(heldPlanDigest('run-1', JSON.stringify(emptyPlan({ seatsDelta: 1 }))));
  });
});

describe('settingsDigest', () => {
  const base = {
    model: 'sync',
    mapping: { username: 'preferred_username', email: 'email' },
    updateOnLogin: true,
    grantLocalGroups: ['a', 'b'],
    claimLocalUsers: false,
  };
  it('changes with each setting a plan depends on', () => {
    const d = settingsDigest(base);
    for (const over of [
      { model: 'jit' },
      { mapping: { username: 'sub', email: 'email' } },
      { updateOnLogin: false },
      { grantLocalGroups: ['a'] },
      { claimLocalUsers: true },
    ]) {
      expect(settingsDigest({ ...base, ...over })).not.toBe(d);
    }
  });
  it('ignores key order and the order of granted groups', () => {
    expect(settingsDigest({ ...base, mapping: { email: 'email', username: 'preferred_username' }, grantLocalGroups: ['b', 'a'] })).toBe(settingsDigest(base));
  });
  it('keeps a key like __proto__ as data', () => {
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"x":1}}'))).toBe('[["__proto__",[["x",1]]],["b",1]]');
  });
});

describe('namesGiven', () => {
  it('takes the names of created users and only the new names and emails of updated ones, lower-cased, once', () => {
    const plan = emptyPlan({
      create: [fields('1', 'Ann', 'Ann@Example.com'), fields('2', 'bob', null)],
      update: [
        {
          id: 'd3',
          externalId: '3',
          username: 'cy',
          changes: [{ field: 'username', before: 'cy', after: 'Cyril' }],
          fields: fields('3', 'Cyril', 'cy@example.com'),
        },
        {
          id: 'd4',
          externalId: '4',
          username: 'di',
          changes: [{ field: 'email', before: null, after: 'ANN@example.com' }],
          fields: fields('4', 'di', 'ANN@example.com'),
        },
        {
          id: 'd5',
          externalId: '5',
          username: 'ed',
          changes: [{ field: 'displayName', before: null, after: 'Ed' }],
          fields: fields('5', 'ed', 'ed@example.com'),
        },
      ],
    });
    expect(namesGiven(plan)).toEqual({ usernames: ['ann', 'bob', 'cyril'], emails: ['ann@example.com'] });
  });

  it('leaves out names longer than the directory stores (nobody can hold them; the directory refuses them when applying)', () => {
    // 'İ' lower-cases to two code units: a 255-character Keycloak username may be 510 here.
    const long = '\u0130'.repeat(255);
    const plan = emptyPlan({ create: [fields('1', long, `${'a'.repeat(316)}@x.io`), fields('2', 'ok', 'ok@example.com')] });
    expect(namesGiven(plan)).toEqual({ usernames: ['ok'], emails: ['ok@example.com'] });
  });
});

describe('namesBasis / namesChangedSince', () => {
  const names = { usernames: ['ann', 'bob'], emails: ['ann@example.com'] };
  const local: NameHolder = { id: 'u1', source: 'local', externalId: null, username: 'ann', email: null, active: true, protected: false };
  it('records who held each name, and finds the names taken, freed or changed since', () => {
    const then = namesBasis(names, []);
    expect(then).toEqual({ 'username:ann': null, 'username:bob': null, 'email:ann@example.com': null });
    const taken = namesBasis(names, [{ kind: 'username', name: 'ann', holders: [local] }]);
    expect(namesChangedSince(then, taken)).toEqual(['username:ann']);
    expect(namesChangedSince(taken, then)).toEqual(['username:ann']);
    expect(namesChangedSince(taken, namesBasis(names, [{ kind: 'username', name: 'ann', holders: [{ ...local, active: false }] }]))).toEqual(['username:ann']);
    expect(namesChangedSince(taken, namesBasis(names, [{ kind: 'username', name: 'ann', holders: [local] }]))).toEqual([]);
  });
  it("ignores holders of names it was not asked about, and does not depend on the holders' order", () => {
    const other = { ...local, id: 'u2', username: 'ánn' };
    expect(namesBasis(names, [{ kind: 'username', name: 'zed', holders: [local] }])).toEqual(namesBasis(names, []));
    expect(namesBasis(names, [{ kind: 'username', name: 'ann', holders: [local, other] }])).toEqual(
      namesBasis(names, [{ kind: 'username', name: 'ann', holders: [other, local] }]),
    );
  });
});
