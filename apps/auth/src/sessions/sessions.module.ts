import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { KeysModule } from '../keys/keys.module';
import { SessionEntity } from './session.entity';
import { SessionService } from './session.service';
import { SessionsController } from './sessions.controller';

@Module({ imports: [KeysModule, TypeOrmModule.forFeature([SessionEntity])], controllers: [SessionsController], providers: [SessionService], exports: [SessionService] })
export class SessionsModule {}
