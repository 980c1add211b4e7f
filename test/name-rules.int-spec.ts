import { connect, JSONCodec, NatsConnection } from 'nats';
import { createEvent, Envelope, UserAuthenticatedV1, UserProvisionedV1, UserRejectedV1 } from '@bridgekeeper/contracts';
import { createTestDatabase, freePort, startNats, TestDatabase, TestNats, waitFor } from '@bridgekeeper/testing';
import { createAdminToken, Stack } from './support/stack';

/**
 * What a login does with names that break the directory's name rules, with provisioning and the
 * directory as real processes on real NATS, on PostgreSQL and on SQLite: a username (or email)
 * that hides characters or looks like another user's refuses the login (`name_refused`, the
 * reason in its trace); an asserted group whose name does is left out with a notice, and the login
 * goes on.
 */
describe.each(['postgres', 'sqlite'] as const)('logins that assert names breaking the name rules, on %s', (engine) => {
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let stack: Stack;
  let nc: NatsConnection;
  let token: string;
  const outcomes = new Map<string, Envelope<any> & { subject: string }>();

  const login = async (subject: string, attributes: Record<string, string[]> = {}) => {
    const event = createEvent(UserAuthenticatedV1, 'test', { idp: 'keycloak', protocol: 'saml', subject, attributes, traceId: crypto.randomUUID() });
    await nc.jetstream().publish(UserAuthenticatedV1.subject, JSONCodec().encode(event), { msgID: event.id });
    return waitFor(`outcome of ${subject}`, async () => outcomes.get(event.id), 20_000);
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.services.directory.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const usernames = async () => (await api('GET', '/api/v1/users?limit=500')).body.items.map((u: { username: string }) => u.username).sort();

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    stack = new Stack({
      natsUrl: nats.url,
      databaseUrl: pg?.url,
      ports: { auth: await freePort(), directory: await freePort(), provisioning: await freePort() },
    });
    await stack.start('directory', 'provisioning');
    token = createAdminToken({ ...(pg ? { DATABASE_URL: pg.url } : {}), DATA_DIR: stack.dataDir });
    nc = await connect({ servers: nats.url });
    const codec = JSONCodec<Envelope<{ authEventId: string }>>();
    for (const subject of [UserProvisionedV1.subject, UserRejectedV1.subject]) {
      nc.subscribe(subject, {
        callback: (_e, m) => {
          const e = codec.decode(m.data);
          outcomes.set(e.data.authEventId, { ...e, subject: m.subject });
        },
      });
    }
    expect((await api('POST', '/api/v1/groups', { name: 'admins' })).status).toBe(201);
  });

  afterAll(async () => {
    if (process.env.DEBUG_STACK) for (const s of Object.values(stack.services)) console.log(s.name, s.output.slice(-4000));
    await nc?.close();
    await stack?.stop();
    await pg?.drop();
    await nats?.stop();
  });

  it('refuses a login whose username hides characters: user.rejected name_refused, naming the code point; no user', async () => {
    for (const [subject, codePoint] of [
      ['mallory\u202Etxt', 'U+202E'],
      ['mal\u200Blory', 'U+200B'],
      ['ｍａｌｌｏｒｙ', 'U+FF4D'],
    ]) {
      const outcome = await login(subject);
      expect([subject, outcome.subject]).toEqual([subject, UserRejectedV1.subject]);
      expect(outcome.data).toMatchObject({ code: 'name_refused', reason: expect.stringContaining(`username: contains ${codePoint}`) });
    }
    expect((await usernames()).filter((n: string) => n.includes('mal') || n.includes('ｍ'))).toEqual([]);
  });

  it('refuses a login whose username looks like an existing user’s (TR 39 skeleton), naming both', async () => {
    expect((await login('cassie')).subject).toBe(UserProvisionedV1.subject);
    const spoof = await login('\u0441\u0430\u0455\u0455\u0456\u0435'); // all Cyrillic
    expect(spoof.subject).toBe(UserRejectedV1.subject);
    expect(spoof.data).toMatchObject({ code: 'name_refused', reason: expect.stringMatching(/looks like the existing user "cassie"/) });
    expect((await usernames()).filter((n: string) => n.normalize('NFKD').replace(/[^a-z]/g, '') === 'cassie' || /[\u0400-\u04ff]/.test(n))).toEqual(['cassie']);
  });

  it('stores the composed spelling: the decomposed one from another subject is the same name, not a second user', async () => {
    const first = await login('jos\u00e9');
    expect(first.data.user.username).toBe('jos\u00e9');
    const other = await login('jose\u0301'); // another subject, the same name decomposed
    expect(other.subject).toBe(UserRejectedV1.subject);
    expect(other.data.code).toBe('account_not_owned');
    expect((await usernames()).filter((n: string) => n.normalize('NFC') === 'jos\u00e9')).toEqual(['jos\u00e9']);
  });

  it('leaves out asserted groups whose names hide characters or look like another group’s, with a notice each; the login goes on', async () => {
    const outcome = await login('gina', { groups: ['/staff', '/st\u200Baff', '/adrnins', '/ｓｔａｆｆ'] });
    expect(outcome.subject).toBe(UserProvisionedV1.subject);
    expect(outcome.data.groups).toEqual(['staff']);
    expect(outcome.data.notices).toEqual(
      expect.arrayContaining([
        { code: 'name_refused', name: 'st<U+200B>aff', reason: expect.stringMatching(/^not joined: group: contains U\+200B/) },
        { code: 'name_refused', name: 'adrnins', reason: expect.stringMatching(/^not joined: group: "adrnins" looks like the existing group "admins"/) },
        { code: 'name_refused', name: 'ｓｔａｆｆ', reason: expect.stringMatching(/compatibility form/) },
      ]),
    );
    const groups = (await api('GET', '/api/v1/groups?limit=100')).body.items.map((g: { name: string }) => g.name).sort();
    expect(groups).toEqual(['admins', 'staff']);
  });

  it('issue 25: refuses a login whose username looks like another as written, or holds a blank or a hidden dot; leaves out such groups', async () => {
    // The default mapping lower-cases usernames ("biII" logs in as "biii"), so the capital-I case
    // is a group's here; the all-Cyrillic "аӏісе" (with a palochka) stays as it is.
    expect((await login('alice')).subject).toBe(UserProvisionedV1.subject);
    const spoof = await login('\u0430\u04CF\u0456\u0441\u0435');
    expect(spoof.subject).toBe(UserRejectedV1.subject);
    expect(spoof.data).toMatchObject({ code: 'name_refused', reason: expect.stringMatching(/looks like the existing user "alice"/) });
    for (const [subject, codePoint] of [
      ['alice\u2800', 'U+2800'],
      ['ali\u0307ce', 'U+0307'],
    ]) {
      const outcome = await login(subject);
      expect([subject, outcome.subject]).toEqual([subject, UserRejectedV1.subject]);
      expect(outcome.data).toMatchObject({ code: 'name_refused', reason: expect.stringContaining(`username: contains ${codePoint}`) });
    }
    expect((await usernames()).filter((n: string) => /^(al|\u0430)/.test(n))).toEqual(['alice']);

    expect((await api('POST', '/api/v1/groups', { name: 'Billing' })).status).toBe(201);
    const outcome = await login('hank', { groups: ['/hank-team', '/BiIIing', '/st\u2800aff', '/admi\u0307ns'] });
    expect(outcome.subject).toBe(UserProvisionedV1.subject);
    expect(outcome.data.groups).toEqual(['hank-team']);
    expect(outcome.data.notices).toEqual(
      expect.arrayContaining([
        { code: 'name_refused', name: 'BiIIing', reason: expect.stringMatching(/^not joined: group: "BiIIing" looks like the existing group "Billing"/) },
        { code: 'name_refused', name: expect.stringContaining('st'), reason: expect.stringMatching(/^not joined: group: contains U\+2800/) },
        { code: 'name_refused', name: expect.stringContaining('adm'), reason: expect.stringMatching(/^not joined: group: contains U\+0307/) },
      ]),
    );
    const groups = (await api('GET', '/api/v1/groups?limit=100')).body.items.map((g: { name: string }) => g.name).sort();
    expect(groups).toEqual(['Billing', 'admins', 'hank-team', 'staff']);
  });
});
