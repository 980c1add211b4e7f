import cookieParser from 'cookie-parser';
import { createServiceApp } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { AuthConfig } from './config/auth.config';

/** The OpenAPI document's title and description (the reference-docs generator reads them too). */
export const AUTH_API = {
  title: 'Bridgekeeper auth',
  description: 'Logs people in through SAML 2.0 / OpenID Connect identity providers and issues the application session.',
};

/** Auth: logins, sessions and its admin REST, plus its NATS commands (`@RpcHandler`s, queue group `auth`), not yet listening. */
export async function createAuthApp(config: AuthConfig) {
  return createServiceApp(AppModule.forRoot(config), {
    ...AUTH_API,
    configure: async (app) => {
      app.use(cookieParser());
      app.set('trust proxy', 'loopback');
    },
  });
}
