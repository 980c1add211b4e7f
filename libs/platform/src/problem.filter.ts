import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ZodError } from 'zod';

/** What the filter needs to tell a wrong method (405) from an unknown path (404): the methods served at a path. */
export interface AllowedMethods {
  allowed(pathname: string): string[];
}

/**
 * RFC 9457 problem details for every API error; validation errors name the field. A request no
 * route took (Nest's 404) for a path that has routes for other methods gets 405 with `Allow`,
 * OPTIONS included (no route serves it: there is no CORS), so Express never answers it by itself.
 * Only requests that already missed every route pay for the lookup.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  constructor(private readonly routes?: AllowedMethods) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let title = 'Internal Server Error';
    let detail: string | undefined;
    let errors: { field: string; message: string }[] | undefined;
    const allow = exception instanceof NotFoundException ? this.otherMethods(host.switchToHttp().getRequest<Request>()) : undefined;
    if (allow) {
      status = HttpStatus.METHOD_NOT_ALLOWED;
      title = 'method not allowed';
      detail = `this path serves ${allow.join(', ')}`;
      res.setHeader('Allow', allow.join(', '));
    } else if (exception instanceof ZodError) {
      status = HttpStatus.BAD_REQUEST;
      title = 'Validation failed';
      errors = exception.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
      detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      title = HttpStatus[status]?.toString().replace(/_/g, ' ').toLowerCase() ?? exception.name;
      detail = typeof body === 'string' ? body : ((body as { message?: string | string[] }).message?.toString() ?? exception.message);
      const named = typeof body === 'object' ? (body as { errors?: unknown }).errors : undefined;
      if (Array.isArray(named)) errors = named as { field: string; message: string }[];
    } else if (isHttpError(exception)) {
      // body-parser and friends: 413 entity too large, 400 malformed JSON, 415 …
      status = exception.status;
      title = HttpStatus[status]?.toString().replace(/_/g, ' ').toLowerCase() ?? 'error';
      detail = exception.message;
    } else {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    }
    res
      .status(status)
      .type('application/problem+json')
      .json({ type: `https://bridgekeeper.dev/problems/${status}`, title, status, detail, errors });
  }

  /** The methods a path serves when they do not include the request's: its 404 is really a 405. */
  private otherMethods(req: Request): string[] | undefined {
    const allowed = this.routes?.allowed(req.path) ?? [];
    return allowed.length && !allowed.includes(req.method) ? allowed : undefined;
  }
}

function isHttpError(e: unknown): e is { status: number; message: string; expose: boolean } {
  const x = e as { status?: unknown; expose?: unknown } | null;
  return !!x && typeof x.status === 'number' && x.status >= 400 && x.status < 500 && x.expose === true;
}
