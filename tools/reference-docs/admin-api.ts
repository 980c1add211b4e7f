import type { DynamicModule } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModulesContainer, NestFactory, Reflector } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { openApiDocument, RouteInfo, RouteTable } from '@bridgekeeper/platform';
import { cell, fieldRows, fieldTable, JsonSchema, table, typeOf } from './schema';

/** One service's HTTP side: its root module (built from a config) and its OpenAPI title and description. */
export interface ServiceApi {
  service: string;
  api: { title: string; description: string };
  module: DynamicModule;
}

export interface ServiceRoutes {
  service: string;
  description: string;
  document: OpenAPIObject;
  /** Every route of the service's controllers, with the Public and AdminOnly marks the guard reads. */
  routes: readonly RouteInfo[];
}

/**
 * The service's OpenAPI document and route table, as it serves them, without starting it: Nest's
 * preview mode builds the module graph and reads the controllers' metadata but runs no provider (no
 * database opened, no NATS connection, no key file written), which is all SwaggerModule and the
 * route table read. The application is never initialised, so there is nothing to close.
 */
export async function readServiceRoutes(s: ServiceApi): Promise<ServiceRoutes> {
  const app = await NestFactory.create(s.module, { preview: true, logger: false, abortOnError: false });
  const document = openApiDocument(app, s.api);
  const routes = new RouteTable(new DiscoveryService(app.get(ModulesContainer)), new MetadataScanner(), new Reflector()).list();
  return { service: s.service, description: s.api.description, document, routes };
}

const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const byPathThenMethod = (a: RouteInfo, b: RouteInfo) => a.path.localeCompare(b.path) || METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method);
/** `/api/v1/users/:id` as OpenAPI writes it: `/api/v1/users/{id}`. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** Who may call a route, as the admin API guard decides (libs/admin-api's AdminGuard). */
function access(r: RouteInfo): string {
  if (r.public) return 'public';
  if (r.adminOnly || (r.method !== 'GET' && r.method !== 'HEAD')) return '`admin`';
  return '`read-only`, `admin`';
}

interface Operation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

function bodyOf(op: Operation): { mediaTypes: string[]; schema: JsonSchema } | undefined {
  const content = op.requestBody?.content;
  if (!content) return undefined;
  const [first] = Object.values(content);
  return first?.schema ? { mediaTypes: Object.keys(content), schema: first.schema } : undefined;
}

/** A body's top-level fields (`name`, `email?` for an optional one), or its type when it is no object. */
function bodyCell(schema: JsonSchema): string {
  if (schema.type !== 'object' || !schema.properties) return cell(typeOf(schema));
  const required = new Set<string>(schema.required ?? []);
  return Object.keys(schema.properties)
    .map((k) => `\`${k}${required.has(k) ? '' : '?'}\``)
    .join(', ');
}

function renderService(s: ServiceRoutes): string {
  const operations = new Map<string, Operation>();
  for (const [path, item] of Object.entries(s.document.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, Operation>)) operations.set(`${method.toUpperCase()} ${path}`, op);
  }
  const routes = [...s.routes].sort(byPathThenMethod);
  const documented = new Set(routes.map((r) => `${r.method} ${openApiPath(r.path)}`));
  const strays = [...operations.keys()].filter((k) => !documented.has(k));
  if (strays.length) throw new Error(`${s.service}: OpenAPI operations with no route: ${strays.join(', ')}`);

  const rows: string[][] = [];
  const details: string[] = [];
  const publicRows: string[][] = [];
  for (const r of routes) {
    const op = operations.get(`${r.method} ${openApiPath(r.path)}`);
    if (r.public && !op) {
      publicRows.push([r.method, `\`${openApiPath(r.path)}\``]);
      continue;
    }
    const body = op && bodyOf(op);
    const query = (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => `\`${p.name}\``);
    rows.push([
      r.method,
      `\`${openApiPath(r.path)}\``,
      access(r),
      cell(op ? op.summary : 'not in the OpenAPI document'),
      body ? bodyCell(body.schema) : '',
      query.join(', '),
    ]);
    const fields = body && body.schema.type === 'object' && body.schema.properties ? fieldTable(fieldRows(body.schema)) : undefined;
    if (op?.description || fields) {
      const media = body && body.mediaTypes.length > 1 ? `Body: ${body.mediaTypes.map((m) => `\`${m}\``).join(' or ')}.` : undefined;
      details.push([`##### ${r.method} ${openApiPath(r.path)}`, op?.description, media, fields].filter(Boolean).join('\n\n'));
    }
  }
  return [
    `### ${s.service}`,
    cell(s.description),
    table(['method', 'path', 'access', 'summary', 'body (`?`: optional)', 'query'], rows),
    ...(publicRows.length ? [`Public routes outside the OpenAPI document (logins, callbacks, health, metrics):`, table(['method', 'path'], publicRows)] : []),
    ...(details.length ? [`#### ${s.service}: routes in detail`, ...details] : []),
  ].join('\n\n');
}

/** Every route of every service: from its OpenAPI document (summary, body, query) and its route table (access). */
export function renderAdminApi(services: readonly ServiceRoutes[]): string {
  return services.map(renderService).join('\n\n');
}
