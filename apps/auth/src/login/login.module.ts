import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginTraceModule } from '../login-trace/login-trace.module';
import { OutcomeWaiter } from '../provisioning-outcome/outcome-waiter.service';
import { OidcController } from '../oidc/oidc.controller';
import { OidcIdpRegistry } from '../oidc/oidc-idp.registry';
import { IdpsModule } from '../idps/idps.module';
import { SamlController } from '../saml/saml.controller';
import { SamlModule } from '../saml/saml.module';
import { SessionsModule } from '../sessions/sessions.module';
import { HousekeepingService } from './housekeeping.service';
import { LoginStateEntity } from './login-state.entity';
import { LoginFlowService } from './login-flow.service';
import { LoginController } from './login.controller';
import { LogoutService } from './logout.service';

@Module({
  imports: [TypeOrmModule.forFeature([LoginStateEntity]), SamlModule, IdpsModule, SessionsModule, LoginTraceModule],
  controllers: [LoginController, SamlController, OidcController],
  providers: [LoginFlowService, LogoutService, OutcomeWaiter, HousekeepingService, OidcIdpRegistry],
})
export class LoginModule {}
