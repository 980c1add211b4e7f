import { Module } from '@nestjs/common';
import { DirectoryClientModule } from '../directory-client/directory-client.module';
import { IdpLifecycleEvents } from './idp-lifecycle.events';
import { IdpSettingsController } from './idp-settings.controller';
import { IdpSettingsService } from './idp-settings.service';
import { KnownIdpsService } from './known-idps.service';
import { MappingPresetsController } from './mapping-presets.controller';

/** PATCH takes application/merge-patch+json (RFC 7396) beside application/json: the shared JSON parser reads both, and `@Consumes` on the route lets it in. */
@Module({
  imports: [DirectoryClientModule],
  controllers: [IdpSettingsController, MappingPresetsController],
  providers: [IdpSettingsService, KnownIdpsService, IdpLifecycleEvents],
  exports: [IdpSettingsService, KnownIdpsService],
})
export class SettingsModule {}
