import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, ApiZodBody, ApiZodQuery, ZodPipe } from '@bridgekeeper/admin-api';
import {
  BulkUpsertUsers,
  bulkUpsertUsersSchema,
  CreateUser,
  createUserSchema,
  ListUsers,
  listUsersSchema,
  propertyKey,
  setPropertySchema,
  setUserGroupsSchema,
  UpdateUser,
  updateUserSchema,
} from './dto/users.schemas';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'List users: cursor pagination, filters, sorting' })
  @ApiZodQuery(listUsersSchema)
  list(@Query(new ZodPipe(listUsersSchema)) q: ListUsers) {
    return this.users.list(q);
  }

  @Post()
  @ApiOperation({
    summary: 'Create a user; takes a licence seat when active',
    description:
      "The Manual model: create the user with `source` = the IdP id; its first login links it by username. A `local` user is linked by no IdP unless that IdP's provisioning settings allow claiming local accounts (claimLocalUsers). `protected: true` (local only) marks an account no IdP or connector may ever claim, link or change: local administrators and the break-glass account. Usernames follow the name rules (docs/names.md): stored in NFC; hidden or disguised characters are a 400 naming the field and the code point; a username that looks like another user's (the same Unicode TR 39 skeleton) is a 409 naming both.",
  })
  @ApiZodBody(createUserSchema)
  create(@Body(new ZodPipe(createUserSchema)) body: CreateUser, @Actor() actor: string) {
    return this.users.create(body, actor);
  }

  @Post('bulk')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Create or update many users in one transaction (all or nothing)',
    description:
      "`protected` is kept when an item does not name it; a protected account is never re-sourced to an IdP or connector (409). Usernames follow the name rules (docs/names.md): stored in NFC; hidden or disguised characters are a 400 naming the field and the code point; a username that looks like another user's (the same Unicode TR 39 skeleton) is a 409 naming both. Two items whose names look alike: the later one is a 409 (`users.N.username`). Nothing is written when any item is refused.",
  })
  @ApiZodBody(bulkUpsertUsersSchema)
  bulk(@Body(new ZodPipe(bulkUpsertUsersSchema)) body: BulkUpsertUsers, @Actor() actor: string) {
    return this.users.bulkUpsert(body, actor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One user with groups and properties' })
  get(@Param('id') id: string) {
    return this.users.get(id);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change username, email, display name, external id or the protected flag (local accounts only)',
    description:
      "Usernames follow the name rules (docs/names.md): stored in NFC; hidden or disguised characters are a 400 naming the field and the code point; a username that looks like another user's (the same Unicode TR 39 skeleton) is a 409 naming both. A rename to a lookalike of the user's own name is allowed.",
  })
  @ApiZodBody(updateUserSchema)
  update(@Param('id') id: string, @Body(new ZodPipe(updateUserSchema)) body: UpdateUser, @Actor() actor: string) {
    return this.users.update(id, body, actor);
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Disable: the user cannot log in and frees a seat' })
  disable(@Param('id') id: string, @Actor() actor: string) {
    return this.users.setActive(id, false, actor);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable again (needs a free seat)' })
  enable(@Param('id') id: string, @Actor() actor: string) {
    return this.users.setActive(id, true, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user with their memberships and properties' })
  async remove(@Param('id') id: string, @Actor() actor: string) {
    await this.users.remove(id, actor);
  }

  @Get(':id/groups')
  @ApiOperation({ summary: "The user's groups" })
  groups(@Param('id') id: string) {
    return this.users.get(id).then((u) => u.groups);
  }

  @Put(':id/groups')
  @ApiOperation({ summary: "Replace the user's memberships" })
  @ApiZodBody(setUserGroupsSchema)
  setGroups(@Param('id') id: string, @Body(new ZodPipe(setUserGroupsSchema)) body: { groupIds: string[] }, @Actor() actor: string) {
    return this.users.setGroups(id, body.groupIds, actor);
  }

  @Get(':id/properties')
  @ApiOperation({ summary: "The user's properties (extra attributes)" })
  properties(@Param('id') id: string) {
    return this.users.get(id).then((u) => u.properties);
  }

  @Put(':id/properties/:key')
  @ApiOperation({ summary: 'Set one property' })
  @ApiZodBody(setPropertySchema)
  setProperty(
    @Param('id') id: string,
    @Param('key', new ZodPipe(propertyKey)) key: string,
    @Body(new ZodPipe(setPropertySchema)) body: { value: string },
    @Actor() actor: string,
  ) {
    return this.users.setProperty(id, key, body.value, actor);
  }

  @Delete(':id/properties/:key')
  @ApiOperation({ summary: 'Remove one property' })
  deleteProperty(@Param('id') id: string, @Param('key', new ZodPipe(propertyKey)) key: string, @Actor() actor: string) {
    return this.users.deleteProperty(id, key, actor);
  }
}
