import 'reflect-metadata';
import { listenService, runService } from '@bridgekeeper/platform';
import { loadDirectoryConfig } from './config/directory.config';
import { createDirectoryApp } from './directory.app';

runService(async () => {
  const config = loadDirectoryConfig();
  await listenService(await createDirectoryApp(config), config.http);
});
