import { Body, Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '@bridgekeeper/platform';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { LoginErrorFilter } from '../login/login-error.filter';
import { breakGlassPage, errorPage } from '../pages/pages';
import { SessionService } from '../sessions/session.service';
import { BreakGlassService } from './break-glass.service';

@ApiExcludeController()
@Controller('break-glass')
export class BreakGlassController {
  constructor(
    private readonly breakGlass: BreakGlassService,
    private readonly sessions: SessionService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  @Public()
  @Get()
  page(@Res() res: Response): void {
    if (!this.breakGlass.enabled)
      return void res
        .status(404)
        .type('html')
        .send(errorPage({ title: 'Not available', message: 'Break-glass sign-in is not configured.' }));
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(breakGlassPage());
  }

  @Public()
  @Post()
  @UseFilters(LoginErrorFilter)
  async signIn(@Body() body: Record<string, unknown>, @Req() req: Request, @Res() res: Response): Promise<void> {
    const token = await this.breakGlass.signIn(body?.username, body?.password, req.ip ?? 'unknown');
    res.cookie(this.config.session.cookie, token, this.sessions.cookieOptions());
    res.redirect(303, '/');
  }
}
