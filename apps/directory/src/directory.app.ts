import { createServiceApp } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { DirectoryConfig } from './config/directory.config';

/** The directory: admin REST plus its NATS commands (`@RpcHandler`s, queue group `directory`), not yet listening. */
export async function createDirectoryApp(config: DirectoryConfig) {
  return createServiceApp(AppModule.forRoot(config), {
    title: 'Bridgekeeper directory',
    description: 'Users, groups, memberships, properties, licence seats and the audit log: what the applications behind Bridgekeeper see.',
  });
}
