import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
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

/**
 * A refusal a handler means its caller to read (an invalid request, with what is wrong). Any other
 * failure goes back as a fixed text with a reference, its message and stack to the service's log
 * only: a database error can name constraints or quote values.
 */
export class RpcRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpcRefusal';
  }
}

const RPC_CONTRACT = Symbol('bridgekeeper:rpc-contract');

/** The contract a method serves (`@RpcHandler`), or undefined. */
export const rpcContractOf = (method: unknown): RpcContract | undefined =>
  typeof method === 'function' ? (Reflect.getMetadata(RPC_CONTRACT, method) as RpcContract | undefined) : undefined;

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
      throw new RpcRefusal(`invalid ${contract.subject} request: ${issuesLine(parsed.error)}`);
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
export class RpcServer implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RpcServer.name);
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

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
      this.subscriptions.push(
        nc.subscribe(contract.subject, {
          queue: this.options.service,
          callback: (err, msg) => {
            const answering = this.answer(contract, call, err, msg).catch((failure: Error) =>
              this.logger.error(`${contract.subject}: ${failure.message}`, failure.stack),
            );
            this.inFlight.add(answering);
            void answering.finally(() => this.inFlight.delete(answering));
          },
        }),
      );
    }
    // The subscriptions reach the server before the service says it is ready.
    await nc.flush();
    this.logger.log(`answering ${handlers.map((h) => h.contract.subject).join(', ')}`);
  }

  /**
   * Shutting down: no new command is taken (the subscriptions drain, so another instance in the
   * queue group gets them), and the ones under way are answered, before the connection closes.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.subscriptions.splice(0).map((sub) => sub.drain().catch(() => undefined)));
    await Promise.all([...this.inFlight]);
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
      if (failure instanceof RpcRefusal) {
        wire = { ok: false, error: failure.message };
      } else {
        const ref = crypto.randomUUID();
        // Not JSON at all, or a handler's own failure: the caller learns neither the bytes nor the cause.
        const what = failure instanceof SyntaxError ? 'the request is not JSON' : 'the command failed';
        this.logger.error(`${contract.subject}: ${what} (ref ${ref}): ${(failure as Error)?.message ?? String(failure)}`, (failure as Error)?.stack);
        wire = { ok: false, error: `${what}; see the service's log (ref ${ref})` };
      }
    }
    const encoded = new TextEncoder().encode(JSON.stringify(wire));
    // An answer larger than the server takes (NATS max_payload, 1 MB by default) would throw here:
    // the caller gets an error at once instead of waiting out its timeout, and the service lives on.
    const limit = this.nats.maxPayload();
    if (limit && encoded.length > limit) {
      this.logger.error(`${contract.subject}: the answer is ${encoded.length} bytes, over the NATS server's max_payload of ${limit}`);
      msg.respond(
        new TextEncoder().encode(
          JSON.stringify({
            ok: false,
            error: `the answer (${encoded.length} bytes) is larger than the NATS server takes (max_payload ${limit} bytes)`,
          } satisfies Wire),
        ),
      );
      return;
    }
    msg.respond(encoded);
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

  async call<Req extends z.ZodType, Rep extends z.ZodType>(
    rpc: RpcContract<Req, Rep>,
    request: z.input<Req>,
    timeoutMs = this.defaultTimeoutMs,
  ): Promise<z.output<Rep>> {
    const payload = readable(rpc.subject, 'request', rpc.request.safeParse(request));
    const reply = await rpcRequest(await this.nats.nc(), rpc.subject, payload, timeoutMs);
    return readable(rpc.subject, 'reply', rpc.reply.safeParse(reply));
  }
}
