import { SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';

/**
 * What a route is, for everything that reads routes: the route table (405, OpenAPI), the input gate
 * and health/metrics mark themselves here; the admin API guard (libs/admin-api) enforces it.
 */
const PUBLIC = 'bk:public';
const ADMIN_ONLY = 'bk:admin-only';

/**
 * A route anyone may call without an admin token: login, ACS, callbacks, logout, session, verify,
 * JWKS, metadata, health, metrics. On a handler, or on a controller for all its handlers. Every
 * route without it needs an admin token: mark a handler, not a whole controller, where others may
 * add admin routes to it later.
 */
export const Public = () => SetMetadata(PUBLIC, true);

/** Reads that only the `admin` role may make (token lists, secrets metadata). */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/** Whether a handler (or its controller) is marked public: what a route is, never how its path is spelled. */
export const isPublicRoute = (reflector: Reflector, handler: Function, controller: Function): boolean =>
  reflector.getAllAndOverride<boolean>(PUBLIC, [handler, controller]) === true;

export const isAdminOnlyRoute = (reflector: Reflector, handler: Function, controller: Function): boolean =>
  reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [handler, controller]) === true;
