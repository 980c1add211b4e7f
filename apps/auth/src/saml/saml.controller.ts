import { Body, Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '@bridgekeeper/platform';
import { LoginFlowService } from '../login/login-flow.service';
import { LogoutService } from '../login/logout.service';
import { sendLoginError } from '../login/login.controller';
import { errorPage } from '../pages/pages';
import { SessionService } from '../sessions/session.service';
import { SamlIdpRegistry, UnknownIdpError } from './saml-idp.registry';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';

@ApiExcludeController()
@Controller('saml/:idp')
export class SamlController {
  constructor(
    private readonly idps: SamlIdpRegistry,
    private readonly flow: LoginFlowService,
    private readonly sessions: SessionService,
    private readonly logout: LogoutService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** SP metadata, importable by Keycloak as it is (entity id, ACS, signing certificate). */
  @Public()
  @Get('metadata')
  async metadata(@Param('idp') idp: string, @Res() res: Response): Promise<void> {
    try {
      res.type('application/samlmetadata+xml').send(await this.idps.spMetadata(idp));
    } catch (err) {
      if (!(err instanceof UnknownIdpError)) throw err;
      res.status(404).type('html').send(errorPage({ title: 'Unknown identity provider', message: err.message }));
    }
  }

  /** Single logout, HTTP-Redirect binding: the IdP's LogoutRequest, or its answer to ours. */
  @Public()
  @Get('slo')
  async sloRedirect(@Param('idp') idp: string, @Query() query: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.slo(idp, 'redirect', query, req, res);
  }

  /** Single logout, HTTP-POST binding. */
  @Public()
  @Post('slo')
  async sloPost(@Param('idp') idp: string, @Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    await this.slo(idp, 'post', body ?? {}, req, res);
  }

  private async slo(idp: string, binding: 'redirect' | 'post', params: Record<string, unknown>, req: Request, res: Response): Promise<void> {
    try {
      const next = await this.logout.singleLogout(idp, binding, params, req.originalUrl.split('?')[1] ?? '');
      if (typeof params.SAMLRequest === 'string') res.clearCookie(this.config.session.cookie, { ...this.sessions.cookieOptions(), maxAge: undefined });
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, next);
    } catch (err) {
      sendLoginError(res, err);
    }
  }

  /** Assertion consumer service (HTTP-POST binding). */
  @Public()
  @Post('acs')
  async acs(@Param('idp') idp: string, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    try {
      const done = await this.flow.completeSaml(idp, body ?? {});
      res.cookie(this.config.session.cookie, done.sessionToken, this.sessions.cookieOptions());
      res.setHeader('Cache-Control', 'no-store');
      res.redirect(302, done.returnTo);
    } catch (err) {
      sendLoginError(res, err);
    }
  }
}
