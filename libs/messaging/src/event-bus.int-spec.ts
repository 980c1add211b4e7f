import { Test } from '@nestjs/testing';
import { INestApplicationContext } from '@nestjs/common';
import { StringCodec } from 'nats';
import { createEvent, SyncRequestedV1, UserAuthenticatedV1 } from '@bridgekeeper/contracts';
import { startNats, TestNats, waitFor } from '@bridgekeeper/testing';
import { EventBus, MessagingModule, NatsConnectionService, PermanentEventError } from './index';

const login = (traceId = crypto.randomUUID()) => ({
  idp: 'keycloak',
  protocol: 'saml' as const,
  subject: 'alice',
  attributes: {},
  traceId,
});

describe('EventBus on a real nats-server -js', () => {
  let nats: TestNats;
  let app: INestApplicationContext;
  let bus: EventBus;

  beforeAll(async () => {
    nats = await startNats();
    const moduleRef = await Test.createTestingModule({
      imports: [MessagingModule.forRootAsync({ useFactory: () => ({ servers: nats.url, service: 'test', ackWaitMs: 2000 }) })],
    }).compile();
    app = await moduleRef.init();
    bus = app.get(EventBus);
  });

  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  it('keeps events for a durable consumer that starts later, and de-duplicates by event id', async () => {
    const first = await bus.publish(UserAuthenticatedV1, login());
    await bus.publish(UserAuthenticatedV1, login(), { id: first.id }); // a publisher retry
    await bus.publish(UserAuthenticatedV1, login());
    const seen: string[] = [];
    await bus.consume(UserAuthenticatedV1, { durable: 'test__late' }, async (e) => {
      seen.push(e.id);
    });
    await waitFor('two events', async () => seen.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(first.id);
  });

  it('redelivers after a failure, then dead-letters after maxDeliver tries without blocking later events', async () => {
    const nc = await app.get(NatsConnectionService).nc();
    const dead: unknown[] = [];
    nc.subscribe('deadletter.test__retry.sync.requested', { callback: (_e, m) => dead.push(JSON.parse(StringCodec().decode(m.data))) });
    const attempts = new Map<string, number>();
    const done: string[] = [];
    await bus.consume(SyncRequestedV1, { durable: 'test__retry', maxDeliver: 3 }, async (e, { deliveries }) => {
      attempts.set(e.data.connectorId, deliveries);
      if (e.data.connectorId === 'flaky' && deliveries < 2) throw new Error('transient');
      if (e.data.connectorId === 'poison') throw new Error('always fails');
      done.push(e.data.connectorId);
    });
    await bus.publish(SyncRequestedV1, { connectorId: 'poison', dryRun: false, requestedBy: 'test' });
    await bus.publish(SyncRequestedV1, { connectorId: 'flaky', dryRun: false, requestedBy: 'test' });
    await bus.publish(SyncRequestedV1, { connectorId: 'fine', dryRun: false, requestedBy: 'test' });
    await waitFor('flaky and fine handled', async () => done.includes('flaky') && done.includes('fine'), 15_000);
    expect(attempts.get('flaky')).toBe(2);
    await waitFor('poison dead-lettered', async () => dead.length === 1, 15_000);
    expect(attempts.get('poison')).toBe(3);
    expect(dead[0]).toMatchObject({
      consumer: 'test__retry',
      subject: 'sync.requested',
      deliveries: 3,
      error: 'always fails',
      event: { data: { connectorId: 'poison' } },
    });
  });

  it('dead-letters invalid events and PermanentEventError at once', async () => {
    const nc = await app.get(NatsConnectionService).nc();
    const dead: { error: string }[] = [];
    nc.subscribe('deadletter.test__strict.user.authenticated', { callback: (_e, m) => dead.push(JSON.parse(StringCodec().decode(m.data))) });
    const js = nc.jetstream();
    await js.publish('user.authenticated', StringCodec().encode('{"not":"an envelope"}'));
    const calls: number[] = [];
    await bus.consume(UserAuthenticatedV1, { durable: 'test__strict', maxDeliver: 5 }, async (_e, { deliveries }) => {
      calls.push(deliveries);
      throw new PermanentEventError('cannot be fixed by retrying');
    });
    // two valid events from the first test, then the invalid one
    await waitFor('all three dead-lettered', async () => dead.length === 3, 15_000);
    expect(dead.some((d) => d.error.startsWith('invalid event'))).toBe(true);
    expect(dead.some((d) => d.error === 'cannot be fixed by retrying')).toBe(true);
    expect(calls.every((d) => d === 1)).toBe(true);
  });

  it('validates before publishing', async () => {
    await expect(bus.publish(UserAuthenticatedV1, { ...login(), idp: 'Not Valid' })).rejects.toThrow(/idp/);
    expect(() => createEvent(UserAuthenticatedV1, 'x', { ...login(), traceId: 'nope' })).toThrow(/traceId/);
  });
});
