import 'reflect-metadata';
import { keepAlive, runService } from '@bridgekeeper/platform';
import { loadDirectoryConfig } from './config/directory.config';
import { createDirectoryApp } from './directory.app';

runService(async () => {
  const config = loadDirectoryConfig();
  const app = await createDirectoryApp(config);
  await app.listen(config.http.port, config.http.host);
  keepAlive(app);
});
