import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { MessagingModule } from '@bridgekeeper/messaging';
import { databaseOptions, HealthModule, loggerParams, MetricsModule } from '@bridgekeeper/platform';
import { PROVISIONING_CONFIG, ProvisioningConfig } from './config/provisioning.config';
import { PROVISIONING_ENTITIES, PROVISIONING_MIGRATIONS } from './database';
import { JitModule } from './jit/jit.module';

@Global()
@Module({})
export class AppModule {
  static forRoot(config: ProvisioningConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config.service, config.log)),
        TypeOrmModule.forRootAsync({
          useFactory: () => databaseOptions({ service: config.service, ...config.database, entities: PROVISIONING_ENTITIES, migrations: PROVISIONING_MIGRATIONS }),
        }),
        MessagingModule.forRootAsync({ useFactory: () => ({ servers: config.nats.url, service: config.service, maxDeliver: config.events.maxDeliver }) }),
        HealthModule.forRoot(),
        MetricsModule.forRoot(config.service, config.metrics.enabled),
        JitModule,
      ],
      providers: [{ provide: PROVISIONING_CONFIG, useValue: config }],
      exports: [PROVISIONING_CONFIG],
    };
  }
}
