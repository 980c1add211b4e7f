import { DynamicModule, ExecutionContext, Injectable, Module, Provider, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { Request } from 'express';
import { ADMIN_API_PREFIX, AdminGuard } from './admin.guard';
import { ADMIN_TOKEN_NATS_URL, RemoteTokenVerifier } from './remote-token-verifier';
import { TokenVerifier } from './token-verifier';

/** Rate limiting for the admin API only (login and health have their own rules). */
@Injectable()
export class AdminThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true;
    const path = (ctx.switchToHttp().getRequest<Request>().originalUrl ?? '').split('?')[0];
    return !path.startsWith(ADMIN_API_PREFIX);
  }
}

export interface AdminApiOptions {
  /** Requests per minute per client address on /api/v1. */
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
