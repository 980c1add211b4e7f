import { DynamicModule, Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminApiModule, AuditController } from '@bridgekeeper/admin-api';
import { serviceModules } from '@bridgekeeper/platform';
import { PROVISIONING_CONFIG, ProvisioningConfig } from './config/provisioning.config';
import { PROVISIONING_ENTITIES, PROVISIONING_MIGRATIONS } from './database';
import { LoginsModule } from './logins/logins.module';

@Global()
@Module({})
export class AppModule {
  static forRoot(config: ProvisioningConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...serviceModules(config, { entities: PROVISIONING_ENTITIES, migrations: PROVISIONING_MIGRATIONS }, { maxDeliver: config.events.maxDeliver }),
        AdminApiModule.viaDirectory(config),
        ScheduleModule.forRoot(),
        LoginsModule,
      ],
      controllers: [AuditController],
      providers: [{ provide: PROVISIONING_CONFIG, useValue: config }],
      exports: [PROVISIONING_CONFIG],
    };
  }
}
