import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, RpcException, Transport } from '@nestjs/microservices';
import { NatsConnection } from 'nats';
import { firstValueFrom, lastValueFrom, Observable, timeout, toArray } from 'rxjs';
import { startNats, TestNats } from '@bridgekeeper/testing';
import { natsRequestClient, SharedInboxNatsClient } from './shared-inbox-nats.client';

@Controller()
class EchoController {
  @MessagePattern('test.echo')
  async echo(@Payload() n: number) {
    // Answers out of order: later requests may be answered first.
    await new Promise((r) => setTimeout(r, (n * 7) % 20));
    return { n };
  }

  @MessagePattern('test.refuse')
  refuse() {
    throw new RpcException('refused on purpose');
  }

  @MessagePattern('test.silent')
  silent() {
    return new Promise(() => undefined); // never answers
  }

  @MessagePattern('test.count')
  count(@Payload() to: number) {
    return new Observable<number>((s) => {
      for (let i = 1; i <= to; i++) s.next(i);
      s.complete();
    });
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

describe('SharedInboxNatsClient against a Nest NATS server', () => {
  let nats: TestNats;
  let server: INestMicroservice;
  let client: SharedInboxNatsClient;

  beforeAll(async () => {
    nats = await startNats();
    server = await NestFactory.createMicroservice(EchoModule, { transport: Transport.NATS, options: { servers: [nats.url], queue: 'test' }, logger: false });
    await server.listen();
    client = natsRequestClient({ servers: [nats.url], name: 'shared-inbox-test' }) as SharedInboxNatsClient;
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await nats?.stop();
  });

  it('answers many requests at once, each with its own reply, over one subscription', async () => {
    const subscribe = jest.spyOn(client.unwrap<NatsConnection>(), 'subscribe');
    const replies = await Promise.all(Array.from({ length: 200 }, (_, n) => firstValueFrom(client.send<{ n: number }>('test.echo', n).pipe(timeout(10_000)))));
    expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    // One shared inbox for all of them (Nest's own client subscribes once per request).
    expect(subscribe.mock.calls.length).toBeLessThanOrEqual(1);
    subscribe.mockRestore();
  });

  it("passes a handler's error on, and a streamed answer whole", async () => {
    await expect(firstValueFrom(client.send('test.refuse', {}))).rejects.toMatchObject({ message: 'refused on purpose' });
    expect(await lastValueFrom(client.send<number>('test.count', 3).pipe(toArray()))).toEqual([1, 2, 3]);
  });

  it('refuses a request nobody listens to at once, times out one left unanswered, and keeps working', async () => {
    await expect(firstValueFrom(client.send('test.nobody', {}).pipe(timeout(5000)))).rejects.toThrow(/no subscribers listening to that message \("test.nobody"\)/);
    await expect(firstValueFrom(client.send('test.silent', {}).pipe(timeout(300)))).rejects.toThrow(/timeout/i);
    expect(await firstValueFrom(client.send<{ n: number }>('test.echo', 5))).toEqual({ n: 5 });
  });

  it('subscribes again on a new connection after close and connect', async () => {
    await client.close();
    await client.connect();
    expect(await firstValueFrom(client.send<{ n: number }>('test.echo', 7))).toEqual({ n: 7 });
  });
});
