import { DynamicModule, Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminApiModule, AuditController } from '@bridgekeeper/admin-api';
import { serviceModules } from '@bridgekeeper/platform';
import { AUTH_CONFIG, AuthConfig } from './config/auth.config';
import { AUTH_ENTITIES, AUTH_MIGRATIONS } from './database';
import { BreakGlassModule } from './break-glass/break-glass.module';
import { LoginModule } from './login/login.module';
import { OidcModule } from './oidc/oidc.module';
import { SamlModule } from './saml/saml.module';

@Global()
@Module({})
export class AppModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...serviceModules(config, { entities: AUTH_ENTITIES, migrations: AUTH_MIGRATIONS }),
        AdminApiModule.viaDirectory(config),
        ScheduleModule.forRoot(),
        LoginModule,
        SamlModule,
        OidcModule,
        BreakGlassModule,
      ],
      controllers: [AuditController],
      providers: [{ provide: AUTH_CONFIG, useValue: config }],
      exports: [AUTH_CONFIG],
    };
  }
}
