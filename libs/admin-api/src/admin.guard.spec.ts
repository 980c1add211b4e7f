import { Controller, ExecutionContext, ForbiddenException, Get, Post, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { getOptionsToken, ThrottlerException, ThrottlerStorage } from '@nestjs/throttler';
import { AdminOnly, Public } from '@bridgekeeper/platform';
import { AdminApiModule, AdminThrottlerGuard, RateLimited } from './admin-api.module';
import { AdminGuard } from './admin.guard';
import { AdminPrincipal } from './admin-token';
import { TokenVerifier } from './token-verifier';

@Controller('api/v1/things')
class ThingsController {
  @Get()
  list() {}

  @Post()
  create() {}

  @Get('secrets')
  @AdminOnly()
  secrets() {}

  @Public()
  @Get('open')
  open() {}
}

@Public()
@Controller('probe')
class ProbeController {
  @Get()
  probe() {}
}

/** Tokens as the directory would answer: `admin-token`, `reader-token`, nothing else. */
class StaticVerifier extends TokenVerifier {
  async verify(token: string): Promise<AdminPrincipal | null> {
    if (token === 'admin-token') return { tokenId: 'a', name: 'admin', role: 'admin' };
    if (token === 'reader-token') return { tokenId: 'r', name: 'reader', role: 'read-only' };
    return null;
  }
}

/** What Nest hands a guard once it has resolved the handler; the path is whatever the client spelled. */
function http(controller: Function, handler: Function, method: string, url: string, token?: string): ExecutionContext {
  const req = { method, url, originalUrl: url, headers: token ? { authorization: `Bearer ${token}` } : {} };
  return {
    getType: () => 'http',
    getHandler: () => handler,
    getClass: () => controller,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}), getNext: () => undefined }),
  } as unknown as ExecutionContext;
}

describe('AdminGuard: deny by default, by what the route is', () => {
  const guard = new AdminGuard(new StaticVerifier(), new Reflector());
  const things = ThingsController.prototype;

  it('lets a request through without a token only to a handler or controller marked Public', async () => {
    await expect(guard.canActivate(http(ThingsController, things.open, 'GET', '/api/v1/things/open'))).resolves.toBe(true);
    await expect(guard.canActivate(http(ProbeController, ProbeController.prototype.probe, 'GET', '/probe'))).resolves.toBe(true);
  });

  it('asks every other route for a token, however its path was spelled', async () => {
    for (const url of ['/api/v1/things', '/API/v1/things', '/api/v1/things/', '/%61pi/v1/things', '/anything/else']) {
      await expect(guard.canActivate(http(ThingsController, things.list, 'GET', url))).rejects.toBeInstanceOf(UnauthorizedException);
      await expect(guard.canActivate(http(ThingsController, things.list, 'GET', url, 'bk_unknown'))).rejects.toBeInstanceOf(UnauthorizedException);
    }
  });

  it('lets read-only tokens read, but not write nor read what is AdminOnly', async () => {
    await expect(guard.canActivate(http(ThingsController, things.list, 'GET', '/api/v1/things', 'reader-token'))).resolves.toBe(true);
    await expect(guard.canActivate(http(ThingsController, things.list, 'HEAD', '/api/v1/things', 'reader-token'))).resolves.toBe(true);
    await expect(guard.canActivate(http(ThingsController, things.create, 'POST', '/api/v1/things', 'reader-token'))).rejects.toBeInstanceOf(ForbiddenException);
    await expect(guard.canActivate(http(ThingsController, things.secrets, 'GET', '/api/v1/things/secrets', 'reader-token'))).rejects.toBeInstanceOf(
      ForbiddenException,
    );
    await expect(guard.canActivate(http(ThingsController, things.secrets, 'GET', '/api/v1/things/secrets', 'admin-token'))).resolves.toBe(true);
    await expect(guard.canActivate(http(ThingsController, things.create, 'POST', '/api/v1/things', 'admin-token'))).resolves.toBe(true);
  });

  it('leaves NATS handlers alone (not HTTP)', async () => {
    const rpc = { getType: () => 'rpc', getHandler: () => ProbeController.prototype.probe, getClass: () => ProbeController } as unknown as ExecutionContext;
    await expect(guard.canActivate(rpc)).resolves.toBe(true);
  });
});

describe('AdminThrottlerGuard: limits by the same marks', () => {
  @Controller('auth')
  class LoginController {
    @Public()
    @RateLimited()
    @Get('login')
    login() {}

    @Public()
    @RateLimited()
    @Post('acs')
    acs() {}
  }

  /** A request as the throttler reads it (client address, response headers). */
  const call = (guard: AdminThrottlerGuard, controller: Function, handler: Function, method: string, url: string, ip = '192.0.2.1') => {
    const req = { method, url, originalUrl: url, headers: {}, ip };
    const ctx = {
      getType: () => 'http',
      getHandler: () => handler,
      getClass: () => controller,
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({ header: () => undefined, setHeader: () => undefined }), getNext: () => undefined }),
    } as unknown as ExecutionContext;
    return guard.canActivate(ctx).then(
      () => 'ok',
      (err: Error) => (err instanceof ThrottlerException ? 429 : err),
    );
  };

  async function guardWith(admin: number, publicWrites: number) {
    const module = await Test.createTestingModule({
      imports: [AdminApiModule.forRoot({ rateLimitPerMinute: admin, publicRateLimitPerMinute: publicWrites, verifier: { useClass: StaticVerifier } })],
    }).compile();
    const guard = new AdminThrottlerGuard(module.get(getOptionsToken()), module.get(ThrottlerStorage), new Reflector());
    await guard.onModuleInit();
    return guard;
  }

  it('counts every route that needs a token, whatever its path, per route and address', async () => {
    const guard = await guardWith(2, 100);
    const things = ThingsController.prototype;
    const seen = [];
    for (const url of ['/api/v1/things', '/API/v1/things', '/anything/else']) seen.push(await call(guard, ThingsController, things.list, 'GET', url));
    expect(seen).toEqual(['ok', 'ok', 429]);
    expect(await call(guard, ThingsController, things.create, 'POST', '/api/v1/things')).toBe('ok');
    expect(await call(guard, ThingsController, things.list, 'GET', '/api/v1/things', '192.0.2.2')).toBe('ok');
  });

  it('counts the public routes marked RateLimited together, per address; leaves other public routes and NATS alone', async () => {
    const guard = await guardWith(100, 3);
    const login = LoginController.prototype;
    const seen = [];
    for (const [handler, url] of [
      [login.login, '/auth/login'],
      [login.acs, '/auth/acs'],
      [login.login, '/auth/login'],
      [login.acs, '/auth/acs'],
    ] as const)
      seen.push(await call(guard, LoginController, handler, 'GET', url));
    expect(seen).toEqual(['ok', 'ok', 'ok', 429]);
    expect(await call(guard, LoginController, login.login, 'GET', '/auth/login', '192.0.2.9')).toBe('ok');
    for (let i = 0; i < 10; i++) {
      expect(await call(guard, ThingsController, ThingsController.prototype.open, 'GET', '/api/v1/things/open')).toBe('ok');
      expect(await call(guard, ProbeController, ProbeController.prototype.probe, 'GET', '/probe')).toBe('ok');
    }
    const rpc = { getType: () => 'rpc', getHandler: () => ProbeController.prototype.probe, getClass: () => ProbeController } as unknown as ExecutionContext;
    await expect(guard.canActivate(rpc)).resolves.toBe(true);
  });
});
