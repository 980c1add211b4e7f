import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { KeysModule } from '../keys/keys.module';
import { SessionEntity, UserAccessEntity } from './session.entity';
import { SessionService } from './session.service';
import { SessionsController } from './sessions.controller';
import { OffboardingEvents } from './offboarding.events';
import { SessionsAdminController } from './sessions-admin.controller';

@Module({
  imports: [KeysModule, TypeOrmModule.forFeature([SessionEntity, UserAccessEntity])],
  controllers: [SessionsController, SessionsAdminController],
  providers: [SessionService, OffboardingEvents],
  exports: [SessionService],
})
export class SessionsModule {}
