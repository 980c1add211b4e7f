import { Module } from '@nestjs/common';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { PROVISIONING_CONFIG, ProvisioningConfig } from '../config/provisioning.config';
import { DIRECTORY_NATS, DirectoryClient } from './directory.client';

@Module({
  providers: [
    {
      provide: DIRECTORY_NATS,
      inject: [PROVISIONING_CONFIG],
      useFactory: (config: ProvisioningConfig) =>
        ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: config.nats.url.split(','), name: 'provisioning-directory-client' } }),
    },
    DirectoryClient,
  ],
  exports: [DirectoryClient],
})
export class DirectoryClientModule {}
