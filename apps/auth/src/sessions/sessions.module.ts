import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { SessionService } from './session.service';
import { SessionsController } from './sessions.controller';

@Module({ imports: [KeysModule], controllers: [SessionsController], providers: [SessionService], exports: [SessionService] })
export class SessionsModule {}
