import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { DirectoryRpc } from '@bridgekeeper/contracts';
import { AuditEntryEntity, databaseOptions } from '@bridgekeeper/data';
import { heldPlanDigest, namesBasis, namesGiven, settingsDigest, SyncPlan } from '@bridgekeeper/provisioning-model';
import type { ConnectorEntity } from '../connectors/connector.entity';
import type { ConnectorsService } from '../connectors/connectors.service';
import type { DirectoryClient } from '../directory-client/directory.client';
import type { EffectiveSettings, IdpSettingsService } from '../settings/idp-settings.service';
import type { EventBus } from '@bridgekeeper/messaging';
import { PROVISIONING_ENTITIES, PROVISIONING_MIGRATIONS } from '../database';
import { SyncHeldPlanEntity, SyncRunEntity } from './sync-run.entity';
import { SyncService } from './sync.service';

/**
 * An approved plan that fails while applying: the approval run says what failed; the held run is
 * held again only when the directory certainly applied nothing. The directory is an in-memory fake
 * that answers each batch as the test says (the real one is exercised by test/user-sync-held.e2e-spec.ts);
 * the provisioning database is a real SQLite file.
 */
describe('an approved plan that fails while applying', () => {
  let dataDir: string;
  let ds: DataSource;
  let sync: SyncService;
  let answers: Array<'applied' | 'refused'>;
  /** The batches the directory was sent, in order. */
  const sent: unknown[] = [];
  const settings: EffectiveSettings = {
    idp: 'keycloak',
    model: 'sync',
    mapping: {} as EffectiveSettings['mapping'],
    updateOnLogin: true,
    grantLocalGroups: [],
    claimLocalUsers: false,
    origin: 'environment',
  };
  const connector = { id: 'kc', idp: 'keycloak', enabled: true, updatedAt: new Date(Date.now() - 60_000), options: {} } as ConnectorEntity;
  /** What the next reads of the connector find (then `connector`): an admin's change between two reads. */
  let reads: ConnectorEntity[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bk-approval-'));
    ds = new DataSource(await databaseOptions({ service: 'provisioning', dataDir, entities: PROVISIONING_ENTITIES, migrations: PROVISIONING_MIGRATIONS }));
    await ds.initialize();
    const directory = {
      namesHeld: async () => ({ held: [] }),
      syncState: async () => ({ users: [], nextCursor: null }),
      syncGroups: async () => ({ groupNames: [], ownGroups: [], groupsNotGrantable: [], nextCursor: null }),
      syncApply: async (batch: unknown) => {
        sent.push(batch);
        return answers.shift() === 'applied' ? { status: 'applied', writes: 1 } : { status: 'error', code: 'seat_limit', message: 'no licence seat is free' };
      },
    } as unknown as DirectoryClient;
    const connectors = { get: async () => reads.shift() ?? connector } as unknown as ConnectorsService;
    const idpSettings = { effective: async () => settings } as unknown as IdpSettingsService;
    const bus = { publish: async () => undefined } as unknown as EventBus;
    sync = new SyncService(ds, connectors, directory, bus, idpSettings, new Registry());
  });

  afterAll(async () => {
    await ds?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A held run of `kc` whose stored plan disables one user and creates one: two batches. */
  const heldRun = async (more: Partial<SyncPlan> = {}) => {
    const id = crypto.randomUUID();
    const plan: SyncPlan = {
      create: [{ externalId: 'kc-new', username: 'newcomer', email: null, displayName: null, active: true, properties: {} }],
      update: [],
      enable: [],
      disable: [{ id: crypto.randomUUID(), username: 'leaver', reason: 'disabled-in-idp' }],
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
      ...more,
    };
    const text = JSON.stringify(plan);
    const planDigest = heldPlanDigest(id, text);
    await ds.getRepository(SyncRunEntity).insert(
      ds.getRepository(SyncRunEntity).create({
        id,
        connectorId: 'kc',
        status: 'held',
        trigger: 'api',
        requestedBy: 't',
        mode: 'full',
        changesUntil: null,
        dryRun: false,
        progress: {},
        counts: null,
        plan: null,
        planDigest,
        reason: 'held for approval',
        directoryWrites: 0,
        startedAt: new Date(),
        finishedAt: null,
      }),
    );
    await ds.getRepository(SyncHeldPlanEntity).insert({
      runId: id,
      plan: text,
      basis: {},
      settingsDigest: settingsDigest(settings),
      names: namesBasis(namesGiven(plan), []),
      asOf: Date.now(),
      createdAt: new Date(),
    });
    return { id, planDigest };
  };
  const statusOf = async (id: string) => (await ds.getRepository(SyncRunEntity).findOneByOrFail({ id })).status;
  const actions = async (id: string) => (await ds.getRepository(AuditEntryEntity).find({ where: { targetId: id }, order: { id: 'ASC' } })).map((a) => a.action);

  it('holds the run again when the directory refused the first batch: nothing was applied', async () => {
    const held = await heldRun();
    answers = ['refused'];
    const { done } = await sync.approve(held.id, 'admin', held.planDigest);
    const run = await done;
    expect(run).toMatchObject({ status: 'failed', reason: expect.stringContaining(`nothing was applied: the directory refused a batch (seat_limit)`) });
    expect(run.reason).toContain(`Run ${held.id} is held again`);
    expect(await statusOf(held.id)).toBe('held');
    expect(await actions(held.id)).toEqual(['sync-run.approved', 'sync-run.held-again']);
    // It may be approved again, and then applies.
    answers = ['applied', 'applied'];
    const again = await sync.approve(held.id, 'admin', held.planDigest);
    expect(await again.done).toMatchObject({ status: 'applied' });
    expect(await statusOf(held.id)).toBe('approved');
  });

  it('checks the connector again under the run lock: changed or disabled after the first check, nothing is approved', async () => {
    for (const meanwhile of [
      { ...connector, updatedAt: new Date(Date.now() + 60_000) },
      { ...connector, enabled: false },
    ]) {
      const held = await heldRun();
      answers = ['applied', 'applied'];
      reads = [connector, meanwhile]; // the check before the lock passes; the admin's change commits before the lock is taken
      await expect(sync.approve(held.id, 'admin', held.planDigest)).rejects.toThrow(meanwhile.enabled ? /was changed after run/ : /is disabled/);
      expect(await statusOf(held.id)).toBe('held');
      expect(await actions(held.id)).toEqual([]);
      expect(answers).toHaveLength(2); // the directory was not asked to apply anything
      expect(await ds.getRepository(SyncRunEntity).countBy({ trigger: 'approval', connectorId: 'kc', status: 'running' })).toBe(0);
      await ds.getRepository(SyncRunEntity).update({ id: held.id }, { status: 'discarded' });
    }
    // The lock was let go: a run may start.
    reads = [];
    await expect(sync.approve((await heldRun()).id, 'admin', 'x')).rejects.toThrow(/digest does not match/);
  });

  it('keeps the run approved when part of the plan was applied, and says how much', async () => {
    const held = await heldRun();
    answers = ['applied', 'refused'];
    const { done } = await sync.approve(held.id, 'admin', held.planDigest);
    const run = await done;
    expect(run).toMatchObject({ status: 'failed', reason: expect.stringContaining('failed after 1 of 2 batches') });
    expect(run.reason).toContain(`Run ${held.id} stays approved`);
    expect(await statusOf(held.id)).toBe('approved');
    expect(await actions(held.id)).toEqual(['sync-run.approved']);
  });

  it('sends a first sync of a large realm in batches the directory takes: 6,000 new groups, 6,000 groups to link, long names, their memberships', async () => {
    // Before, every new group went in one batch: over the contract's 5,000 the directory refused
    // it, and every run of such a realm failed; membership batches were cut by count only (5,000
    // memberships naming 100-character groups, with their IdP groups, pass NATS's 1 MB).
    const name = (i: number) => `${'department-of-long-names-'.repeat(4)}${String(i).padStart(6, '0')}`;
    const groupsToCreate = Array.from({ length: 6000 }, (_, i) => ({ name: name(i), externalId: `kg-${i}` }));
    const addMemberships = Array.from({ length: 6000 }, (_, i) => ({ externalId: 'kc-new', group: name(i) }));
    const groupIdentities = groupsToCreate.map((g) => ({ group: g.name, externalId: g.externalId }));
    // A realm from before groups were linked to their IdP group: its groups are linked on the first run.
    const groupsToLink = Array.from({ length: 6000 }, (_, i) => ({ name: `linked-${name(i)}`, externalId: `kl-${i}` }));
    const held = await heldRun({ groupsToCreate, groupsToLink, addMemberships, groupIdentities });
    sent.length = 0;
    answers = Array.from({ length: 100 }, () => 'applied' as const);
    const { done } = await sync.approve(held.id, 'admin', held.planDigest);
    expect(await done).toMatchObject({ status: 'applied' });
    let groups = 0;
    let links = 0;
    let memberships = 0;
    for (const batch of sent) {
      const parsed = DirectoryRpc.syncApply.request.safeParse(batch);
      expect(parsed.success).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThan(1024 * 1024);
      groups += parsed.data?.groupsToCreate.length ?? 0;
      links += parsed.data?.groupsToLink.length ?? 0;
      memberships += parsed.data?.addMemberships.length ?? 0;
    }
    expect(groups).toBe(6000);
    expect(links).toBe(6000);
    expect(memberships).toBe(6000);
  });
});
