import { createEvent, derivedEventId, DirectoryRpc, EVENT_CATALOGUE, parseEvent, sourceIdSchema, UserAuthenticatedV1, UserProvisionedV1 } from './index';

const authenticated = {
  idp: 'keycloak',
  protocol: 'saml' as const,
  subject: 'alice',
  attributes: { email: ['alice@example.com'], groups: ['/staff'] },
  traceId: '6f1c1d5e-0a39-4f7c-9d1f-2b7f3e0d9a11',
};

describe('event envelopes', () => {
  it('builds a valid envelope with id, v, occurredAt and source', () => {
    const e = createEvent(UserAuthenticatedV1, 'auth', authenticated);
    expect(e).toMatchObject({ v: 1, source: 'auth', data: authenticated });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(parseEvent(UserAuthenticatedV1, JSON.parse(JSON.stringify(e))).success).toBe(true);
  });

  it('gives new events ids that sort in the order the events were made (UUIDv7)', () => {
    const ids = Array.from({ length: 200 }, () => createEvent(UserAuthenticatedV1, 'auth', authenticated).id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  it('refuses a payload with a missing field, naming it', () => {
    const { subject: _omit, ...bad } = authenticated;
    expect(() => createEvent(UserAuthenticatedV1, 'auth', bad as never)).toThrow(/subject/);
  });

  it('refuses unknown fields and other versions at the edge', () => {
    const e = createEvent(UserAuthenticatedV1, 'auth', authenticated);
    expect(parseEvent(UserAuthenticatedV1, { ...e, extra: 1 }).success).toBe(false);
    expect(parseEvent(UserAuthenticatedV1, { ...e, v: 2 }).success).toBe(false);
    expect(parseEvent(UserAuthenticatedV1, { ...e, data: { ...e.data, idp: 'Bad IdP' } }).success).toBe(false);
  });

  it('derives the same answering id from the same input, and another from another', () => {
    const a = derivedEventId('outcome', '6f1c1d5e-0a39-4f7c-9d1f-2b7f3e0d9a11');
    expect(a).toBe(derivedEventId('outcome', '6f1c1d5e-0a39-4f7c-9d1f-2b7f3e0d9a11'));
    expect(a).not.toBe(derivedEventId('outcome', '6f1c1d5e-0a39-4f7c-9d1f-2b7f3e0d9a12'));
    expect(
      createEvent(
        UserProvisionedV1,
        'provisioning',
        {
          authEventId: authenticated.traceId,
          traceId: authenticated.traceId,
          idp: 'keycloak',
          user: { id: authenticated.traceId, username: 'alice', email: null, displayName: null, active: true },
          groups: [],
          created: true,
          changed: true,
        },
        { id: a },
      ).id,
    ).toBe(a);
  });
});

describe('event catalogue', () => {
  it('names each subject once, nouns then past-tense verbs, outside rpc.', () => {
    const subjects = EVENT_CATALOGUE.map((c) => c.subject);
    expect(new Set(subjects).size).toBe(subjects.length);
    for (const s of subjects) expect(s).toMatch(/^[a-z]+(\.[a-z]+)*\.[a-z]+ed$/);
  });

  it('is the table in docs/reference/events.md (generated: pnpm docs:reference)', () => {
    const readme = require('node:fs').readFileSync(require('node:path').join(__dirname, '../../../docs/reference/events.md'), 'utf8') as string;
    for (const c of EVENT_CATALOGUE) expect(readme).toContain(`| \`${c.subject}\` | ${c.v} | \`${c.stream}\` |`);
  });
});

describe('what a source may change, in the contracts', () => {
  const provisioned = {
    authEventId: authenticated.traceId,
    traceId: authenticated.traceId,
    idp: 'keycloak',
    user: { id: authenticated.traceId, username: 'alice', email: null, displayName: null, active: true },
    groups: [],
    created: false,
    changed: false,
  };

  it('user.provisioned carries notices of what was refused, optionally (older producers send none)', () => {
    expect(parseEvent(UserProvisionedV1, createEvent(UserProvisionedV1, 'provisioning', provisioned)).success).toBe(true);
    const notices = [{ code: 'group_not_owned' as const, name: 'jira-admins', reason: 'not joined: owned by other' }];
    expect(parseEvent(UserProvisionedV1, createEvent(UserProvisionedV1, 'provisioning', { ...provisioned, notices })).success).toBe(true);
    expect(() => createEvent(UserProvisionedV1, 'provisioning', { ...provisioned, notices: [{ ...notices[0], code: 'whatever' as never }] })).toThrow(/code/);
  });

  it('no IdP or connector writes as the source `local`; the directory’s own sign-in may look up as it', () => {
    const base = { externalId: 'x', username: 'root', email: null, displayName: null, groups: [], actor: 'login:t' };
    expect(DirectoryRpc.provisionUser.request.safeParse({ ...base, source: 'local' }).success).toBe(false);
    expect(DirectoryRpc.provisionUser.request.parse({ ...base, source: 'kc' })).toMatchObject({ grantLocalGroups: [], claimLocalUsers: false });
    expect(DirectoryRpc.syncApply.request.safeParse({ source: 'local', actor: 'sync:t' }).success).toBe(false);
    expect(DirectoryRpc.resolveUser.request.parse({ source: 'local', externalId: 'break-glass:root', username: 'root' })).toMatchObject({
      claimLocalUsers: false,
    });
  });
});

describe('source ids', () => {
  it('refuse the reserved sources and the names no id may be (they become path parameters: /saml/{idp}/acs)', () => {
    for (const ok of ['keycloak', 'corp-sso', 'constructors', 'proto']) expect(sourceIdSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['local', 'break-glass', 'constructor', 'prototype', '__proto__']) expect(sourceIdSchema.safeParse(bad).success).toBe(false);
  });
});
