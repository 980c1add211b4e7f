import { Module } from '@nestjs/common';
import { IdpsModule } from '../idps/idps.module';
import { LoginTraceModule } from '../login-trace/login-trace.module';
import { LoginModule } from '../login/login.module';
import { SessionsModule } from '../sessions/sessions.module';
import { OidcIdpRegistry } from './oidc-idp.registry';
import { OidcLoginService } from './oidc-login.service';
import { OidcLogoutService } from './oidc-logout.service';
import { OidcController } from './oidc.controller';

/** OpenID Connect: the endpoints (callback, back-channel logout), the login and logout, the relying party per IdP. */
@Module({
  imports: [IdpsModule, SessionsModule, LoginTraceModule, LoginModule],
  controllers: [OidcController],
  providers: [OidcIdpRegistry, OidcLoginService, OidcLogoutService],
})
export class OidcModule {}
