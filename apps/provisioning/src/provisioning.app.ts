import { createServiceApp } from '@bridgekeeper/platform';
import { AppModule } from './app.module';
import { ProvisioningConfig } from './config/provisioning.config';

/** The OpenAPI document's title and description (the reference-docs generator reads them too). */
export const PROVISIONING_API = {
  title: 'Bridgekeeper provisioning',
  description: "Turns logins (Just-in-Time) and the IdP's directory (User Sync) into directory users and groups.",
};

/** Provisioning: JIT, User Sync and its admin REST, not yet listening. */
export async function createProvisioningApp(config: ProvisioningConfig) {
  return createServiceApp(AppModule.forRoot(config), {
    ...PROVISIONING_API,
  });
}
