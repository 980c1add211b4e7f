import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { json } from 'express';
import { DirectoryClientModule } from '../directory-client/directory-client.module';
import { IdpLifecycleEvents } from './idp-lifecycle.events';
import { IdpSettingsController } from './idp-settings.controller';
import { IdpSettingsService } from './idp-settings.service';
import { KnownIdpsService } from './known-idps.service';

@Module({
  imports: [DirectoryClientModule],
  controllers: [IdpSettingsController],
  providers: [IdpSettingsService, KnownIdpsService, IdpLifecycleEvents],
  exports: [IdpSettingsService],
})
export class SettingsModule implements NestModule {
  /** PATCH takes application/merge-patch+json (RFC 7396) too; the shared parser reads application/json only. Same limit. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(json({ type: 'application/merge-patch+json', limit: '256kb' })).forRoutes({ path: 'api/v1/idps/:idp/provisioning', method: RequestMethod.PATCH });
  }
}
