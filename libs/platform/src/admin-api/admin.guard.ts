import { CanActivate, ExecutionContext, ForbiddenException, Injectable, SetMetadata, UnauthorizedException, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AdminPrincipal, bearer } from './admin-token';
import { TokenVerifier } from './token-verifier';

export const ADMIN_API_PREFIX = '/api/v1';
const ADMIN_ONLY = 'bk:admin-only';

/** Reads that only the `admin` role may make (token lists, secrets metadata). */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

type AdminRequest = Request & { principal?: AdminPrincipal };

/**
 * Every `/api/v1` call needs `Authorization: Bearer <token>`: 401 without a valid one. The
 * `read-only` role may read (GET/HEAD); every change, and routes marked AdminOnly, need
 * `admin` (403 otherwise). Other routes (health, metrics, login) are not admin API.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<AdminRequest>();
    const path = (req.originalUrl ?? req.url).split('?')[0];
    if (path !== ADMIN_API_PREFIX && !path.startsWith(`${ADMIN_API_PREFIX}/`)) return true;
    const token = bearer(req.headers.authorization);
    if (!token) throw new UnauthorizedException('an admin API token is required (Authorization: Bearer <token>)');
    const principal = await this.verifier.verify(token);
    if (!principal) throw new UnauthorizedException('the admin API token is unknown, malformed or revoked');
    req.principal = principal;
    const reading = req.method === 'GET' || req.method === 'HEAD';
    const adminOnly = this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [ctx.getHandler(), ctx.getClass()]);
    if (principal.role !== 'admin' && (!reading || adminOnly)) {
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
