import { Module } from '@nestjs/common';
import { natsRequestClient } from '@bridgekeeper/messaging';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { DIRECTORY_NATS, DirectoryClient } from './directory.client';

@Module({
  providers: [
    {
      provide: DIRECTORY_NATS,
      inject: [PROVISIONING_CONFIG],
      useFactory: (config: ProvisioningConfig) =>
        natsRequestClient({ servers: config.nats.url.split(','), name: 'provisioning-directory-client' }),
    },
    DirectoryClient,
  ],
  exports: [DirectoryClient],
})
export class DirectoryClientModule {}
