import { Global, Module } from '@nestjs/common';
import { DirectoryWriter } from './directory-writer';

/** The one writer of users, groups, memberships and properties, for every feature module. */
@Global()
@Module({ providers: [DirectoryWriter], exports: [DirectoryWriter] })
export class StoreModule {}
