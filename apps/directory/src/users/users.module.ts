import { Module } from '@nestjs/common';
import { ProvisionService } from './provision.service';
import { UsersController } from './users.controller';
import { UsersRpc } from './users.rpc';
import { UsersService } from './users.service';

@Module({
  controllers: [UsersController, UsersRpc],
  providers: [UsersService, ProvisionService],
  exports: [UsersService],
})
export class UsersModule {}
