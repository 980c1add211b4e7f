import { Module } from '@nestjs/common';
import { IdpsController } from './idps.controller';
import { IdpsService } from './idps.service';

@Module({ controllers: [IdpsController], providers: [IdpsService], exports: [IdpsService] })
export class IdpsModule {}
