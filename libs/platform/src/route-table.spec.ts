import { NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { ProblemFilter } from './problem.filter';
import { RouteMatcher } from './route-table';

const routes = new RouteMatcher([
  { method: 'GET', path: '/api/v1/users' },
  { method: 'POST', path: '/api/v1/users' },
  { method: 'GET', path: '/api/v1/users/:id' },
  { method: 'DELETE', path: '/api/v1/users/:id' },
  { method: 'POST', path: '/api/v1/users/bulk' },
  { method: 'GET', path: '/' },
  { method: 'GET', path: '/api/docs/*file' },
]);

describe('RouteMatcher: the methods a path is served for, matched as the router matches', () => {
  it('unites every route pattern the path matches, with HEAD wherever GET is', () => {
    expect(routes.allowed('/api/v1/users')).toEqual(['GET', 'HEAD', 'POST']);
    expect(routes.allowed('/api/v1/users/42')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(routes.allowed('/api/v1/users/bulk')).toEqual(['DELETE', 'GET', 'HEAD', 'POST']);
    expect(routes.allowed('/')).toEqual(['GET', 'HEAD']);
    expect(routes.allowed('/api/docs/swagger-ui.css')).toEqual(['GET', 'HEAD']);
  });

  it('is case-sensitive and strict: another spelling is another path, which has no routes', () => {
    for (const path of [
      '/API/v1/users',
      '/api/v1/Users',
      '/api/v1/users/',
      '/api//v1/users',
      '/%61pi/v1/users',
      '/api/v1/users;x=1',
      '/api/v1/users/42/',
      '/nothing',
    ]) {
      expect([path, routes.allowed(path)]).toEqual([path, []]);
    }
  });
});

describe('ProblemFilter: 405 for a path served for other methods', () => {
  function host(method: string, path: string) {
    const res = { statusCode: 0, headers: {} as Record<string, string>, body: undefined as any };
    const chain = {
      status: (s: number) => ((res.statusCode = s), chain),
      type: () => chain,
      json: (b: unknown) => ((res.body = b), chain),
    };
    const response = { ...chain, setHeader: (k: string, v: string) => (res.headers[k.toLowerCase()] = v) };
    const h = {
      getType: () => 'http',
      switchToHttp: () => ({ getRequest: () => ({ method, path }), getResponse: () => response }),
    } as unknown as ArgumentsHost;
    return { h, res };
  }
  const filter = new ProblemFilter(routes);

  it('answers 405 with Allow when no route took the request but the path has routes (OPTIONS too)', () => {
    for (const method of ['PUT', 'OPTIONS', 'PATCH']) {
      const { h, res } = host(method, '/api/v1/users');
      filter.catch(new NotFoundException(`Cannot ${method} /api/v1/users`), h);
      expect(res).toMatchObject({ statusCode: 405, headers: { allow: 'GET, HEAD, POST' }, body: { status: 405, title: 'method not allowed' } });
    }
  });

  it('keeps 404 for a path without routes, and for a handler that found nothing', () => {
    const unknown = host('OPTIONS', '/nothing');
    filter.catch(new NotFoundException('Cannot OPTIONS /nothing'), unknown.h);
    expect(unknown.res).toMatchObject({ statusCode: 404, headers: {} });
    const missing = host('GET', '/api/v1/users/42');
    filter.catch(new NotFoundException('no user 42'), missing.h);
    expect(missing.res).toMatchObject({ statusCode: 404, body: { detail: 'no user 42' } });
  });

  it('leaves other errors as they are', () => {
    const { h, res } = host('PUT', '/api/v1/users');
    filter.catch(new UnauthorizedException('token required'), h);
    expect(res).toMatchObject({ statusCode: 401, headers: {} });
  });
});
