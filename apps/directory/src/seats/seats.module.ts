import { Global, Module } from '@nestjs/common';
import { SeatsController } from './seats.controller';
import { SeatsService } from './seats.service';

@Global()
@Module({ controllers: [SeatsController], providers: [SeatsService], exports: [SeatsService] })
export class SeatsModule {}
