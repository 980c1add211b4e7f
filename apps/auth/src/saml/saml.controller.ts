import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { LoginFlowService } from '../login/login-flow.service';
import { sendLoginError } from '../login/login.controller';
import { errorPage } from '../pages/pages';
import { SessionService } from '../sessions/session.service';
import { SamlIdpRegistry, UnknownIdpError } from './saml-idp.registry';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { Inject } from '@nestjs/common';

@ApiExcludeController()
@Controller('saml/:idp')
export class SamlController {
  constructor(
    private readonly idps: SamlIdpRegistry,
    private readonly flow: LoginFlowService,
    private readonly sessions: SessionService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** SP metadata, importable by Keycloak as it is (entity id, ACS, signing certificate). */
  @Get('metadata')
  async metadata(@Param('idp') idp: string, @Res() res: Response): Promise<void> {
    try {
      res.type('application/samlmetadata+xml').send(await this.idps.spMetadata(idp));
    } catch (err) {
      if (!(err instanceof UnknownIdpError)) throw err;
      res.status(404).type('html').send(errorPage({ title: 'Unknown identity provider', message: err.message }));
    }
  }

  /** Assertion consumer service (HTTP-POST binding). */
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
