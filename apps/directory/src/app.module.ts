import { DynamicModule, Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminApiModule } from '@bridgekeeper/admin-api';
import { serviceModules } from '@bridgekeeper/platform';
import { AuditModule } from './audit/audit.module';
import { DIRECTORY_CONFIG, DirectoryConfig } from './config/directory.config';
import { DIRECTORY_ENTITIES, DIRECTORY_MIGRATIONS } from './database';
import { GroupsModule } from './groups/groups.module';
import { SeatsModule } from './seats/seats.module';
import { StoreModule } from './store/store.module';
import { TokensModule } from './tokens/tokens.module';
import { TokensService } from './tokens/tokens.service';
import { SyncModule } from './sync/sync.module';
import { UsersModule } from './users/users.module';

@Global()
@Module({})
export class AppModule {
  static forRoot(config: DirectoryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...serviceModules(config, { entities: DIRECTORY_ENTITIES, migrations: DIRECTORY_MIGRATIONS }),
        ScheduleModule.forRoot(),
        AdminApiModule.forRoot({ rateLimitPerMinute: config.adminApi.rateLimitPerMinute, verifier: { useExisting: TokensService }, imports: [TokensModule] }),
        AuditModule,
        SeatsModule,
        StoreModule,
        TokensModule,
        UsersModule,
        GroupsModule,
        SyncModule,
      ],
      providers: [{ provide: DIRECTORY_CONFIG, useValue: config }],
      exports: [DIRECTORY_CONFIG],
    };
  }
}
