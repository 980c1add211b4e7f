import { randomBytes } from 'node:crypto';
import { Controller, Get, Inject, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RateLimited } from '@bridgekeeper/admin-api';
import { Public } from '@bridgekeeper/platform';
import { autoPostPage, chooserPage } from '../pages/pages';
import { bindingHash, browserBindingCookie, newBinding, readBinding } from './browser-binding';
import { LoginErrorFilter } from './login-error.filter';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { SessionService } from '../sessions/session.service';
import { LoginFlowService } from './login-flow.service';
import { logoutStateCookie, logoutStateValue } from '../sessions/logout-state';
import { LogoutService } from './logout.service';

/** Remembers the IdP a browser used last, so the chooser offers it first. */
const LAST_IDP = 'bk_last_idp';

@ApiExcludeController()
@UseFilters(LoginErrorFilter)
@Controller()
export class LoginController {
  constructor(
    private readonly flow: LoginFlowService,
    private readonly logouts: LogoutService,
    private readonly sessions: SessionService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** Ends the session here and, when the IdP supports it, at the IdP too (single logout). */
  @Public()
  @Post('logout')
  async logout(@Query('returnTo') returnTo: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { next, oidcState } = await this.logouts.logout(req.cookies?.[this.config.session.cookie], returnTo);
    res.clearCookie(this.config.session.cookie, { ...this.sessions.cookieOptions(), maxAge: undefined });
    // The OIDC logout's state, bound to this browser: GET / follows its returnTo here only, once.
    if (oidcState) {
      const cookie = logoutStateCookie(this.config.session.secure);
      res.cookie(cookie.name, logoutStateValue(oidcState.state, oidcState.returnTo), cookie.options);
    }
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, next);
  }

  /** IdP chooser; `?idp=` picks one, one configured IdP means no chooser. */
  @Public()
  @RateLimited()
  @Get('login')
  async login(
    @Query('idp') idp: unknown,
    @Query('returnTo') returnTo: unknown,
    @Query('login_hint') loginHint: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    // The browser's binding (kept when it has one, so logins in several tabs all work): the login state holds its hash.
    const binding = browserBindingCookie(this.config.session.secure, this.config.saml.requestTtlMs);
    const browser = readBinding(req.cookies?.[binding.name]) ?? newBinding();
    const start = await this.flow.start(
      typeof idp === 'string' && idp ? idp : undefined,
      returnTo,
      bindingHash(browser),
      typeof loginHint === 'string' ? loginHint.slice(0, 320) : undefined,
      typeof req.cookies?.[LAST_IDP] === 'string' ? req.cookies[LAST_IDP] : undefined,
    );
    res.setHeader('Cache-Control', 'no-store');
    if (start.kind !== 'chooser') {
      res.cookie(binding.name, browser, binding.options);
      res.cookie(LAST_IDP, start.idp, { httpOnly: true, sameSite: 'lax', path: '/login', maxAge: 365 * 86_400_000 });
    }
    if (start.kind === 'redirect') return res.redirect(302, start.url);
    if (start.kind === 'post') {
      const nonce = randomBytes(16).toString('base64');
      res.setHeader(
        'Content-Security-Policy',
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; form-action ${new URL(start.action).origin}`,
      );
      return void res.type('html').send(autoPostPage(start.action, start.fields, nonce));
    }
    res.type('html').send(chooserPage(start.idps, start.returnTo, start.lastIdp, start.notice));
  }
}
