import { MicroserviceOptions, Transport } from '@nestjs/microservices';
import cookieParser from 'cookie-parser';
import { createServiceApp } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { AuthConfig } from './config/auth.config';

/** Auth: logins, sessions and its admin REST, plus its NATS commands (queue group `auth`), not yet listening. */
export async function createAuthApp(config: AuthConfig) {
  return createServiceApp(AppModule.forRoot(config), {
    title: 'Bridgekeeper auth',
    description: 'Logs people in through SAML 2.0 / OpenID Connect identity providers and issues the application session.',
    configure: async (app) => {
      app.use(cookieParser());
      app.set('trust proxy', 'loopback');
      // Auth's NATS commands (login traces for the mapping simulator), spread over instances.
      app.connectMicroservice<MicroserviceOptions>({ transport: Transport.NATS, options: { servers: config.nats.url.split(','), queue: 'auth', name: 'auth-rpc' } });
      await app.startAllMicroservices();
    },
  });
}
