import 'reflect-metadata';
import { limitHeapGrowth, listenService, runService } from '@bridgekeeper/platform';
import { loadProvisioningConfig } from './config/provisioning.config';
import { createProvisioningApp } from './provisioning.app';

// User Sync reads a whole realm and makes garbage by the hundred megabytes: collect it in proportion to what is held.
limitHeapGrowth();

runService(async () => {
  const config = loadProvisioningConfig();
  await listenService(await createProvisioningApp(config), config.http);
});
