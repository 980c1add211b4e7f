import { z } from 'zod';
import 'reflect-metadata';
import { readable, rpcContractOf, RpcHandler } from './rpc';

describe('readable (issue 26, F2): a contract violation as a run can show it', () => {
  const schema = z.object({ groups: z.array(z.string().max(3)), n: z.number() });

  it('names where and what, one clause per problem, never the values or a JSON dump', () => {
    const run = () => readable('rpc.directory.sync.apply', 'request', schema.safeParse({ groups: ['ok', 'secret-too-long'], n: 'x' }));
    expect(run).toThrow(
      /^invalid rpc\.directory\.sync\.apply request: groups\.1: Too big: expected string to have <=3 characters; n: Invalid input: expected number, received string$/,
    );
    expect(run).not.toThrow(/secret-too-long|\[|\{/);
  });

  it('gives back the parsed value', () => {
    expect(readable('s', 'reply', schema.safeParse({ groups: ['a'], n: 1 }))).toEqual({ groups: ['a'], n: 1 });
  });

  it('names at most five problems', () => {
    const many = z.array(z.number()).safeParse(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(() => readable('s', 'reply', many)).toThrow(/; and 2 more$/);
  });
});

describe('RpcHandler: a handler sees only requests its contract accepts', () => {
  const contract = {
    subject: 'rpc.test.echo',
    request: z.object({ n: z.number() }).strict(),
    reply: z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), n: z.number() }), z.object({ ok: z.literal(false), why: z.string() })]),
  };

  class Handlers {
    seen: unknown[] = [];
    @RpcHandler(contract, (why) => ({ ok: false as const, why }))
    echo(request: { n: number }) {
      this.seen.push(request);
      return { ok: true as const, n: request.n };
    }

    @RpcHandler(contract)
    strict(request: { n: number }) {
      return { ok: true as const, n: request.n };
    }
  }

  it('passes a valid request, parsed, to the method, and marks the method as serving the contract', async () => {
    const h = new Handlers();
    expect(await h.echo({ n: 2 } as never)).toEqual({ ok: true, n: 2 });
    expect(h.seen).toEqual([{ n: 2 }]);
    expect(rpcContractOf(Handlers.prototype.echo)).toBe(contract);
  });

  it('answers an invalid request with the contract answer given, or an error naming what is wrong; the method never runs', async () => {
    const h = new Handlers();
    expect(await h.echo({ n: 'x', extra: 1 } as never)).toEqual({ ok: false, why: expect.stringMatching(/^n: .*expected number/) });
    await expect(h.strict(null as never)).rejects.toThrow(/^invalid rpc\.test\.echo request: \(root\)/);
    expect(h.seen).toEqual([]);
  });
});
