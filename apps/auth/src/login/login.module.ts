import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginTraceModule } from '../login-trace/login-trace.module';
import { OutcomeWaiter } from '../provisioning-outcome/outcome-waiter.service';
import { OidcController } from '../oidc/oidc.controller';
import { OidcIdpRegistry } from '../oidc/oidc-idp.registry';
import { OidcLoginService } from '../oidc/oidc-login.service';
import { IdpsModule } from '../idps/idps.module';
import { SamlController } from '../saml/saml.controller';
import { SamlLoginService } from '../saml/saml-login.service';
import { SamlModule } from '../saml/saml.module';
import { SessionsModule } from '../sessions/sessions.module';
import { HousekeepingService } from './housekeeping.service';
import { LoginStateEntity } from './login-state.entity';
import { LoginFlowService } from './login-flow.service';
import { LoginProtocols } from './login-protocol';
import { LoginStateStore } from './login-state.store';
import { LoginController } from './login.controller';
import { LogoutService } from './logout.service';
import { SamlAssertionEntity } from './replay.entity';
import { AssertionReplayStore } from './replay.store';
import { SignInService } from './sign-in.service';

@Module({
  imports: [TypeOrmModule.forFeature([LoginStateEntity, SamlAssertionEntity]), SamlModule, IdpsModule, SessionsModule, LoginTraceModule],
  controllers: [LoginController, SamlController, OidcController],
  providers: [
    LoginFlowService,
    LoginProtocols,
    LoginStateStore,
    SignInService,
    AssertionReplayStore,
    SamlLoginService,
    OidcLoginService,
    LogoutService,
    OutcomeWaiter,
    HousekeepingService,
    OidcIdpRegistry,
  ],
})
export class LoginModule {}
