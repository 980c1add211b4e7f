import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ErrorCode, Msg, NatsConnection, NatsError, Subscription } from 'nats';
import { z } from 'zod';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { NatsConnectionService } from './nats-connection.service';

/** A request/reply command between services: its NATS subject and both payloads' schemas (libs/contracts' `*Rpc` objects). */
export interface RpcContract<Req extends z.ZodType = z.ZodType, Rep extends z.ZodType = z.ZodType> {
  subject: string;
  request: Req;
  reply: Rep;
}

/** zod's issues as one line an admin can read (where and what, at most five), never the values. */
export function issuesLine(error: z.ZodError): string {
  const lines = error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (error.issues.length > 5) lines.push(`and ${error.issues.length - 5} more`);
  return lines.join('; ');
}

/** The parsed value, or an error a run's reason and a log line can show (instead of zod's JSON dump). */
export function readable<T>(subject: string, what: 'request' | 'reply', result: z.ZodSafeParseResult<T>): T {
  if (result.success) return result.data;
  throw new Error(`invalid ${subject} ${what}: ${issuesLine(result.error)}`);
}

/** What goes back on the wire: the handler's answer, or why there is none. */
type Wire = { ok: true; reply: unknown } | { ok: false; error: string };

const RPC_CONTRACT = Symbol('bridgekeeper:rpc-contract');

/** The contract a method serves (`@RpcHandler`), or undefined. */
export const rpcContractOf = (method: unknown): RpcContract | undefined => (typeof method === 'function' ? (Reflect.getMetadata(RPC_CONTRACT, method) as RpcContract | undefined) : undefined);

type Handler<Req extends z.ZodType, Rep extends z.ZodType> = (request: z.output<Req>) => Promise<z.input<Rep>> | z.input<Rep>;

/**
 * Serves a contract's command: RpcServer subscribes the method to the contract's subject (queue
 * group: the service's name). The payload is checked against the contract's request schema before
 * the method sees it, typed. An invalid request gets `invalid(why)` as its reply where the
 * contract has such an answer (`{ found: false }`, an `invalid_request` error), else the caller
 * gets an error naming what is wrong.
 */
export function RpcHandler<Req extends z.ZodType, Rep extends z.ZodType>(contract: RpcContract<Req, Rep>, invalid?: (why: string) => NoInfer<z.input<Rep>>) {
  // Only `value` (no `set`): a method whose answer is narrower than the contract's reply fits.
  return (_target: object, _key: string | symbol, descriptor: { value?: NoInfer<Handler<Req, Rep>> }): void => {
    const handle = descriptor.value!;
    const checked = async function (this: unknown, payload: unknown) {
      const parsed = contract.request.safeParse(payload);
      if (parsed.success) return handle.call(this, parsed.data);
      if (invalid) return invalid(issuesLine(parsed.error));
      throw new Error(`invalid ${contract.subject} request: ${issuesLine(parsed.error)}`);
    };
    Reflect.defineMetadata(RPC_CONTRACT, contract, checked);
    descriptor.value = checked as unknown as Handler<Req, Rep>;
  };
}

/**
 * Subscribes every `@RpcHandler` method of the application's controllers and providers on the
 * service's one NATS connection, in the service's queue group (instances share the work). A
 * service's app serves them once initialised, before it listens (createServiceApp), so a ready
 * service answers its commands; a CLI's application context serves none. Requests and answers
 * are JSON; a handler's failure goes back as an error the caller throws.
 */
@Injectable()
export class RpcServer {
  private readonly logger = new Logger(RpcServer.name);
  private readonly subscriptions: Subscription[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly nats: NatsConnectionService,
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
  ) {}

  async serve(): Promise<void> {
    const handlers: { contract: RpcContract; call: (payload: unknown) => Promise<unknown> }[] = [];
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[name] as ((payload: unknown) => unknown) | undefined;
        const contract = rpcContractOf(method);
        if (contract) handlers.push({ contract, call: async (payload) => method!.call(instance, payload) });
      }
    }
    if (handlers.length === 0) return;
    const nc = await this.nats.nc();
    for (const { contract, call } of handlers) {
      this.subscriptions.push(nc.subscribe(contract.subject, { queue: this.options.service, callback: (err, msg) => void this.answer(contract, call, err, msg) }));
    }
    // The subscriptions reach the server before the service says it is ready.
    await nc.flush();
    this.logger.log(`answering ${handlers.map((h) => h.contract.subject).join(', ')}`);
  }

  private async answer(contract: RpcContract, call: (payload: unknown) => Promise<unknown>, err: NatsError | null, msg: Msg): Promise<void> {
    if (err) {
      this.logger.warn(`${contract.subject}: ${err.message}`);
      return;
    }
    let wire: Wire;
    try {
      wire = { ok: true, reply: await call(msg.data.length ? JSON.parse(new TextDecoder().decode(msg.data)) : undefined) };
    } catch (failure) {
      wire = { ok: false, error: failure instanceof Error ? failure.message : String(failure) };
      this.logger.warn(`${contract.subject}: ${wire.error}`);
    }
    msg.respond(new TextEncoder().encode(JSON.stringify(wire)));
  }
}

/**
 * One command on a NATS connection as RpcServer answers it: the payload as JSON, the answer, or an
 * Error with the handler's reason (or no responder, or no answer in time). Unchecked: RpcClient
 * checks both ways; tests use this to send what a contract would refuse.
 */
export async function rpcRequest(nc: NatsConnection, subject: string, payload: unknown, timeoutMs: number): Promise<unknown> {
  let msg: Msg;
  try {
    msg = await nc.request(subject, new TextEncoder().encode(JSON.stringify(payload)), { timeout: timeoutMs });
  } catch (err) {
    const code = (err as NatsError).code;
    if (code === ErrorCode.NoResponders) throw new Error(`no service answers ${subject} (is it running?)`);
    if (code === ErrorCode.Timeout) throw new Error(`${subject} had no answer within ${timeoutMs} ms`);
    throw err;
  }
  const wire = JSON.parse(new TextDecoder().decode(msg.data)) as Wire;
  if (!wire.ok) throw new Error(`${subject}: ${wire.error}`);
  return wire.reply;
}

/**
 * Sends contracts' commands on the service's one NATS connection (the nats client's own request,
 * which shares one reply subscription), checking the request on the way out and the reply on the
 * way back.
 */
export class RpcClient {
  constructor(
    private readonly nats: Pick<NatsConnectionService, 'nc'>,
    private readonly defaultTimeoutMs: number,
  ) {}

  async call<Req extends z.ZodType, Rep extends z.ZodType>(rpc: RpcContract<Req, Rep>, request: z.input<Req>, timeoutMs = this.defaultTimeoutMs): Promise<z.output<Rep>> {
    const payload = readable(rpc.subject, 'request', rpc.request.safeParse(request));
    const reply = await rpcRequest(await this.nats.nc(), rpc.subject, payload, timeoutMs);
    return readable(rpc.subject, 'reply', rpc.reply.safeParse(reply));
  }
}
