import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { RETRY_AFTER_S } from '../login/idp-lookup-failure';
import { LoginError } from '../login/login-error';

/**
 * A refused back-channel logout, as the IdP (not a person) reads it: OAuth-style JSON. The reason
 * is in auth's log; the caller learns only that the token was refused, that no such IdP is
 * configured, or (503, with Retry-After) that the logout cannot be processed now and is to be sent again.
 */
@Catch(LoginError)
export class LogoutTokenRefusalFilter implements ExceptionFilter<LoginError> {
  catch(err: LoginError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (err.status === 503) {
      res.setHeader('Retry-After', String(RETRY_AFTER_S));
      return void res.status(503).json({ error: 'idp_unavailable', error_description: 'the logout cannot be processed right now; send it again later' });
    }
    res.status(err.status).json({
      error: err.status === 404 ? 'unknown_idp' : 'invalid_request',
      error_description: err.status === 404 ? 'no such identity provider' : 'the logout token was refused',
    });
  }
}
