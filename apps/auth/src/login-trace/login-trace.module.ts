import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginTraceEntity } from './login-trace.entity';
import { LoginTraceService } from './login-trace.service';

@Module({ imports: [TypeOrmModule.forFeature([LoginTraceEntity])], providers: [LoginTraceService], exports: [LoginTraceService] })
export class LoginTraceModule {}
