import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { createTestDatabase, startNats, TestDatabase, TestNats } from '@bridgekeeper/testing';
import { loadDirectoryConfig } from '../src/config/directory.config';
import { createDirectoryApp } from '../src/directory.app';
import { TokensService } from '../src/tokens/tokens.service';

/**
 * A User Sync connector's groups are the IdP's groups, by id, on both engines: the directory's
 * side of a group renamed or moved at the IdP (renamed in place, swaps included, only while still
 * named as planned; a new name another group holds, or one that looks like it, is refused and the
 * group keeps its name), groups made before ids were recorded linked by name, and the sync state
 * naming each of the connector's groups with its IdP group.
 */
describe.each(['postgres', 'sqlite'] as const)('User Sync groups by IdP group id, on %s', (engine) => {
  let nats: TestNats;
  let pg: TestDatabase | undefined;
  let dataDir: string;
  let app: INestApplication;
  let base: string;
  let admin: string;
  let rpc: ClientProxy;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  type Group = { id: string; name: string; source: string; externalId: string | null };
  const groups = async (): Promise<Group[]> => (await call('GET', '/api/v1/groups?limit=500')).body.items;
  const group = async (name: string) => (await groups()).find((g) => g.name === name);
  const syncApply = async (req: Record<string, unknown>) => DirectoryRpc.syncApply.reply.parse(await firstValueFrom(rpc.send(DirectoryRpc.syncApply.subject, { source: 'kc', actor: 'sync:test', ...req })));
  const syncState = async () => DirectoryRpc.syncState.reply.parse(await firstValueFrom(rpc.send(DirectoryRpc.syncState.subject, { source: 'kc', limit: 100 })));
  const membersOf = async (id: string) => (await call('GET', `/api/v1/groups/${id}`)).body.members;

  beforeAll(async () => {
    nats = await startNats();
    pg = engine === 'postgres' ? await createTestDatabase() : undefined;
    dataDir = mkdtempSync(join(tmpdir(), 'bk-sync-groups-'));
    app = await createDirectoryApp(loadDirectoryConfig({ NATS_URL: nats.url, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...(pg ? { DATABASE_URL: pg.url } : {}) }));
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    admin = (await app.get(TokensService).create('test admin', 'admin', 'test')).token;
    rpc = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [nats.url] } });
    await rpc.connect();
  });

  afterAll(async () => {
    await rpc?.close();
    await app?.close();
    await pg?.drop();
    await nats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a group as its IdP group, and the sync state names it so', async () => {
    const reply = await syncApply({
      groupsToCreate: [
        { name: 'eng/backend', externalId: 'g-backend' },
        { name: 'eng/frontend', externalId: 'g-frontend' },
      ],
      upsert: [{ externalId: 'u-1', username: 'una', email: null, displayName: null, active: true, properties: {} }],
      addMemberships: [
        { externalId: 'u-1', group: 'eng/backend' },
        { externalId: 'u-1', group: 'eng/frontend' },
      ],
    });
    expect(reply).toMatchObject({ status: 'applied', writes: 5 });
    expect(await group('eng/backend')).toMatchObject({ source: 'kc', externalId: 'g-backend' });
    expect((await syncState()).ownGroups).toEqual(expect.arrayContaining([{ name: 'eng/backend', externalId: 'g-backend' }, { name: 'eng/frontend', externalId: 'g-frontend' }]));
  });

  it('renames groups in place, two of them swapping names, keeping their ids and members', async () => {
    const backend = (await group('eng/backend'))!;
    const frontend = (await group('eng/frontend'))!;
    const reply = await syncApply({
      groupsToRename: [
        { externalId: 'g-backend', from: 'eng/backend', to: 'eng/frontend' },
        { externalId: 'g-frontend', from: 'eng/frontend', to: 'eng/backend' },
      ],
    });
    expect(reply).toMatchObject({ status: 'applied', writes: 2 });
    expect(reply).not.toHaveProperty('refused');
    expect(await group('eng/frontend')).toMatchObject({ id: backend.id, externalId: 'g-backend' });
    expect(await group('eng/backend')).toMatchObject({ id: frontend.id, externalId: 'g-frontend' });
    expect(await membersOf(backend.id)).toBe(1);
    const audit = (await call('GET', `/api/v1/audit?targetId=${backend.id}`)).body;
    expect(JSON.stringify(audit)).toContain('group.updated');
  });

  it("refuses a rename into another group's name or a lookalike of one, or of a group not named as planned: the group keeps its name", async () => {
    for (const name of ['jira-users', 'jira-admins']) expect((await call('POST', '/api/v1/groups', { name })).status).toBe(201);
    const before = await groups();
    const reply = await syncApply({
      groupsToRename: [
        { externalId: 'g-backend', from: 'eng/frontend', to: 'Jira-Users' },
        { externalId: 'g-frontend', from: 'eng/backend', to: 'jira-adrnins' },
        { externalId: 'g-backend', from: 'eng/stale', to: 'eng/new' },
        { externalId: 'g-none', from: 'nothing', to: 'eng/new' },
      ],
    });
    expect(reply.status).toBe('applied');
    expect(reply).toMatchObject({ writes: 0 });
    const refused = reply.status === 'applied' ? (reply.refused ?? []) : [];
    expect(refused.map((r) => `${r.kind}:${r.name}`).sort()).toEqual(['group:Jira-Users', 'group:eng/new', 'group:eng/new', 'group:jira-adrnins']);
    expect(refused.find((r) => r.name === 'jira-adrnins')?.reason).toMatch(/looks like.*jira-admins/);
    expect(refused.find((r) => r.name === 'Jira-Users')?.reason).toMatch(/another group is named Jira-Users; the group eng\/frontend keeps its name/);
    expect(await groups()).toEqual(before);
  });

  it('a refused rename keeps the name another rename of the batch wanted', async () => {
    // g-backend (eng/frontend) would move to a name that looks like jira-users; g-frontend wants eng/frontend.
    const reply = await syncApply({
      groupsToRename: [
        { externalId: 'g-backend', from: 'eng/frontend', to: 'jira-adrnins' },
        { externalId: 'g-frontend', from: 'eng/backend', to: 'eng/frontend' },
      ],
    });
    expect(reply).toMatchObject({ status: 'applied', writes: 0 });
    expect((await group('eng/frontend'))?.externalId).toBe('g-backend');
    expect((await group('eng/backend'))?.externalId).toBe('g-frontend');
  });

  it('links a group of the connector made before ids were recorded, once; a group it creates that is here already under another name is not created again', async () => {
    // A batch as an earlier version sent it: group names only.
    expect(await syncApply({ groupsToCreate: ['legacy'] })).toMatchObject({ status: 'applied', writes: 1 });
    expect((await group('legacy'))?.externalId).toBeNull();
    expect(await syncApply({ groupsToLink: [{ name: 'Legacy', externalId: 'g-legacy' }] })).toMatchObject({ status: 'applied', writes: 1 });
    expect((await group('legacy'))?.externalId).toBe('g-legacy');
    expect(await syncApply({ groupsToLink: [{ name: 'legacy', externalId: 'g-other' }] })).toMatchObject({ status: 'applied', writes: 0 });
    // A local group is never linked.
    expect(await syncApply({ groupsToLink: [{ name: 'jira-users', externalId: 'g-jira' }] })).toMatchObject({ status: 'applied', writes: 0 });
    expect((await group('jira-users'))?.externalId).toBeNull();
    // A single user's sync names g-legacy by its new name before a run renames it: no second group.
    const count = (await groups()).length;
    expect(await syncApply({ groupsToCreate: [{ name: 'legacy-renamed', externalId: 'g-legacy' }] })).toMatchObject({ status: 'applied', writes: 0 });
    expect(await groups()).toHaveLength(count);
  });
});
