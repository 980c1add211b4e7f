import { DynamicModule, ExecutionContext, Injectable, Module, Provider, SetMetadata, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule, ThrottlerRequest } from '@nestjs/throttler';
import { isPublicRoute } from '@bridgekeeper/platform';
import { AdminGuard } from './admin.guard';
import { RemoteTokenVerifier } from './remote-token-verifier';
import { TokenVerifier } from './token-verifier';

const RATE_LIMITED = 'bk:rate-limited';
/** The throttler of public routes that write on every call (`@RateLimited()`). */
const PUBLIC_WRITES = 'public-writes';

/**
 * Marks a public route that writes on every call (a login start leaves a login state and a trace;
 * an IdP's answer, refused or not, leaves a trace): limited per client address, all such routes
 * of a service sharing one budget, so nobody fills the database from outside.
 */
export const RateLimited = () => SetMetadata(RATE_LIMITED, true);

/**
 * Rate limits, decided the way the AdminGuard decides: by the route's marks, never by its path.
 * Every route that needs an admin token is limited per client address and route
 * (`rateLimitPerMinute`); a public route only when marked `@RateLimited()`, per client address
 * across all of them (`publicRateLimitPerMinute`); other public routes (health, metrics, the
 * session checks applications make on every request) are not limited here.
 */
@Injectable()
export class AdminThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    return ctx.getType() !== 'http';
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, throttler } = props;
    const isPublic = isPublicRoute(this.reflector, context.getHandler(), context.getClass());
    if (throttler.name !== PUBLIC_WRITES) return isPublic ? true : super.handleRequest(props);
    if (!isPublic || !this.reflector.getAllAndOverride<boolean>(RATE_LIMITED, [context.getHandler(), context.getClass()])) return true;
    return super.handleRequest({ ...props, generateKey: (_ctx, tracker, name) => `${name}:${tracker}` });
  }
}

export interface AdminApiOptions {
  /** Requests per minute per client address on the routes that need an admin token. */
  rateLimitPerMinute: number;
  /** Requests per minute per client address to the public routes marked `@RateLimited()` (all together); none when unset. */
  publicRateLimitPerMinute?: number;
  /** How tokens are checked: a class to build, or an existing provider (the directory's own service). */
  verifier: { useClass: Type<TokenVerifier> } | { useExisting: Type<TokenVerifier> };
  imports?: DynamicModule['imports'];
  providers?: Provider[];
}

@Module({})
export class AdminApiModule {
  /** For auth and provisioning: tokens are checked by the directory over NATS. */
  static viaDirectory(config: { nats: { url: string }; adminApi: { rateLimitPerMinute: number; publicRateLimitPerMinute?: number } }): DynamicModule {
    return AdminApiModule.forRoot({
      rateLimitPerMinute: config.adminApi.rateLimitPerMinute,
      publicRateLimitPerMinute: config.adminApi.publicRateLimitPerMinute,
      verifier: { useClass: RemoteTokenVerifier },
    });
  }

  static forRoot(options: AdminApiOptions): DynamicModule {
    return {
      module: AdminApiModule,
      global: true,
      imports: [
        ThrottlerModule.forRoot([
          { ttl: 60_000, limit: options.rateLimitPerMinute },
          { name: PUBLIC_WRITES, ttl: 60_000, limit: options.publicRateLimitPerMinute ?? Number.MAX_SAFE_INTEGER },
        ]),
        ...(options.imports ?? []),
      ],
      providers: [
        ...(options.providers ?? []),
        { provide: TokenVerifier, ...options.verifier },
        { provide: APP_GUARD, useClass: AdminThrottlerGuard },
        { provide: APP_GUARD, useClass: AdminGuard },
      ],
      exports: [TokenVerifier],
    };
  }
}
