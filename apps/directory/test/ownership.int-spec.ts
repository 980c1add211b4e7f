import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { AuditEntryEntity } from '@bridgekeeper/data';
import { createTestDatabase, RpcTestClient, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { loadDirectoryConfig } from '../src/config/directory.config';
import { createDirectoryApp } from '../src/directory.app';
import { GroupEntity } from '../src/groups/group.entity';
import { MembershipEntity } from '../src/groups/membership.entity';
import { TokensService } from '../src/tokens/tokens.service';
import { UserEntity } from '../src/users/user.entity';

/**
 * A source changes only what it owns: the directory's commands behind logins (provision,
 * resolve) and User Sync batches never put a user into a local group or another source's group,
 * nor link a local or protected account, unless the request carries the admin's explicit grant
 * (and never a protected account). Both engines, over real NATS and the admin API.
 */
describe.each(['postgres', 'sqlite'] as const)('what a source may change, on %s', (engine) => {
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let app: INestApplication;
  let client: RpcTestClient;
  let db: DataSource;
  let base: string;
  let admin: string;

  const send = (subject: string, payload: unknown) => client.send(subject, payload) as Promise<any>;
  const provision = (req: Record<string, unknown>) =>
    send(DirectoryRpc.provisionUser.subject, { email: null, displayName: null, groups: [], properties: {}, actor: 'login:test', ...req });
  const resolve = (req: Record<string, unknown>) => send(DirectoryRpc.resolveUser.subject, req);
  const apply = (req: Record<string, unknown>) => send(DirectoryRpc.syncApply.subject, { actor: 'sync:test', ...req });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const user = (username: string) => db.getRepository(UserEntity).findOneByOrFail({ usernameLower: username.toLowerCase() });
  const groupsOf = async (username: string) =>
    (
      await db
        .createQueryBuilder(GroupEntity, 'g')
        .innerJoin(MembershipEntity, 'm', 'm.group_id = g.id')
        .innerJoin(UserEntity, 'u', 'u.id = m.user_id')
        .where('u.username_lower = :u', { u: username.toLowerCase() })
        .orderBy('g.name_lower')
        .getMany()
    ).map((g) => g.name);
  const group = (name: string) => db.getRepository(GroupEntity).findOneBy({ nameLower: name.toLowerCase() });

  beforeAll(async () => {
    nats = await startNats();
    dataDir = mkdtempSync(join(tmpdir(), 'bk-own-'));
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    const config = loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(pg ? { DATABASE_URL: pg.url } : {}) });
    app = await createDirectoryApp(config);
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = (await app.get(TokensService).create('test admin', 'admin', 'test')).token;
    db = app.get(getDataSourceToken());
    client = await RpcTestClient.connect(nats.url);
    // What an admin made by hand: a local group, local accounts, a protected administrator, and a
    // user created for the IdP `kc` (the Manual model) that no login has linked yet.
    // (Not asserted here: each test checks what it relies on.)
    await api('POST', '/api/v1/groups', { name: 'Jira-Admins' });
    await api('POST', '/api/v1/users', { username: 'erin', email: 'erin@example.com' });
    await api('POST', '/api/v1/users', { username: 'gina', email: 'gina@example.com' });
    await api('POST', '/api/v1/users', { username: 'root', email: 'root@example.com', protected: true });
    await api('POST', '/api/v1/users', { username: 'frank', source: 'kc' });
    // Another IdP's user and group.
    await provision({ source: 'other', externalId: 'o-olga', username: 'olga', groups: ['other-team'] });
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('properties', () => {
    it('a User Sync batch removes only the properties it names (of its own user), audited, and its writes and counts are its audit rows', async () => {
      const pia = { externalId: 'kc-pia', username: 'pia', email: null, displayName: null, active: true };
      const created = await apply({ source: 'kc', actor: 'sync:props-1', upsert: [{ ...pia, properties: { dept: 'R&D', roles: ['a', 'b'] } }] });
      expect(created).toMatchObject({ status: 'applied', writes: 3, counts: { usersCreated: 1, usersUpdated: 0, propertiesChanged: 2 } });
      const id = (await user('pia')).id;
      expect((await api('PUT', `/api/v1/users/${id}/properties/badge`, { value: '42' })).status).toBe(200);
      // The same list in another order is no change; removals name dept, roles and a key it does not hold.
      const removed = await apply({
        source: 'kc',
        actor: 'sync:props-2',
        upsert: [{ ...pia, properties: {}, removeProperties: ['dept', 'roles', 'nothere'] }],
      });
      expect(removed).toMatchObject({ status: 'applied', writes: 2, counts: { usersUpdated: 1, propertiesChanged: 0, propertiesRemoved: 2 } });
      expect((await api('GET', `/api/v1/users/${id}/properties`)).body).toEqual({ badge: '42' });
      const audit = await db.getRepository(AuditEntryEntity).findBy({ actor: 'sync:props-2' });
      expect(audit.map((a) => [a.action, a.targetId]).sort()).toEqual([
        ['property.removed', `${id}:dept`],
        ['property.removed', `${id}:roles`],
      ]);
      const again = await apply({ source: 'kc', actor: 'sync:props-3', upsert: [{ ...pia, properties: {}, removeProperties: ['dept'] }] });
      expect(again).toMatchObject({ status: 'applied', writes: 0 });
    });
  });

  describe('groups', () => {
    it('joins a login only to groups of its own source: not a local group, not another IdP’s, and says which it refused', async () => {
      const reply = await provision({ source: 'kc', externalId: 'kc-alice', username: 'alice', groups: ['jira-admins', 'other-team', 'kc-team'] });
      expect(reply).toMatchObject({ status: 'provisioned', created: true, groups: ['kc-team'] });
      expect(reply.notices).toEqual([
        // Creating a group is not silent either: from now on it is this IdP's.
        { code: 'group_created', name: 'kc-team', reason: expect.stringContaining('owned by kc') },
        { code: 'group_not_owned', name: 'jira-admins', reason: expect.stringContaining('local') },
        { code: 'group_not_owned', name: 'other-team', reason: expect.stringContaining('other') },
      ]);
      expect(await groupsOf('alice')).toEqual(['kc-team']);
      expect(await group('kc-team')).toMatchObject({ source: 'kc' });
      // The repeat login changes nothing: the quick path answers it, with the same notices.
      expect(await provision({ source: 'kc', externalId: 'kc-alice', username: 'alice', groups: ['jira-admins', 'other-team', 'kc-team'] })).toEqual({
        ...reply,
        created: false,
        changed: false,
        notices: reply.notices.filter((n: { code: string }) => n.code !== 'group_created'),
      });
      expect(await groupsOf('alice')).toEqual(['kc-team']);
    });

    it('does not make the first IdP to assert a new name the owner for everyone: another IdP asserting it is not joined', async () => {
      expect(await provision({ source: 'kc', externalId: 'kc-amy', username: 'amy', groups: ['brand-new'] })).toMatchObject({ groups: ['brand-new'] });
      const other = await provision({ source: 'other', externalId: 'o-oscar', username: 'oscar', groups: ['Brand-New'] });
      expect(other).toMatchObject({ status: 'provisioned', groups: [], notices: [{ code: 'group_not_owned', name: 'Brand-New' }] });
      expect(await groupsOf('oscar')).toEqual([]);
    });

    it('joins local groups on the explicit allow-list, never another IdP’s group, and never leaves a local group', async () => {
      const req = {
        source: 'kc',
        externalId: 'kc-bea',
        username: 'bea',
        groups: ['jira-admins', 'other-team'],
        grantLocalGroups: ['JIRA-ADMINS', 'other-team'],
      };
      const reply = await provision(req);
      expect(reply).toMatchObject({ status: 'provisioned', groups: ['Jira-Admins'], notices: [{ code: 'group_not_owned', name: 'other-team' }] });
      expect(await groupsOf('bea')).toEqual(['Jira-Admins']);
      expect(await provision(req)).toMatchObject({ status: 'provisioned', changed: false });
      // No longer asserted: the local group is its admin's to leave, not the IdP's.
      expect(await provision({ ...req, groups: [] })).toMatchObject({ status: 'provisioned', groups: ['Jira-Admins'] });
      // The simulator's dry run shows the same.
      const dry = await provision({ ...req, externalId: 'kc-bill', username: 'bill', dryRun: true });
      expect(dry).toMatchObject({ status: 'provisioned', created: true, groups: ['Jira-Admins'], notices: [{ code: 'group_not_owned', name: 'other-team' }] });
    });

    it('joins a new user’s default groups when they are local or its own, never another IdP’s', async () => {
      const reply = await provision({ source: 'kc', externalId: 'kc-cleo', username: 'cleo', newUserGroups: ['onboarding', 'jira-admins', 'other-team'] });
      expect(reply).toMatchObject({ status: 'provisioned', groups: ['Jira-Admins', 'onboarding'], notices: [{ code: 'group_not_owned', name: 'other-team' }] });
      expect(await group('onboarding')).toMatchObject({ source: 'local' });
    });
  });

  describe('accounts', () => {
    it('does not claim a local account by username, nor by email, unless allowed', async () => {
      const byName = await provision({ source: 'kc', externalId: 'kc-erin', username: 'erin', email: 'erin@example.com' });
      expect(byName).toMatchObject({ status: 'error', code: 'account_not_owned', message: expect.stringContaining('local') });
      expect(await user('erin')).toMatchObject({ source: 'local', externalId: null });

      // By email: the login goes on with an account of its own (without the address), and says so.
      const byEmail = await provision({ source: 'kc', externalId: 'kc-gina', username: 'gina.g', email: 'gina@example.com', matchOn: ['email'] });
      expect(byEmail).toMatchObject({
        status: 'provisioned',
        created: true,
        user: { username: 'gina.g', email: null },
        notices: [{ code: 'account_not_claimed', name: 'gina' }],
      });
      expect(await user('gina')).toMatchObject({ source: 'local', externalId: null });

      // Allowed: linked.
      const claimed = await provision({ source: 'kc', externalId: 'kc-erin', username: 'erin', email: 'erin@example.com', claimLocalUsers: true });
      expect(claimed).toMatchObject({ status: 'provisioned', created: false, user: { username: 'erin' } });
      expect(await user('erin')).toMatchObject({ source: 'kc', externalId: 'kc-erin' });
    });

    it('never claims a protected account, even when allowed, by username or email', async () => {
      const before = await user('root');
      expect(await provision({ source: 'kc', externalId: 'kc-root', username: 'root', claimLocalUsers: true })).toMatchObject({
        status: 'error',
        code: 'account_not_owned',
        message: expect.stringContaining('protected'),
      });
      const byEmail = await provision({
        source: 'kc',
        externalId: 'kc-root2',
        username: 'root2',
        email: 'root@example.com',
        matchOn: ['email'],
        claimLocalUsers: true,
      });
      expect(byEmail).toMatchObject({
        status: 'provisioned',
        user: { username: 'root2', email: null },
        notices: [{ code: 'account_not_claimed', name: 'root' }],
      });
      expect(await user('root')).toEqual(before);
    });

    it('links a user an admin created for this IdP by username, and refuses it to any other IdP', async () => {
      expect(await provision({ source: 'other', externalId: 'o-frank', username: 'frank', claimLocalUsers: true })).toMatchObject({
        status: 'error',
        code: 'account_not_owned',
      });
      expect(await provision({ source: 'kc', externalId: 'kc-frank', username: 'frank', groups: ['kc-team'] })).toMatchObject({
        status: 'provisioned',
        created: false,
        groups: ['kc-team'],
      });
      expect(await user('frank')).toMatchObject({ source: 'kc', externalId: 'kc-frank' });
      // Linked now: another subject of the same IdP with that name is a different person.
      expect(await provision({ source: 'kc', externalId: 'kc-frank-2', username: 'frank' })).toMatchObject({ status: 'error', code: 'account_not_owned' });
    });

    it('resolves (Manual, User Sync) only accounts of its own source, a local one only when allowed, never a protected one', async () => {
      await api('POST', '/api/v1/users', { username: 'hank', source: 'kc' });
      await api('POST', '/api/v1/users', { username: 'ivy' });
      expect(await resolve({ source: 'kc', externalId: 'hank', username: 'hank' })).toMatchObject({ status: 'found', user: { username: 'hank' } });
      expect(await resolve({ source: 'kc', externalId: 'ivy', username: 'ivy' })).toMatchObject({ status: 'refused', code: 'account_not_owned' });
      expect(await resolve({ source: 'kc', externalId: 'ivy', username: 'ivy', claimLocalUsers: true })).toMatchObject({
        status: 'found',
        user: { username: 'ivy' },
      });
      expect(await resolve({ source: 'other', externalId: 'hank', username: 'hank', claimLocalUsers: true })).toMatchObject({
        status: 'refused',
        code: 'account_not_owned',
      });
      expect(await resolve({ source: 'kc', externalId: 'root', username: 'root', claimLocalUsers: true })).toMatchObject({
        status: 'refused',
        code: 'account_not_owned',
      });
      // The directory's own sign-in (break-glass) finds it, and is told it is a protected local account.
      expect(await resolve({ source: 'local', externalId: 'break-glass:root', username: 'root', subjectKeysUsers: false })).toMatchObject({
        status: 'found',
        user: { username: 'root' },
        source: 'local',
        protected: true,
      });
      expect(await resolve({ source: 'local', externalId: 'break-glass:gina', username: 'gina', subjectKeysUsers: false })).toMatchObject({
        status: 'found',
        source: 'local',
        protected: false,
      });
      expect(await user('root')).toMatchObject({ externalId: null }); // a lookup, not a link
    });

    it('links a Manual user at its first login; then another subject with the same username is another person, refused', async () => {
      await api('POST', '/api/v1/users', { username: 'mona', source: 'kc' });
      // The simulator's dry run links nothing.
      expect(await resolve({ source: 'kc', externalId: 'kc-mona', username: 'mona', dryRun: true })).toMatchObject({ status: 'found' });
      expect(await user('mona')).toMatchObject({ externalId: null });
      expect(await resolve({ source: 'kc', externalId: 'kc-mona', username: 'mona' })).toMatchObject({ status: 'found', user: { username: 'mona' } });
      expect(await user('mona')).toMatchObject({ source: 'kc', externalId: 'kc-mona' });
      expect(await resolve({ source: 'kc', externalId: 'kc-mona', username: 'mona' })).toMatchObject({ status: 'found' });
      // The IdP gave the name to someone else (a departed colleague's username reused).
      expect(await resolve({ source: 'kc', externalId: 'kc-mona-2', username: 'mona' })).toMatchObject({ status: 'refused', code: 'account_not_owned' });
      // User Sync over SAML matches by username among the connector's own users (its NameID is no Keycloak id).
      expect(await resolve({ source: 'kc', externalId: 'mona', username: 'mona', subjectKeysUsers: false })).toMatchObject({ status: 'found' });
      const audit = (await api('GET', `/api/v1/audit?targetType=user&targetId=${(await user('mona')).id}`)).body.items.map((a: { action: string }) => a.action);
      expect(audit).toEqual(['user.updated', 'user.created']);
    });

    it('refuses the source `local` to provisioning and User Sync: it is no IdP’s or connector’s', async () => {
      expect(await provision({ source: 'local', externalId: 'x', username: 'root' })).toMatchObject({ status: 'error', code: 'invalid_request' });
      expect(
        await apply({ source: 'local', upsert: [{ externalId: 'x', username: 'root', email: null, displayName: null, active: true, properties: {} }] }),
      ).toMatchObject({ status: 'error', code: 'invalid_request' });
    });
  });

  describe('User Sync batches', () => {
    const upsert = (username: string, externalId = `sync-${username}`) => ({
      externalId,
      username,
      email: null,
      displayName: null,
      active: true,
      properties: {},
    });

    it('claim no local account unless allowed, never a protected one, and join only groups the connector owns or an admin granted', async () => {
      await api('POST', '/api/v1/users', { username: 'kate' });
      // The user is a conflict, left out and reported; the rest of the batch (quinn) is applied.
      expect(await apply({ source: 'kc-sync', upsert: [upsert('kate'), upsert('quinn')] })).toMatchObject({
        status: 'applied',
        conflicts: [{ externalId: 'sync-kate', username: 'kate', reason: expect.stringContaining('claimLocalUsers is off') }],
      });
      expect(await user('kate')).toMatchObject({ source: 'local', externalId: null });
      expect(await user('quinn')).toMatchObject({ source: 'kc-sync', externalId: 'sync-quinn' });
      expect(await apply({ source: 'kc-sync', upsert: [upsert('root')], claimLocalUsers: true })).toMatchObject({
        status: 'applied',
        conflicts: [{ username: 'root', reason: expect.stringContaining('protected') }],
      });
      expect(await user('root')).toMatchObject({ source: 'local', externalId: null, protected: true });
      expect(await apply({ source: 'kc-sync', upsert: [upsert('kate')], claimLocalUsers: true })).toMatchObject({ status: 'applied' });
      expect(await user('kate')).toMatchObject({ source: 'kc-sync', externalId: 'sync-kate' });

      expect(await apply({ source: 'kc-sync', groupsToCreate: ['sync-team'], upsert: [upsert('sam')] })).toMatchObject({ status: 'applied' });
      const memberships = [
        { externalId: 'sync-sam', group: 'sync-team' },
        { externalId: 'sync-sam', group: 'jira-admins' },
        { externalId: 'sync-sam', group: 'other-team' },
      ];
      expect(await apply({ source: 'kc-sync', addMemberships: memberships })).toMatchObject({ status: 'applied', writes: 1 });
      expect(await groupsOf('sam')).toEqual(['sync-team']);
      expect(await apply({ source: 'kc-sync', addMemberships: memberships, grantLocalGroups: ['jira-admins', 'other-team'] })).toMatchObject({
        status: 'applied',
        writes: 1,
      });
      expect(await groupsOf('sam')).toEqual(['Jira-Admins', 'sync-team']);
      // A batch never removes a membership of a group the connector does not own.
      await db.getRepository(MembershipEntity).insert({ userId: (await user('sam')).id, groupId: (await group('other-team'))!.id, createdAt: new Date() });
      expect(await apply({ source: 'kc-sync', removeMemberships: memberships })).toMatchObject({ status: 'applied', writes: 1 });
      expect(await groupsOf('sam')).toEqual(['Jira-Admins', 'other-team']);
    });

    it("take a user's identity from the IdP id only: in one batch, swaps and chains of renames, a new user taking a renamed or departed user's name", async () => {
      const u = (username: string, externalId: string, email: string | null = null) => ({
        externalId,
        username,
        email,
        displayName: null,
        active: true,
        properties: {},
      });
      expect(
        await apply({ source: 'kc-sync', upsert: [u('ida', 'id-ida'), u('jo', 'id-jo'), u('kim', 'id-kim'), u('lu', 'id-lu', 'lu@example.com')] }),
      ).toMatchObject({ status: 'applied' });
      const lu = await user('lu');
      await db.getRepository(UserEntity).update({ id: lu.id }, { active: false }); // lu left
      // ida ↔ jo swap; kim → kim2 and a new kim; a new lu with lu's email.
      const r = await apply({
        source: 'kc-sync',
        upsert: [u('kim', 'id-kim-new'), u('jo', 'id-ida'), u('ida', 'id-jo'), u('kim2', 'id-kim'), u('lu', 'id-lu-new', 'lu@example.com')],
      });
      expect(r).toMatchObject({
        status: 'applied',
        released: [{ id: lu.id, externalId: 'id-lu', from: 'lu', to: expect.stringMatching(/^lu~/), emailReleased: true }],
      });
      expect(r.conflicts).toBeUndefined();
      const byExternal = async (externalId: string) => db.getRepository(UserEntity).findOneByOrFail({ source: 'kc-sync', externalId });
      expect(await byExternal('id-ida')).toMatchObject({ username: 'jo' });
      expect(await byExternal('id-jo')).toMatchObject({ username: 'ida' });
      expect(await byExternal('id-kim')).toMatchObject({ username: 'kim2' });
      expect(await byExternal('id-kim-new')).toMatchObject({ username: 'kim', active: true });
      expect(await byExternal('id-lu')).toMatchObject({ id: lu.id, active: false, email: null, username: expect.stringMatching(/^lu~/) });
      expect(await byExternal('id-lu-new')).toMatchObject({ username: 'lu', email: 'lu@example.com', active: true });
      // A rename that looks like another user's name is refused and leaves the user as they were.
      expect(await apply({ source: 'kc-sync', upsert: [u('kirn', 'id-ida'), u('kim3', 'id-kim')] })).toMatchObject({
        status: 'applied',
        refused: [{ kind: 'user', name: 'kirn', externalId: 'id-ida' }],
      });
      expect(await byExternal('id-kim')).toMatchObject({ username: 'kim3' });
      expect(await byExternal('id-ida')).toMatchObject({ username: 'jo', usernameLower: 'jo', usernameSkeleton: expect.any(String) });

      // Someone who took the names a departed user's account would be released under (its id is no
      // secret to an admin) does not stop the batch: the account gets a name nobody could take.
      expect(await apply({ source: 'kc-sync', upsert: [u('mo', 'id-mo')] })).toMatchObject({ status: 'applied' });
      const mo = await byExternal('id-mo');
      const hex = mo.id.replace(/-/g, '');
      expect(await apply({ source: 'kc-sync', upsert: [u(`mo~${hex.slice(-10)}`, 'id-squat-1'), u(`mo~${hex}`, 'id-squat-2')] })).toMatchObject({
        status: 'applied',
      });
      await db.getRepository(UserEntity).update({ id: mo.id }, { active: false }); // mo left
      const squatted = await apply({ source: 'kc-sync', upsert: [u('mo', 'id-mo-new'), u('nat', 'id-nat')] });
      expect(squatted).toMatchObject({
        status: 'applied',
        released: [{ id: mo.id, from: 'mo', to: expect.stringMatching(new RegExp(`^mo~${hex}-[0-9a-f]{8}$`)) }],
      });
      expect(await byExternal('id-mo-new')).toMatchObject({ username: 'mo', active: true });
      expect(await byExternal('id-nat')).toMatchObject({ username: 'nat' });
    });

    it('tell the plan which existing groups the connector may not join', async () => {
      const state = DirectoryRpc.syncGroups.reply.parse(await send(DirectoryRpc.syncGroups.subject, { source: 'kc-sync', grantLocalGroups: ['jira-admins'] }));
      expect(state.nextCursor).toBeNull();
      expect(state.groupsNotGrantable).toEqual(expect.arrayContaining(['other-team', 'onboarding', 'kc-team']));
      expect(state.groupsNotGrantable).not.toContain('jira-admins');
      expect(state.groupsNotGrantable).not.toContain('sync-team');
    });
  });

  describe('the protected flag on the admin API', () => {
    it('is shown, changed and audited like any field; only a local account may carry it', async () => {
      const created = await api('POST', '/api/v1/users', { username: 'lena', protected: true });
      expect(created).toMatchObject({ status: 201, body: { username: 'lena', source: 'local', protected: true } });
      expect((await api('GET', `/api/v1/users/${created.body.id}`)).body).toMatchObject({ protected: true });
      expect((await api('PATCH', `/api/v1/users/${created.body.id}`, { protected: false })).body).toMatchObject({ protected: false });
      const audit = await db.getRepository(AuditEntryEntity).find({ where: { targetId: created.body.id }, order: { at: 'ASC' } });
      expect(audit.map((a) => [a.action, (a.before as any)?.protected, (a.after as any)?.protected])).toEqual([
        ['user.created', undefined, true],
        ['user.updated', true, false],
      ]);
      expect(await api('POST', '/api/v1/users', { username: 'max', source: 'kc', protected: true })).toMatchObject({ status: 400 });
      const kcUser = await user('alice');
      expect(await api('PATCH', `/api/v1/users/${kcUser.id}`, { protected: true })).toMatchObject({ status: 400 });
    });

    it('bulk: sets it, keeps it when not named, and never re-sources a protected account', async () => {
      const bulk = await api('POST', '/api/v1/users/bulk', { users: [{ username: 'nina', protected: true }] });
      expect(bulk).toMatchObject({ status: 200, body: { created: 1 } });
      expect(await user('nina')).toMatchObject({ protected: true });
      expect((await api('POST', '/api/v1/users/bulk', { users: [{ username: 'nina', displayName: 'Nina' }] })).status).toBe(200);
      expect(await user('nina')).toMatchObject({ protected: true, displayName: 'Nina' });
      expect((await api('POST', '/api/v1/users/bulk', { users: [{ username: 'nina', source: 'kc', externalId: 'kc-nina' }] })).status).toBe(409);
      expect(await user('nina')).toMatchObject({ source: 'local', externalId: null, protected: true });
      expect((await api('POST', '/api/v1/users/bulk', { users: [{ username: 'otto', source: 'kc', protected: true }] })).status).toBe(400);
    });
  });
});
