import { Controller, Get, Inject, Query, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '@bridgekeeper/platform';
import { logoutStateCookie, returnToAfterLogout } from './logout-state';
import { AUTH_CONFIG, AuthConfig } from '../config/auth.config';
import { KeysService } from '../keys/keys.service';
import { homePage } from '../pages/pages';
import { SessionClaims, SessionService } from './session.service';

/**
 * A header value for any string: printable ASCII stays as it is (the usual username or email),
 * anything else and `%` itself are percent-encoded as UTF-8, so every value decodes with
 * decodeURIComponent (HTTP headers carry no UTF-8, and Node refuses what is not Latin-1).
 */
const headerValue = (value: string): string =>
  value
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD') // a lone surrogate cannot be encoded
    .replace(/[^\x20-\x24\x26-\x7e]/gu, (c: string) => encodeURIComponent(c));

@ApiTags('session')
@Controller()
export class SessionsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly keys: KeysService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  private current(req: Request): Promise<SessionClaims | null> {
    return this.sessions.verify(req.cookies?.[this.config.session.cookie]);
  }

  @Public()
  @Get()
  @ApiOperation({
    summary:
      "Landing page: who is signed in. Also the OIDC post-logout redirect URI: the browser that signed out goes on to its returnTo, once, when `state` is its logout's",
  })
  async home(@Query('state') state: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const cookie = logoutStateCookie(this.config.session.secure);
    const next = returnToAfterLogout(state, req.cookies?.[cookie.name], new URL(this.config.publicUrl).origin, this.config.allowedReturnOrigins);
    if (next) {
      res.clearCookie(cookie.name, { ...cookie.options, maxAge: undefined });
      return void res.setHeader('Cache-Control', 'no-store').redirect(303, next);
    }
    const s = await this.current(req);
    res.type('html').send(homePage(s && { username: s.username, name: s.name, email: s.email, groups: s.groups, idp: s.idp }));
  }

  @Public()
  @Get('session')
  @ApiOperation({ summary: 'The signed-in user as JSON; 401 without a session' })
  async session(@Req() req: Request) {
    const s = await this.current(req);
    if (!s) throw new UnauthorizedException('not signed in');
    return {
      user: { id: s.sub, username: s.username, email: s.email, displayName: s.name },
      groups: s.groups,
      idp: s.idp,
      expiresAt: new Date(s.exp * 1000).toISOString(),
    };
  }

  @Public()
  @Get('auth/verify')
  @ApiOperation({ summary: 'Forward-auth for nginx auth_request / Traefik: 200 with X-Auth-Request-* headers, or 401' })
  async verify(@Req() req: Request, @Res() res: Response): Promise<void> {
    const s = await this.current(req);
    if (!s) return void res.status(401).end();
    res
      .setHeader('X-Auth-Request-User', headerValue(s.username))
      .setHeader('X-Auth-Request-Email', headerValue(s.email ?? ''))
      .setHeader('X-Auth-Request-Groups', s.groups.map(encodeURIComponent).join(','))
      .status(200)
      .end();
  }

  @Public()
  @Get('.well-known/jwks.json')
  @ApiOperation({ summary: 'Public keys that verify the session token' })
  jwks() {
    return this.keys.sessionJwks();
  }
}
