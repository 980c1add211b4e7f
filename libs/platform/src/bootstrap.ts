import 'reflect-metadata';
import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { RpcServer } from '@bridgekeeper/messaging';
import { answerClientErrors, InputGateInterceptor, JSON_MEDIA_TYPES, verifyJsonBody } from './input-gate';
import { ProblemFilter } from './problem.filter';
import { RouteTable } from './route-table';

/**
 * The OpenAPI docs, served by SwaggerModule on Express itself, outside Nest's router and guards.
 * Public by decision: they describe the API and hold no data. `/api/docs/…` are swagger-ui's files.
 */
const OPENAPI_ROUTES = ['/api/docs', '/api/docs/', '/api/docs/*file', '/api/docs-json'] as const;

/** What the OpenAPI description says about access, on every service. */
const ACCESS =
  'Every route needs `Authorization: Bearer <admin token>` (401 without a valid one) unless it is public (login, callbacks, session, health, metrics, these docs); ' +
  '`read-only` tokens may only read (403 otherwise). Routing is case-sensitive and strict (no trailing slash); a method a path does not serve, OPTIONS included, gets 405 with `Allow`. ' +
  'Bodies are `application/json` in UTF-8 (another media type or charset: 415) unless a route says otherwise. A NUL character or an unpaired surrogate in any text (body values and member names, path and query parameters), and `__proto__`, `constructor` or `prototype` as a member or parameter name, are a 400 naming the field; nothing changes.';

export interface ServiceBootstrap {
  title: string;
  description: string;
  /** Extra wiring before listen (microservices, cookie parser, …). */
  configure?: (app: NestExpressApplication) => Promise<void> | void;
}

/** Shared main.ts: listens on the service's port (all interfaces unless a host is given), with long keep-alives. */
export async function listenService(app: INestApplication, http: { port: number; host?: string }): Promise<void> {
  await app.listen(http.port, http.host ?? '0.0.0.0');
  keepAlive(app);
}

/** The configured application (pino logger, helmet, capped bodies, the input gate, problem+json, OpenAPI, shutdown hooks), not yet listening (tests listen on a free port). */
export async function createServiceApp(module: Type<unknown> | DynamicModule, opts: ServiceBootstrap): Promise<NestExpressApplication> {
  // Routing is case-sensitive and strict (a trailing slash is another path), a second line behind
  // the guards: `/API/v1/…` or `/api/v1/…/` is no route. Express reads both settings when it makes
  // its router, so they are set before Nest or any middleware touches it.
  const server = express();
  server.set('case sensitive routing', true);
  server.set('strict routing', true);
  const app = await NestFactory.create<NestExpressApplication>(module, new ExpressAdapter(server), { bufferLogs: false, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.use(helmet({ contentSecurityPolicy: { directives: { 'form-action': null, 'upgrade-insecure-requests': null } } }));
  // JSON (and JSON merge patches, for the routes that declare them) in UTF-8 only; forms for the public routes that take them.
  app.use(express.json({ limit: '256kb', type: JSON_MEDIA_TYPES, verify: verifyJsonBody }));
  app.useBodyParser('urlencoded', { limit: '512kb', extended: false });
  const routes = app.get(RouteTable);
  app.useGlobalFilters(new ProblemFilter(routes));
  // Media types, NUL, unpaired surrogates and reserved names, on every route at once (input-gate.ts).
  app.useGlobalInterceptors(new InputGateInterceptor(app.get(Reflector)));
  answerClientErrors(app.getHttpServer());
  app.enableShutdownHooks();
  const doc = openApiDocument(app, opts);
  // The JSON document only (no /api/docs-yaml): one format, one public route less.
  SwaggerModule.setup('api/docs', app, doc, { jsonDocumentUrl: 'api/docs-json', raw: ['json'] });
  routes.addOutsideNest(['GET'], OPENAPI_ROUTES);
  await opts.configure?.(app);
  // Initialised here (listen would do it) so that the service's NATS commands are answered before it listens.
  await app.init();
  await app.get(RpcServer).serve();
  return app;
}

/**
 * The service's OpenAPI document, from its controllers' metadata. Also read by the reference-docs
 * generator (tools/reference-docs) on an application created in Nest's preview mode, which builds
 * the module graph without running a provider: no database, no NATS.
 */
export function openApiDocument(app: INestApplication, opts: Pick<ServiceBootstrap, 'title' | 'description'>): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(opts.title).setDescription(`${opts.description}\n\n${ACCESS}`).setVersion('1').addBearerAuth().build(),
  );
}

/** Runs a service's main; a failed start (bad config, no database) prints why and exits 1. */
export function runService(main: () => Promise<unknown>): void {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

/** Idle keep-alive sockets outlive clients' and proxies' (which close first, so none is reused as it closes). */
export function keepAlive(app: INestApplication): void {
  const server = app.getHttpServer() as { keepAliveTimeout: number; headersTimeout: number };
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
}
