import type { DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import type { MixedList } from 'typeorm';
import { databaseOptions } from '@bridgekeeper/data';
import { MessagingModule, MessagingOptions } from '@bridgekeeper/messaging';
import type { SharedConfig } from './config';
import { HealthModule } from './health.controller';
import { loggerParams } from './logging';
import { MetricsModule } from './metrics';
import { RoutesModule } from './route-table';

/** What every service imports: logs, its database (migrated), NATS, health, metrics and its route table. */
export function serviceModules(
  config: SharedConfig & { service: string },
  storage: { entities: MixedList<Function>; migrations: MixedList<Function> },
  messaging: Partial<MessagingOptions> = {},
): DynamicModule[] {
  return [
    LoggerModule.forRoot(loggerParams(config.service, config.log)),
    TypeOrmModule.forRootAsync({ useFactory: () => databaseOptions({ service: config.service, ...config.database, ...storage }) }),
    MessagingModule.forRootAsync({ useFactory: () => ({ ...messaging, servers: config.nats.url, service: config.service }) }),
    HealthModule.forRoot(),
    MetricsModule.forRoot(config.service, config.metrics.enabled),
    { module: RoutesModule },
  ];
}
