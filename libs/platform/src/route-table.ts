import { Injectable, Module, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { METHODS } from 'node:http';
import { pathToRegexp } from 'path-to-regexp';
import { isAdminOnlyRoute, isPublicRoute } from './route-access';

/** One HTTP route: its method, its path as the router holds it (`/api/v1/users/:id`), and who may call it. */
export interface RouteInfo {
  method: string;
  path: string;
  /** Callable without an admin token (marked Public, or served outside Nest by a documented decision). */
  public: boolean;
  adminOnly: boolean;
  /** `nest`: a controller's handler, behind Nest's guards; `express`: served on Express outside them (the OpenAPI docs). */
  servedBy: 'nest' | 'express';
}

/**
 * Which methods a path is served for, matched as the router matches (case-sensitive, strict: a
 * trailing slash is another path), for the 405 answer and its Allow header.
 */
export class RouteMatcher {
  private readonly patterns: { regexp: RegExp; methods: readonly string[] }[];

  constructor(routes: readonly { method: string; path: string }[]) {
    const byPath = new Map<string, Set<string>>();
    for (const r of routes) {
      const methods = byPath.get(r.path) ?? new Set<string>();
      methods.add(r.method);
      if (r.method === 'GET') methods.add('HEAD'); // the router answers HEAD with the GET handler
      byPath.set(r.path, methods);
    }
    this.patterns = [...byPath].map(([path, methods]) => ({ regexp: pathToRegexp(path, { sensitive: true, trailing: false }).regexp, methods: [...methods] }));
  }

  /** The methods served at a path (its pathname, as it came: not decoded), sorted; none when no route has the path. */
  allowed(pathname: string): string[] {
    const methods = new Set<string>();
    for (const p of this.patterns) if (p.regexp.test(pathname)) p.methods.forEach((m) => methods.add(m));
    return [...methods].sort();
  }
}

/**
 * The HTTP routes of this service, from Nest's own metadata (the controllers' PATH_METADATA and
 * METHOD_METADATA, the Public and AdminOnly marks), plus the routes the bootstrap serves outside
 * Nest (the OpenAPI docs). Built once, on first use, after every module is registered.
 */
@Injectable()
export class RouteTable {
  private routes?: RouteInfo[];
  private matcher?: RouteMatcher;
  private readonly outsideNest: RouteInfo[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  /** Routes served on the Express instance outside Nest's router and guards: public by the caller's decision. */
  addOutsideNest(methods: readonly string[], paths: readonly string[]): void {
    for (const path of paths) for (const method of methods) this.outsideNest.push({ method, path, public: true, adminOnly: false, servedBy: 'express' });
    this.routes = this.matcher = undefined;
  }

  list(): readonly RouteInfo[] {
    this.routes ??= [...this.nestRoutes(), ...this.outsideNest];
    return this.routes;
  }

  /** The methods served at a path, sorted (see RouteMatcher). */
  allowed(pathname: string): string[] {
    this.matcher ??= new RouteMatcher(this.list());
    return this.matcher.allowed(pathname);
  }

  private nestRoutes(): RouteInfo[] {
    const routes: RouteInfo[] = [];
    for (const { metatype } of this.discovery.getControllers()) {
      if (typeof metatype !== 'function') continue;
      const prefixes = paths(this.reflector.get<string | string[] | undefined>(PATH_METADATA, metatype));
      for (const name of this.scanner.getAllMethodNames(metatype.prototype)) {
        const handler = metatype.prototype[name] as Function;
        const own = this.reflector.get<string | string[] | undefined>(PATH_METADATA, handler);
        if (own === undefined) continue; // not an HTTP handler (a NATS one, a helper)
        const method = RequestMethod[this.reflector.get<RequestMethod>(METHOD_METADATA, handler) ?? RequestMethod.GET];
        const flags = {
          public: isPublicRoute(this.reflector, handler, metatype),
          adminOnly: isAdminOnlyRoute(this.reflector, handler, metatype),
          servedBy: 'nest' as const,
        };
        for (const prefix of prefixes) {
          for (const path of paths(own)) {
            for (const m of method === 'ALL' ? METHODS : [method]) routes.push({ method: m, path: join(prefix, path), ...flags });
          }
        }
      }
    }
    return routes;
  }
}

const paths = (p: string | string[] | undefined): string[] => (Array.isArray(p) ? p : [p ?? '']);

/** Nest's joining of a controller's path and a handler's: one slash between, none at the end. */
const join = (prefix: string, path: string): string =>
  `/${[prefix, path]
    .map((s) => s.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;

/** The route table, for the problem filter's 405 answer and for tests that walk the routes. */
@Module({ imports: [DiscoveryModule], providers: [RouteTable], exports: [RouteTable] })
export class RoutesModule {}
