import { Module } from '@nestjs/common';
import { DirectoryClientModule } from '../directory-client/directory-client.module';
import { IdpSettingsController } from './idp-settings.controller';
import { IdpSettingsService } from './idp-settings.service';

@Module({ imports: [DirectoryClientModule], controllers: [IdpSettingsController], providers: [IdpSettingsService], exports: [IdpSettingsService] })
export class SettingsModule {}
