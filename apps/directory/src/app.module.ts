import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { MessagingModule } from '@bridgekeeper/messaging';
import { databaseOptions, HealthModule, loggerParams, MetricsModule } from '@bridgekeeper/platform';
import { DIRECTORY_CONFIG, DirectoryConfig } from './config/directory.config';
import { DIRECTORY_ENTITIES, DIRECTORY_MIGRATIONS } from './database';
import { UsersModule } from './users/users.module';

@Global()
@Module({})
export class AppModule {
  static forRoot(config: DirectoryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config.service, config.log)),
        TypeOrmModule.forRootAsync({
          useFactory: () => databaseOptions({ service: config.service, ...config.database, entities: DIRECTORY_ENTITIES, migrations: DIRECTORY_MIGRATIONS }),
        }),
        MessagingModule.forRootAsync({ useFactory: () => ({ servers: config.nats.url, service: config.service }) }),
        HealthModule.forRoot(),
        MetricsModule.forRoot(config.service, config.metrics.enabled),
        UsersModule,
      ],
      providers: [{ provide: DIRECTORY_CONFIG, useValue: config }],
      exports: [DIRECTORY_CONFIG],
    };
  }
}
