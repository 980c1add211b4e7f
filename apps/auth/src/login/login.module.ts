import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdpsModule } from '../idps/idps.module';
import { LoginTraceModule } from '../login-trace/login-trace.module';
import { OutcomeWaiter } from '../provisioning-outcome/outcome-waiter.service';
import { SessionsModule } from '../sessions/sessions.module';
import { HousekeepingService } from './housekeeping.service';
import { LoginFlowService } from './login-flow.service';
import { LoginProtocols } from './login-protocol';
import { LoginStateEntity } from './login-state.entity';
import { LoginStateStore } from './login-state.store';
import { LoginController } from './login.controller';
import { LogoutService } from './logout.service';
import { SamlAssertionEntity } from './replay.entity';
import { AssertionReplayStore } from './replay.store';
import { SignInService } from './sign-in.service';

/**
 * The protocol-independent part of login and logout: the chooser, the login state, the shared
 * tail (provisioning outcome, session, trace), our logout. saml/ and oidc/ import this module and
 * register their protocol in LoginProtocols; it imports neither.
 */
@Module({
  imports: [TypeOrmModule.forFeature([LoginStateEntity, SamlAssertionEntity]), IdpsModule, SessionsModule, LoginTraceModule],
  controllers: [LoginController],
  providers: [LoginFlowService, LoginProtocols, LoginStateStore, SignInService, AssertionReplayStore, LogoutService, OutcomeWaiter, HousekeepingService],
  exports: [LoginProtocols, LoginStateStore, SignInService, AssertionReplayStore],
})
export class LoginModule {}
