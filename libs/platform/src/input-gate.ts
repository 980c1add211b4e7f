import {
  applyDecorators,
  BadRequestException,
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiConsumes } from '@nestjs/swagger';
import type { Request } from 'express';
import { isUtf8 } from 'node:buffer';
import { IncomingMessage, Server, ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { Observable } from 'rxjs';
import { isPublicRoute } from './route-access';
import { findInputProblems, InputProblem, paramProblems, queryProblems } from './input-hygiene';

const CONSUMES = 'bridgekeeper:consumes';
export const JSON_MEDIA_TYPE = 'application/json';
/** The media types the shared JSON parser reads; a route takes the ones it declares (`@Consumes`). */
export const JSON_MEDIA_TYPES = [JSON_MEDIA_TYPE, 'application/merge-patch+json'];

/**
 * The media types a route's body may have (documented in OpenAPI too). Routes that need a token
 * take `application/json` unless they say otherwise; public routes (form posts from browsers and
 * IdPs) take what their handler reads.
 */
export const Consumes = (...types: string[]) => applyDecorators(SetMetadata(CONSUMES, types), ApiConsumes(...types));

/** A request refused for what its text holds; the problem names every field (`errors`). */
export class InputRefusedException extends BadRequestException {
  constructor(readonly problems: InputProblem[]) {
    super({ message: problems.map((p) => `${p.field}: ${p.message}`).join('; '), errors: problems });
  }
}

/** A body is there when it has a length above 0 or comes in chunks (an empty POST needs no media type). */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * The input gate of every route, after the guards (an anonymous caller learns nothing more than a
 * 401) and before the pipes and the handler: a body of a media type the route does not take is a
 * 415; a NUL or an unpaired surrogate in any path parameter, query parameter, body member name or
 * string value, and a reserved name (`__proto__`, `constructor`, `prototype`) as a member, path or
 * query parameter name, is a 400 naming the fields. Nothing reaches a handler, so nothing changes.
 */
@Injectable()
export class InputGateInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<Request>();
    const consumes =
      this.reflector.getAllAndOverride<string[] | undefined>(CONSUMES, [ctx.getHandler(), ctx.getClass()]) ??
      (isPublicRoute(this.reflector, ctx.getHandler(), ctx.getClass()) ? undefined : [JSON_MEDIA_TYPE]);
    if (consumes && hasBody(req) && !req.is(consumes)) throw new UnsupportedMediaTypeException(`this route takes ${consumes.join(' or ')} (UTF-8)`);
    const url = req.originalUrl;
    const q = url.indexOf('?');
    const problems = [...paramProblems(req.params ?? {}), ...(q < 0 ? [] : queryProblems(url.slice(q + 1))), ...findInputProblems(req.body)];
    if (problems.length) throw new InputRefusedException(problems);
    return next.handle();
  }
}

const httpError = (status: number, message: string) => Object.assign(new Error(message), { status, expose: true });

/**
 * The shared JSON parser's `verify`: JSON is read as UTF-8 only (RFC 8259): another charset is a
 * 415 (body-parser would decode UTF-16 and UTF-32); bytes that are not UTF-8 are a 400, where the
 * decoder would quietly turn them into U+FFFD.
 */
export function verifyJsonBody(_req: unknown, _res: unknown, body: Buffer, encoding: string | null): void {
  if (encoding && encoding !== 'utf-8' && encoding !== 'utf8') throw httpError(415, 'JSON is taken in UTF-8 only (charset=utf-8, or none)');
  if (!isUtf8(body)) throw httpError(400, 'the body is not valid UTF-8');
}

/** The statuses Node's HTTP parser gives requests it refuses before Express sees them. */
const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request took too long to arrive'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'the chunk extensions are too large'],
};

/** The raw HTTP/1.1 answer to a request Node's parser refused: a problem+json body, never any of the request. */
export function clientErrorResponse(code: string | undefined): string {
  const [status, detail] = CLIENT_ERRORS[code ?? ''] ?? [400, 'the request is not well-formed HTTP'];
  const title = (STATUS_CODES[status] ?? 'Bad Request').toLowerCase();
  const body = JSON.stringify({ type: `https://bridgekeeper.dev/problems/${status}`, title, status, detail });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'Content-Type: application/problem+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Answers requests Node's HTTP parser refuses before Express sees them (headers too large: 431; a
 * malformed request line or header: 400) with problem+json, as everything else is answered, where
 * Node would send a bare status line. Like Node's own listener, it writes only on a socket no
 * answer is under way on (a pipelined request after a good one): that socket is just closed.
 */
export function answerClientErrors(server: Server): void {
  const answering = new WeakMap<object, number>();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    const socket = res.socket;
    if (!socket) return;
    answering.set(socket, (answering.get(socket) ?? 0) + 1);
    res.once('close', () => answering.set(socket, (answering.get(socket) ?? 1) - 1));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable || (answering.get(socket) ?? 0) > 0) socket.destroy();
    else socket.end(clientErrorResponse(err.code));
  });
}
