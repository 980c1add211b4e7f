import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ZodError } from 'zod';

/** RFC 9457 problem details for every API error; validation errors name the field. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let title = 'Internal Server Error';
    let detail: string | undefined;
    let errors: { field: string; message: string }[] | undefined;
    if (exception instanceof ZodError) {
      status = HttpStatus.BAD_REQUEST;
      title = 'Validation failed';
      errors = exception.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
      detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      title = HttpStatus[status]?.toString().replace(/_/g, ' ').toLowerCase() ?? exception.name;
      detail = typeof body === 'string' ? body : ((body as { message?: string | string[] }).message?.toString() ?? exception.message);
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
}

function isHttpError(e: unknown): e is { status: number; message: string; expose: boolean } {
  const x = e as { status?: unknown; expose?: unknown } | null;
  return !!x && typeof x.status === 'number' && x.status >= 400 && x.status < 500 && x.expose === true;
}
