import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_CATALOGUE, RPC_CATALOGUE } from '@bridgekeeper/contracts';
import { sharedEnv } from '@bridgekeeper/platform';
import { AppModule as AuthModule } from '../../apps/auth/src/app.module';
import { AUTH_API } from '../../apps/auth/src/auth.app';
import { authEnvSchema, loadAuthConfig } from '../../apps/auth/src/config/auth.config';
import { AppModule as DirectoryModule } from '../../apps/directory/src/app.module';
import { directoryEnvSchema, loadDirectoryConfig } from '../../apps/directory/src/config/directory.config';
import { DIRECTORY_API } from '../../apps/directory/src/directory.app';
import { AppModule as ProvisioningModule } from '../../apps/provisioning/src/app.module';
import { loadProvisioningConfig, provisioningEnvSchema } from '../../apps/provisioning/src/config/provisioning.config';
import { PROVISIONING_API } from '../../apps/provisioning/src/provisioning.app';
import { readServiceRoutes, renderAdminApi } from './admin-api';
import { renderConfiguration } from './configuration';
import { renderEvents } from './events';
import { fillGenerated } from './markers';

/** A reference page: where it is, and its text with the generated part as the code says it is now. */
export interface ReferencePage {
  path: string;
  text: string;
}

/** The pages the generator writes, relative to the repository, each with the one generated part it holds. */
export const REFERENCE_PAGES = {
  configuration: 'docs/reference/configuration.md',
  events: 'docs/reference/events.md',
  adminApi: 'docs/reference/admin-api.md',
} as const;

/**
 * Every reference page as the code describes it: the committed page (its hand-written prose kept)
 * with its generated part rendered again from the zod config schemas, libs/contracts' catalogue and
 * each service's OpenAPI document. Writes nothing.
 */
export async function renderReferencePages(root: string): Promise<ReferencePage[]> {
  const read = (path: string) => readFileSync(join(root, path), 'utf8');

  const configuration = renderConfiguration(
    [
      { service: 'auth', schema: authEnvSchema, load: loadAuthConfig },
      { service: 'directory', schema: directoryEnvSchema, load: loadDirectoryConfig },
      { service: 'provisioning', schema: provisioningEnvSchema, load: loadProvisioningConfig },
    ],
    Object.keys(sharedEnv),
  );

  const events = renderEvents(EVENT_CATALOGUE, RPC_CATALOGUE);

  // Each service's modules built from its default configuration: only the routes are read from
  // them (in preview mode: nothing is started), and no route depends on the configuration.
  const routes = [];
  for (const s of [
    { service: 'auth', api: AUTH_API, module: AuthModule.forRoot(loadAuthConfig({})) },
    { service: 'directory', api: DIRECTORY_API, module: DirectoryModule.forRoot(loadDirectoryConfig({})) },
    { service: 'provisioning', api: PROVISIONING_API, module: ProvisioningModule.forRoot(loadProvisioningConfig({})) },
  ]) {
    routes.push(await readServiceRoutes(s));
  }
  const adminApi = renderAdminApi(routes);

  return [
    { path: REFERENCE_PAGES.configuration, text: fillGenerated(read(REFERENCE_PAGES.configuration), 'configuration', configuration) },
    { path: REFERENCE_PAGES.events, text: fillGenerated(read(REFERENCE_PAGES.events), 'events', events) },
    { path: REFERENCE_PAGES.adminApi, text: fillGenerated(read(REFERENCE_PAGES.adminApi), 'admin-api', adminApi) },
  ];
}
