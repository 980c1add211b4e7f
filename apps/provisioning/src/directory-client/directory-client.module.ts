import { Module } from '@nestjs/common';
import { DirectoryClient } from './directory.client';

/** The directory's (and auth's) NATS commands, on provisioning's one NATS connection. */
@Module({
  providers: [DirectoryClient],
  exports: [DirectoryClient],
})
export class DirectoryClientModule {}
