import 'reflect-metadata';
import { listenService, runService } from '@bridgekeeper/platform';
import { createAuthApp } from './auth.app';
import { loadAuthConfig } from './config/auth.config';

runService(async () => {
  const config = loadAuthConfig();
  await listenService(await createAuthApp(config), config.http);
});
