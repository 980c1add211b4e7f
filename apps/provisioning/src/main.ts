import 'reflect-metadata';
import { bootstrapService, runService } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { loadProvisioningConfig } from './config/provisioning.config';

runService(async () => {
  const config = loadProvisioningConfig();
  await bootstrapService(AppModule.forRoot(config), {
    title: 'Bridgekeeper provisioning',
    description: 'Turns logins (Just-in-Time) and the IdP\'s directory (User Sync) into directory users and groups.',
    port: config.http.port,
    host: config.http.host,
  });
});
