import { DynamicModule, ExecutionContext, Injectable, Module, Provider, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { AdminGuard, isPublicRoute } from './admin.guard';
import { ADMIN_TOKEN_NATS_URL, RemoteTokenVerifier } from './remote-token-verifier';
import { TokenVerifier } from './token-verifier';

/**
 * Rate limiting for every route that needs an admin token, known the way the AdminGuard knows it:
 * by the route's Public mark, never by its path. Public routes (login, health) are not limited here.
 */
@Injectable()
export class AdminThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    return ctx.getType() !== 'http' || isPublicRoute(this.reflector, ctx.getHandler(), ctx.getClass());
  }
}

export interface AdminApiOptions {
  /** Requests per minute per client address on the routes that need an admin token. */
  rateLimitPerMinute: number;
  /** How tokens are checked: a class to build, or an existing provider (the directory's own service). */
  verifier: { useClass: Type<TokenVerifier> } | { useExisting: Type<TokenVerifier> };
  imports?: DynamicModule['imports'];
  providers?: Provider[];
}

@Module({})
export class AdminApiModule {
  /** For auth and provisioning: tokens are checked by the directory over NATS. */
  static viaDirectory(config: { nats: { url: string }; adminApi: { rateLimitPerMinute: number } }): DynamicModule {
    return AdminApiModule.forRoot({
      rateLimitPerMinute: config.adminApi.rateLimitPerMinute,
      verifier: { useClass: RemoteTokenVerifier },
      providers: [{ provide: ADMIN_TOKEN_NATS_URL, useValue: config.nats.url }],
    });
  }

  static forRoot(options: AdminApiOptions): DynamicModule {
    return {
      module: AdminApiModule,
      global: true,
      imports: [ThrottlerModule.forRoot([{ ttl: 60_000, limit: options.rateLimitPerMinute }]), ...(options.imports ?? [])],
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
