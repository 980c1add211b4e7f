import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { IdpsController } from './idps.controller';
import { IdpsRpc } from './idps.rpc';
import { IdpsService } from './idps.service';

@Module({ imports: [KeysModule], controllers: [IdpsController, IdpsRpc], providers: [IdpsService], exports: [IdpsService] })
export class IdpsModule {}
