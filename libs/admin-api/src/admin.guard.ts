import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { isAdminOnlyRoute, isPublicRoute } from '@bridgekeeper/platform';
import { AdminPrincipal, bearer } from './admin-token';
import { TokenVerifier } from './token-verifier';

type AdminRequest = Request & { principal?: AdminPrincipal };

/**
 * Deny by default, decided where Nest has resolved the handler: a route not marked Public needs
 * `Authorization: Bearer <token>` (401 without a valid one). The `read-only` role may read
 * (GET/HEAD); every change, and routes marked AdminOnly, need `admin` (403 otherwise). NATS
 * handlers are not HTTP: their callers are other services on the message bus.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    if (isPublicRoute(this.reflector, ctx.getHandler(), ctx.getClass())) return true;
    const req = ctx.switchToHttp().getRequest<AdminRequest>();
    const token = bearer(req.headers.authorization);
    if (!token) throw new UnauthorizedException('an admin API token is required (Authorization: Bearer <token>)');
    const principal = await this.verifier.verify(token);
    if (!principal) throw new UnauthorizedException('the admin API token is unknown, malformed or revoked');
    req.principal = principal;
    const reading = req.method === 'GET' || req.method === 'HEAD';
    if (principal.role !== 'admin' && (!reading || isAdminOnlyRoute(this.reflector, ctx.getHandler(), ctx.getClass()))) {
      throw new ForbiddenException(`the token '${principal.name}' is read-only`);
    }
    return true;
  }
}

/** The audit actor of an admin call: `admin-token:<id>`. */
export const Actor = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const principal = ctx.switchToHttp().getRequest<AdminRequest>().principal;
  if (!principal) throw new UnauthorizedException('not an authenticated admin call');
  return `admin-token:${principal.tokenId}`;
});
