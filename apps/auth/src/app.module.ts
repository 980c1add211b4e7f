import { DynamicModule, Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { MessagingModule } from '@bridgekeeper/messaging';
import { databaseOptions, HealthModule, loggerParams, MetricsModule } from '@bridgekeeper/platform';
import { AUTH_CONFIG, AuthConfig } from './config/auth.config';
import { AUTH_ENTITIES, AUTH_MIGRATIONS } from './database';
import { LoginModule } from './login/login.module';

@Global()
@Module({})
export class AppModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config.service, config.log)),
        TypeOrmModule.forRootAsync({
          useFactory: () => databaseOptions({ service: config.service, ...config.database, entities: AUTH_ENTITIES, migrations: AUTH_MIGRATIONS }),
        }),
        MessagingModule.forRootAsync({ useFactory: () => ({ servers: config.nats.url, service: config.service }) }),
        ScheduleModule.forRoot(),
        HealthModule.forRoot(),
        MetricsModule.forRoot(config.service, config.metrics.enabled),
        LoginModule,
      ],
      providers: [{ provide: AUTH_CONFIG, useValue: config }],
      exports: [AUTH_CONFIG],
    };
  }
}
