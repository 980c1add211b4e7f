import { Controller, ExecutionContext, ForbiddenException, Get, Post, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AdminThrottlerGuard } from './admin-api.module';
import { AdminGuard, AdminOnly, Public } from './admin.guard';
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
    await expect(guard.canActivate(http(ThingsController, things.secrets, 'GET', '/api/v1/things/secrets', 'reader-token'))).rejects.toBeInstanceOf(ForbiddenException);
    await expect(guard.canActivate(http(ThingsController, things.secrets, 'GET', '/api/v1/things/secrets', 'admin-token'))).resolves.toBe(true);
    await expect(guard.canActivate(http(ThingsController, things.create, 'POST', '/api/v1/things', 'admin-token'))).resolves.toBe(true);
  });

  it('leaves NATS handlers alone (not HTTP)', async () => {
    await expect(guard.canActivate({ getType: () => 'rpc' } as unknown as ExecutionContext)).resolves.toBe(true);
  });
});

describe('AdminThrottlerGuard: limits every route that needs a token, by the same mark', () => {
  class Exposed extends AdminThrottlerGuard {
    skips(ctx: ExecutionContext) {
      return this.shouldSkip(ctx);
    }
  }
  const throttler = new Exposed([{ ttl: 60_000, limit: 10 }], new ThrottlerStorageService(), new Reflector());

  it('counts non-public routes whatever their path, and skips public ones and NATS', async () => {
    const things = ThingsController.prototype;
    for (const url of ['/api/v1/things', '/API/v1/things', '/anything/else']) await expect(throttler.skips(http(ThingsController, things.list, 'GET', url))).resolves.toBe(false);
    await expect(throttler.skips(http(ThingsController, things.open, 'GET', '/api/v1/things/open'))).resolves.toBe(true);
    await expect(throttler.skips(http(ProbeController, ProbeController.prototype.probe, 'GET', '/probe'))).resolves.toBe(true);
    await expect(throttler.skips({ getType: () => 'rpc' } as unknown as ExecutionContext)).resolves.toBe(true);
  });
});
