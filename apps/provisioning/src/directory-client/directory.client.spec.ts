import { z } from 'zod';
import { readable } from './directory.client';

describe('readable (issue 26, F2): a contract violation as a run can show it', () => {
  const schema = z.object({ groups: z.array(z.string().max(3)), n: z.number() });

  it('names where and what, one clause per problem, never the values or a JSON dump', () => {
    const run = () => readable('rpc.directory.sync.apply', 'request', schema.safeParse({ groups: ['ok', 'secret-too-long'], n: 'x' }));
    expect(run).toThrow(/^invalid rpc\.directory\.sync\.apply request: groups\.1: Too big: expected string to have <=3 characters; n: Invalid input: expected number, received string$/);
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
