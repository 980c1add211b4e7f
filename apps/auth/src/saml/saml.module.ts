import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SamlValidationPool } from '@bridgekeeper/saml';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { IdpsModule } from '../idps/idps.module';
import { KeysModule } from '../keys/keys.module';
import { LoginTraceModule } from '../login-trace/login-trace.module';
import { LoginModule } from '../login/login.module';
import { SessionsModule } from '../sessions/sessions.module';
import { SamlHousekeepingService } from './saml-housekeeping.service';
import { SamlIdpRegistry } from './saml-idp.registry';
import { SamlLoginService } from './saml-login.service';
import { SamlLogoutService } from './saml-logout.service';
import { SamlRequestEntity } from './saml-request.entity';
import { SamlRequestStore } from './saml-stores.service';
import { SamlController } from './saml.controller';

/** SAML: the endpoints (metadata, ACS, SLO), the login and logout, the service provider per IdP and its stores. */
@Module({
  imports: [TypeOrmModule.forFeature([SamlRequestEntity]), KeysModule, IdpsModule, SessionsModule, LoginTraceModule, LoginModule],
  controllers: [SamlController],
  providers: [
    SamlIdpRegistry,
    SamlRequestStore,
    SamlLoginService,
    SamlLogoutService,
    SamlHousekeepingService,
    { provide: SamlValidationPool, inject: [AUTH_CONFIG], useFactory: (config: AuthConfig) => new SamlValidationPool(config.saml.validationThreads) },
  ],
})
export class SamlModule {}
