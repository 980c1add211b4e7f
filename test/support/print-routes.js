'use strict';
/**
 * Prints one service's HTTP routes as its Express router holds them once Nest has registered
 * them: the service is built from dist/ with its own app factory (as its main.ts does), initialised
 * (its database migrated, NATS connected) but not listening, and closed again. The admin route walk
 * (test/admin-routes.int-spec.ts) takes its list of routes from here, not from a hand-written one.
 *
 *   node test/support/print-routes.js auth|directory|provisioning      (environment: the service's)
 *
 * Output, one line: `ROUTES {"routes":[{path,methods}],"marked":[{method,path,public,adminOnly}]}`,
 * `routes` from the router's stack (reading it is fine in a test, never in the services), `marked`
 * what the service's route table says about its Nest routes.
 */
const { join } = require('node:path');

const dist = join(__dirname, '../../dist');
const SERVICES = {
  auth: { app: 'apps/auth/src/auth.app.js', create: 'createAuthApp', config: 'apps/auth/src/config/auth.config.js', load: 'loadAuthConfig' },
  directory: {
    app: 'apps/directory/src/directory.app.js',
    create: 'createDirectoryApp',
    config: 'apps/directory/src/config/directory.config.js',
    load: 'loadDirectoryConfig',
  },
  provisioning: {
    app: 'apps/provisioning/src/provisioning.app.js',
    create: 'createProvisioningApp',
    config: 'apps/provisioning/src/config/provisioning.config.js',
    load: 'loadProvisioningConfig',
  },
};

async function main() {
  const service = SERVICES[process.argv[2]];
  if (!service) throw new Error(`usage: print-routes.js ${Object.keys(SERVICES).join('|')}`);
  const config = require(join(dist, service.config))[service.load]();
  const app = await require(join(dist, service.app))[service.create](config);
  await app.init();
  const routes = app
    .getHttpAdapter()
    .getInstance()
    .router.stack.filter((layer) => layer.route)
    .map((layer) => ({ path: layer.route.path, methods: Object.keys(layer.route.methods).map((m) => m.toUpperCase()) }));
  const { RouteTable } = require(join(dist, 'libs/platform/src/index.js'));
  const marked = app.get(RouteTable).list();
  process.stdout.write(`ROUTES ${JSON.stringify({ routes, marked })}\n`);
  await app.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
