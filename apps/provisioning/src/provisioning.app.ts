import { createServiceApp } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { ProvisioningConfig } from './config/provisioning.config';

/** Provisioning: JIT, User Sync and its admin REST, not yet listening. */
export async function createProvisioningApp(config: ProvisioningConfig) {
  return createServiceApp(AppModule.forRoot(config), {
    title: 'Bridgekeeper provisioning',
    description: 'Turns logins (Just-in-Time) and the IdP\'s directory (User Sync) into directory users and groups.',
  });
}
