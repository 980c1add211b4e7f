import { DynamicModule, Global, Module } from '@nestjs/common';
import { serviceModules } from '@bridgekeeper/platform';
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
        ...serviceModules(config, { entities: DIRECTORY_ENTITIES, migrations: DIRECTORY_MIGRATIONS }),
        UsersModule,
      ],
      providers: [{ provide: DIRECTORY_CONFIG, useValue: config }],
      exports: [DIRECTORY_CONFIG],
    };
  }
}
