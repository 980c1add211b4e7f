import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginTraceEntity, LoginTraceStepEntity } from './login-trace.entity';
import { LoginTraceService } from './login-trace.service';
import { LoginTracesController } from './login-traces.controller';
import { LoginTracesRpc } from './login-traces.rpc';

@Module({
  imports: [TypeOrmModule.forFeature([LoginTraceEntity, LoginTraceStepEntity])],
  controllers: [LoginTracesController, LoginTracesRpc],
  providers: [LoginTraceService],
  exports: [LoginTraceService],
})
export class LoginTraceModule {}
