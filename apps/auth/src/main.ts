import 'reflect-metadata';
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
    configure: (app) => {
      app.use(cookieParser());
      app.set('trust proxy', 'loopback');
    },
  });
});
