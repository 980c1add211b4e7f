import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { BreakGlassController } from './break-glass.controller';
import { BreakGlassService } from './break-glass.service';

@Module({ imports: [SessionsModule], controllers: [BreakGlassController], providers: [BreakGlassService] })
export class BreakGlassModule {}
