import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { IdpsController } from './idps.controller';
import { IdpsRpc } from './idps.rpc';
import { IdpRefreshService } from './idp-refresh.service';
import { IdpViewsService } from './idp-views.service';
import { IdpsService } from './idps.service';

@Module({
  imports: [KeysModule],
  controllers: [IdpsController, IdpsRpc],
  providers: [IdpsService, IdpRefreshService, IdpViewsService],
  exports: [IdpsService, IdpRefreshService],
})
export class IdpsModule {}
