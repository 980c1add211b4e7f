import 'reflect-metadata';
import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import cookieParser from 'cookie-parser';
import { bootstrapService, runService } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { loadAuthConfig } from './config/auth.config';

runService(async () => {
  const config = loadAuthConfig();
  await bootstrapService(AppModule.forRoot(config), {
    title: 'Bridgekeeper auth',
    description: 'Logs people in through SAML 2.0 / OpenID Connect identity providers and issues the application session.',
    port: config.http.port,
    host: config.http.host,
    configure: async (app) => {
      app.use(cookieParser());
      app.set('trust proxy', 'loopback');
      // Auth's NATS commands (login traces for the mapping simulator), spread over instances.
      app.connectMicroservice<MicroserviceOptions>({ transport: Transport.NATS, options: { servers: config.nats.url.split(','), queue: 'auth', name: 'auth-rpc' } });
      await app.startAllMicroservices();
    },
  });
});
