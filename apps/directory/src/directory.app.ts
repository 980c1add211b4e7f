import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { createServiceApp } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { DirectoryConfig } from './config/directory.config';

/** The directory: admin REST plus its NATS commands (queue group `directory`), not yet listening. */
export async function createDirectoryApp(config: DirectoryConfig) {
  return createServiceApp(AppModule.forRoot(config), {
    title: 'Bridgekeeper directory',
    description: 'Users, groups, memberships, properties, licence seats and the audit log: what the applications behind Bridgekeeper see.',
    configure: async (app) => {
      app.connectMicroservice<MicroserviceOptions>({ transport: Transport.NATS, options: { servers: config.nats.url.split(','), queue: 'directory', name: 'directory-rpc' } });
      await app.startAllMicroservices();
    },
  });
}
