import { MessagePattern, Payload, ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { z } from 'zod';

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

type Handler<Req extends z.ZodType, Rep extends z.ZodType> = (request: z.output<Req>) => Promise<z.input<Rep>> | z.input<Rep>;

/**
 * Serves a contract's command (queue group: the service's): the payload is checked against the
 * contract's request schema before the method sees it, typed. An invalid request gets
 * `invalid(why)` as its reply where the contract has such an answer (`{ found: false }`, an
 * `invalid_request` error), else the caller gets an error naming what is wrong.
 */
export function RpcHandler<Req extends z.ZodType, Rep extends z.ZodType>(contract: RpcContract<Req, Rep>, invalid?: (why: string) => NoInfer<z.input<Rep>>) {
  // Only `value` (no `set`): a method whose answer is narrower than the contract's reply fits.
  return (target: object, key: string | symbol, descriptor: { value?: NoInfer<Handler<Req, Rep>> }): void => {
    const handle = descriptor.value!;
    const checked = async function (this: unknown, payload: unknown) {
      const parsed = contract.request.safeParse(payload);
      if (parsed.success) return handle.call(this, parsed.data);
      if (invalid) return invalid(issuesLine(parsed.error));
      throw new Error(`invalid ${contract.subject} request: ${issuesLine(parsed.error)}`);
    };
    descriptor.value = checked as unknown as Handler<Req, Rep>;
    MessagePattern(contract.subject)(target, key, descriptor);
    Payload()(target, key, 0);
  };
}

/** Sends contracts' commands over a Nest NATS client, checking the request on the way out and the reply on the way back. */
export class RpcClient {
  constructor(
    private readonly client: Pick<ClientProxy, 'send' | 'close'>,
    private readonly defaultTimeoutMs: number,
  ) {}

  async call<Req extends z.ZodType, Rep extends z.ZodType>(rpc: RpcContract<Req, Rep>, request: z.input<Req>, timeoutMs = this.defaultTimeoutMs): Promise<z.output<Rep>> {
    const payload = readable(rpc.subject, 'request', rpc.request.safeParse(request));
    const reply = await firstValueFrom(this.client.send(rpc.subject, payload).pipe(timeout(timeoutMs)));
    return readable(rpc.subject, 'reply', rpc.reply.safeParse(reply));
  }

  close(): Promise<void> {
    return this.client.close() as Promise<void>;
  }
}
