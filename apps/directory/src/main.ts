import 'reflect-metadata';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import { bootstrapService, runService } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { loadDirectoryConfig } from './config/directory.config';

runService(async () => {
  const config = loadDirectoryConfig();
  await bootstrapService(AppModule.forRoot(config), {
    title: 'Bridgekeeper directory',
    description: 'Users, groups, memberships and properties: what the applications behind Bridgekeeper see.',
    port: config.http.port,
    host: config.http.host,
    configure: async (app) => {
      // Directory commands over NATS request/reply; the queue group spreads them over instances.
      app.connectMicroservice<MicroserviceOptions>({ transport: Transport.NATS, options: { servers: config.nats.url.split(','), queue: 'directory', name: 'directory-rpc' } });
      await app.startAllMicroservices();
    },
  });
});
