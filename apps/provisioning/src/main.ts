import 'reflect-metadata';
import { bootstrapService } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { loadProvisioningConfig } from './config/provisioning.config';

async function main() {
  const config = loadProvisioningConfig();
  await bootstrapService(AppModule.forRoot(config), {
    title: 'Bridgekeeper provisioning',
    description: 'Turns logins (Just-in-Time) and the IdP\'s directory (User Sync) into directory users and groups.',
    port: config.http.port,
    host: config.http.host,
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
