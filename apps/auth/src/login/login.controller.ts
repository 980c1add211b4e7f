import { randomBytes } from 'node:crypto';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { autoPostPage, chooserPage, errorPage } from '../pages/pages';
import { SamlIdpRegistry } from '../saml/saml-idp.registry';
import { LoginError } from './login-error';
import { LoginFlowService } from './login-flow.service';

export function sendLoginError(res: Response, err: unknown): void {
  if (!(err instanceof LoginError)) throw err;
  res.status(err.status).type('html').send(errorPage({ title: err.title, message: err.message, traceId: err.traceId }));
}

@ApiExcludeController()
@Controller()
export class LoginController {
  constructor(
    private readonly flow: LoginFlowService,
    private readonly idps: SamlIdpRegistry,
  ) {}

  /** IdP chooser; `?idp=` picks one, one configured IdP means no chooser. */
  @Get('login')
  async login(@Query('idp') idp: string | undefined, @Query('returnTo') returnTo: unknown, @Res() res: Response): Promise<void> {
    try {
      const start = await this.flow.start(typeof idp === 'string' && idp ? idp : undefined, returnTo);
      res.setHeader('Cache-Control', 'no-store');
      if (start.kind === 'redirect') return res.redirect(302, start.url);
      if (start.kind === 'post') {
        const nonce = randomBytes(16).toString('base64');
        res.setHeader('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; form-action ${new URL(start.action).origin}`);
        return void res.type('html').send(autoPostPage(start.action, start.fields, nonce));
      }
      res.type('html').send(chooserPage(this.idps.list(), start.returnTo));
    } catch (err) {
      sendLoginError(res, err);
    }
  }
}
