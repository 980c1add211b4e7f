import { randomBytes } from 'node:crypto';
import { Body, Controller, Get, Inject, Logger, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RateLimited } from '@bridgekeeper/admin-api';
import { Public } from '@bridgekeeper/platform';
import { LoginError, publicRefusal } from '../login/login-error';
import { LoginErrorFilter } from '../login/login-error.filter';
import { autoPostPage, errorPage } from '../pages/pages';
import { bindingHash, browserBindingCookie, readBinding } from '../login/browser-binding';
import { SessionService } from '../sessions/session.service';
import { idpLookupFailure, RETRY_AFTER_S } from '../login/idp-lookup-failure';
import { SamlIdpRegistry } from './saml-idp.registry';
import { SamlLoginService } from './saml-login.service';
import { SamlLogoutService } from './saml-logout.service';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';

/** The form field marking the ACS's own re-post of an answer that came without the login cookie. */
const REPOSTED = 'bk_reposted';

@ApiExcludeController()
@UseFilters(LoginErrorFilter)
@Controller('saml/:idp')
export class SamlController {
  private readonly logger = new Logger(SamlController.name);

  constructor(
    private readonly idps: SamlIdpRegistry,
    private readonly logins: SamlLoginService,
    private readonly sessions: SessionService,
    private readonly logout: SamlLogoutService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** SP metadata, importable by Keycloak as it is (entity id, ACS, signing certificate). */
  @Public()
  @Get('metadata')
  async metadata(@Param('idp') idp: string, @Res() res: Response): Promise<void> {
    let xml;
    try {
      xml = await this.idps.spMetadata(idp);
    } catch (err) {
      // An IdP importing our metadata by URL is told to come back when auth cannot read it now,
      // not that it names no IdP here (which may make it drop the import).
      const failure = idpLookupFailure(idp, err, this.logger);
      if (failure.status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_S));
      return void res
        .status(failure.status)
        .type('html')
        .send(errorPage(publicRefusal(failure.code)));
    }
    res.type('application/samlmetadata+xml').send(xml);
  }

  /** Single logout, HTTP-Redirect binding: the IdP's LogoutRequest, or its answer to ours. */
  @Public()
  @RateLimited()
  @Get('slo')
  async sloRedirect(@Param('idp') idp: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.slo(idp, 'redirect', query, req, res);
  }

  /** Single logout, HTTP-POST binding. */
  @Public()
  @RateLimited()
  @Post('slo')
  async sloPost(@Param('idp') idp: string, @Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.slo(idp, 'post', body ?? {}, req, res);
  }

  private async slo(idp: string, binding: 'redirect' | 'post', params: Record<string, unknown>, req: Request, res: Response): Promise<void> {
    // Whose browser this is, read before the logout ends anything.
    const mine = await this.sessions.verify(req.cookies?.[this.config.session.cookie]);
    try {
      const { next, ended } = await this.logout.singleLogout(idp, binding, params, req.originalUrl.split('?')[1] ?? '');
      if (mine && ended.includes(mine.sid)) res.clearCookie(this.config.session.cookie, { ...this.sessions.cookieOptions(), maxAge: undefined });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, next);
    } catch (err) {
      if (err instanceof LoginError && err.code === 'logout_response_refused') {
        // "Signed out here" only to a browser that is: a refused answer ends no session. A
        // cross-site POST carries no session cookie (SameSite=Lax), so its browser is asked again
        // by a GET of our own, which brings the cookie along (attacker review: a forged POST
        // showed "signed out" to someone still signed in).
        if (binding === 'post' && !mine)
          return void res
            .setHeader('Cache-Control', 'no-store')
            .redirect(303, `/saml/${encodeURIComponent(idp)}/slo/refused${err.traceId ? `?trace=${encodeURIComponent(err.traceId)}` : ''}`);
        if (mine) throw new LoginError(err.status, 'logout_refused', { traceId: err.traceId, detail: err.message });
      }
      throw err;
    }
  }

  /** Where a refused POST LogoutResponse sends the browser: what it says depends on whether this browser still has a session. */
  @Public()
  @RateLimited()
  @Get('slo/refused')
  async sloRefused(@Query('trace') trace: unknown, @Req() req: Request): Promise<never> {
    const traceId = typeof trace === 'string' && /^[0-9a-f-]{36}$/i.test(trace) ? trace : undefined;
    const mine = await this.sessions.verify(req.cookies?.[this.config.session.cookie]);
    throw new LoginError(400, mine ? 'logout_refused' : 'logout_response_refused', { traceId });
  }

  /**
   * Assertion consumer service (HTTP-POST binding). The IdP's POST is cross-site: without secure
   * cookies (`SameSite=None` needs `Secure`) it arrives without the browser's login cookie, so it
   * is posted once more from our own page, same-site, which brings the cookie along
   * (login/browser-binding.ts). A second arrival without it is judged without it.
   */
  @Public()
  @RateLimited()
  @Post('acs')
  async acs(@Param('idp') idp: string, @Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const fields = body ?? {};
    const browser = readBinding(req.cookies?.[browserBindingCookie(this.config.session.secure, 0).name]);
    if (!browser && typeof fields.RelayState === 'string' && typeof fields.SAMLResponse === 'string' && fields[REPOSTED] === undefined) {
      return this.repost(idp, { SAMLResponse: fields.SAMLResponse, RelayState: fields.RelayState }, res);
    }
    const done = await this.logins.complete(idp, fields, browser && bindingHash(browser));
    res.cookie(this.config.session.cookie, done.sessionToken, this.sessions.cookieOptions());
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, done.returnTo);
  }

  /** The ACS's own page posting the IdP's answer back to the ACS, same-site (script by nonce; a button without JavaScript). */
  private repost(idp: string, fields: { SAMLResponse: string; RelayState: string }, res: Response): void {
    const nonce = randomBytes(16).toString('base64');
    const formTargets = ["'self'", ...this.config.allowedReturnOrigins].join(' ');
    res.setHeader('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; form-action ${formTargets}`);
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(200)
      .type('html')
      .send(autoPostPage(`/saml/${encodeURIComponent(idp)}/acs`, { ...fields, [REPOSTED]: '1' }, nonce));
  }
}
