import 'reflect-metadata';
import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ProblemFilter } from './problem.filter';

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

/** The configured application (pino logger, helmet, capped bodies, problem+json, OpenAPI, shutdown hooks), not yet listening (tests listen on a free port). */
export async function createServiceApp(module: Type<unknown> | DynamicModule, opts: ServiceBootstrap): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bufferLogs: false, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.use(helmet({ contentSecurityPolicy: { directives: { 'form-action': null, 'upgrade-insecure-requests': null } } }));
  app.useBodyParser('json', { limit: '256kb' });
  app.useBodyParser('urlencoded', { limit: '512kb', extended: false });
  app.useGlobalFilters(new ProblemFilter());
  app.enableShutdownHooks();
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(opts.title).setDescription(opts.description).setVersion('1').addBearerAuth().build(),
  );
  SwaggerModule.setup('api/docs', app, doc, { jsonDocumentUrl: 'api/docs-json' });
  await opts.configure?.(app);
  return app;
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
