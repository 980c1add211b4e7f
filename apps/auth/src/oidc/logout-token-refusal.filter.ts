import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { LoginError } from '../login/login-error';

/**
 * A refused back-channel logout, as the IdP (not a person) reads it: OAuth-style JSON. The reason
 * is in auth's log; the caller learns only that the token was refused.
 */
@Catch(LoginError)
export class LogoutTokenRefusalFilter implements ExceptionFilter<LoginError> {
  catch(err: LoginError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.status(err.status).json({ error: err.status === 404 ? 'unknown_idp' : 'invalid_request', error_description: err.status === 404 ? 'no such identity provider' : 'the logout token was refused' });
  }
}
