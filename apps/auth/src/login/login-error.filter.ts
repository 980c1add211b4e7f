import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { errorPage } from '../pages/pages';
import { LoginError, publicRefusal } from './login-error';

/**
 * A refused login or logout as the person sees it: plain words by code, and the trace id (the
 * reason is in the trace). Bound with `@UseFilters` on the browser's login and logout routes;
 * any other error goes on to the service's problem+json filter.
 */
@Catch(LoginError)
export class LoginErrorFilter implements ExceptionFilter<LoginError> {
  catch(err: LoginError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(err.status)
      .type('html')
      .send(errorPage({ ...publicRefusal(err.code), traceId: err.traceId }));
  }
}
