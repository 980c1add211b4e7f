import 'reflect-metadata';
import { limitHeapGrowth, bootstrapService, runService } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { loadProvisioningConfig } from './config/provisioning.config';

// User Sync reads a whole realm and makes garbage by the hundred megabytes: collect it in proportion to what is held.
limitHeapGrowth();

runService(async () => {
  const config = loadProvisioningConfig();
  await bootstrapService(AppModule.forRoot(config), {
    title: 'Bridgekeeper provisioning',
    description: 'Turns logins (Just-in-Time) and the IdP\'s directory (User Sync) into directory users and groups.',
    port: config.http.port,
    host: config.http.host,
  });
});
