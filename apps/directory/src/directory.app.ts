import { createServiceApp } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { DirectoryConfig } from './config/directory.config';

/** The OpenAPI document's title and description (the reference-docs generator reads them too). */
export const DIRECTORY_API = {
  title: 'Bridgekeeper directory',
  description: 'Users, groups, memberships, properties, licence seats and the audit log: what the applications behind Bridgekeeper see.',
};

/** The directory: admin REST plus its NATS commands (`@RpcHandler`s, queue group `directory`), not yet listening. */
export async function createDirectoryApp(config: DirectoryConfig) {
  return createServiceApp(AppModule.forRoot(config), {
    ...DIRECTORY_API,
  });
}
