import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditService } from '../audit/audit.service';
import { GroupEntity } from '../groups/group.entity';
import { MembershipEntity } from '../groups/membership.entity';
import { UserPropertyEntity } from './user-property.entity';
import { UserEntity } from './user.entity';
import { UsersRpc } from './users.rpc';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity, UserPropertyEntity, GroupEntity, MembershipEntity])],
  controllers: [UsersRpc],
  providers: [UsersService, AuditService],
  exports: [UsersService],
})
export class UsersModule {}
