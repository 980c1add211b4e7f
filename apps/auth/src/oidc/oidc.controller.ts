import { Body, Controller, Get, HttpCode, Inject, Param, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RateLimited } from '@bridgekeeper/admin-api';
import { Public } from '@bridgekeeper/platform';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { bindingHash, browserBindingCookie, readBinding } from '../login/browser-binding';
import { LoginErrorFilter } from '../login/login-error.filter';
import { SessionService } from '../sessions/session.service';
import { OidcLoginService } from './oidc-login.service';
import { OidcLogoutService } from './oidc-logout.service';
import { LogoutTokenRefusalFilter } from './logout-token-refusal.filter';

/** OpenID Connect endpoints the IdP calls: the login callback and back-channel logout. */
@ApiExcludeController()
@Controller('oidc/:idp')
export class OidcController {
  constructor(
    private readonly logins: OidcLoginService,
    private readonly logout: OidcLogoutService,
    private readonly sessions: SessionService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** The redirect back from the IdP (authorization code, state, iss). */
  @Public()
  @RateLimited()
  @Get('callback')
  @UseFilters(LoginErrorFilter)
  async callback(@Param('idp') idp: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const browser = readBinding(req.cookies?.[browserBindingCookie(this.config.session.secure, 0).name]);
    const done = await this.logins.complete(idp, req.query as Record<string, unknown>, req.originalUrl.split('?')[1] ?? '', browser && bindingHash(browser));
    res.cookie(this.config.session.cookie, done.sessionToken, this.sessions.cookieOptions());
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, done.returnTo);
  }

  /** OIDC Back-Channel Logout: Keycloak POSTs a signed logout token (form field `logout_token`). */
  @Public()
  @Post('backchannel-logout')
  @HttpCode(200)
  @UseFilters(LogoutTokenRefusalFilter)
  async backchannel(@Param('idp') idp: string, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    const ended = await this.logout.backchannelLogout(idp, body?.logout_token);
    res.status(200).json({ ended });
  }
}
