import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DirectoryClientModule } from '../directory-client/directory-client.module';
import { JitEvents } from './jit.events';
import { JitService } from './jit.service';
import { ProcessedEventsController } from './processed-events.controller';
import { ProcessedEventEntity } from './processed-event.entity';

@Module({
  imports: [TypeOrmModule.forFeature([ProcessedEventEntity]), DirectoryClientModule],
  controllers: [ProcessedEventsController],
  providers: [JitService, JitEvents],
  exports: [JitService],
})
export class JitModule {}
