import 'reflect-metadata';
import { Controller, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, NatsConnection } from 'nats';
import { z } from 'zod';
import { startNats, TestNats } from '@bridgekeeper/testing';
import { MessagingModule } from './messaging.module';
import { RpcHandler, rpcRequest, RpcServer } from './rpc';

/**
 * RpcServer on a real nats-server (from the attacker review of issue 28): an answer too large for
 * the server, a handler's failure, bytes that are not JSON and a shutdown under way never take the
 * service down or hand the caller a database's words, and the caller never waits out its timeout.
 */
const tag = `rpc${Date.now().toString(36)}`;
const slow = { subject: `rpc.${tag}.slow`, request: z.object({ ms: z.number() }).strict(), reply: z.object({ done: z.literal(true) }) };
const big = { subject: `rpc.${tag}.big`, request: z.object({ kb: z.number() }).strict(), reply: z.object({ names: z.array(z.string()) }) };
const boom = { subject: `rpc.${tag}.boom`, request: z.object({ token: z.string() }).strict(), reply: z.unknown() };

@Controller()
class Handlers {
  @RpcHandler(slow)
  async slow(req: { ms: number }) {
    await new Promise((r) => setTimeout(r, req.ms));
    return { done: true as const };
  }

  @RpcHandler(big)
  big(req: { kb: number }) {
    return { names: Array.from({ length: req.kb }, (_, i) => `group-${i}-`.padEnd(1024, 'x')) };
  }

  @RpcHandler(boom)
  boom(req: { token: string }): never {
    throw new Error(`duplicate key value violates unique constraint (token=${req.token})`);
  }
}

describe('RpcServer on a real NATS server', () => {
  let nats: TestNats;
  let client: NatsConnection;
  let app: INestApplicationContext;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);

  const start = async () => {
    @Module({ imports: [MessagingModule.forRootAsync({ useFactory: () => ({ servers: nats.url, service: `svc-${tag}` }) })], controllers: [Handlers] })
    class AppModule {}
    const created = await NestFactory.create(AppModule, { logger: false });
    await created.init();
    await created.get(RpcServer).serve();
    return created;
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    nats = await startNats();
    client = await connect({ servers: nats.url });
    app = await start();
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await app?.close();
    await client?.close();
    await nats?.stop();
  });

  it('answers an answer too large for the server with an error at once, and lives on', async () => {
    expect(await rpcRequest(client, big.subject, { kb: 10 }, 5000)).toMatchObject({ names: expect.any(Array) });
    await expect(rpcRequest(client, big.subject, { kb: 1100 }, 5000)).rejects.toThrow(/larger than the NATS server takes \(max_payload/);
    expect(await rpcRequest(client, slow.subject, { ms: 1 }, 5000)).toEqual({ done: true });
    expect(unhandled).toEqual([]);
  });

  it("tells the caller neither a handler's own failure nor the bytes it could not read, only a reference to the log", async () => {
    const failed = await rpcRequest(client, boom.subject, { token: 'bk_secret' }, 5000).catch((e: Error) => e.message);
    expect(failed).toMatch(/the command failed; see the service's log \(ref [0-9a-f-]{36}\)/);
    expect(failed).not.toMatch(/bk_secret|constraint/);
    const raw = await client.request(boom.subject, new TextEncoder().encode('bk_secret_token not json'), { timeout: 5000 });
    const wire = JSON.parse(new TextDecoder().decode(raw.data));
    expect(wire).toEqual({ ok: false, error: expect.stringMatching(/^the request is not JSON; see the service's log/) });
    // An invalid request is the caller's to fix: it is told what is wrong.
    await expect(rpcRequest(client, slow.subject, { ms: 'soon' }, 5000)).rejects.toThrow(/invalid rpc\..*\.slow request: ms: /);
  });

  it('answers what it has taken before it shuts down', async () => {
    const own = await start();
    // Two servers in the queue group: stop one while a slow command is on it.
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () =>
        rpcRequest(client, slow.subject, { ms: 300 }, 5000).then(
          () => 'answered',
          (e: Error) => e.message,
        ),
      ),
      new Promise((r) => setTimeout(r, 50)).then(() => own.close()).then(() => 'closed'),
    ]);
    expect(answers).toEqual([...Array(6).fill('answered'), 'closed']);
    expect(unhandled).toEqual([]);
  });
});
