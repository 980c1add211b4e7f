import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { pageQuery } from '@bridgekeeper/data';
import { Actor, ApiZodBody, ApiZodQuery, ZodPipe } from '@bridgekeeper/admin-api';
import { UsersService } from '../users/users.service';
import {
  BulkMemberships,
  bulkMembershipsSchema,
  CreateGroup,
  createGroupSchema,
  ListGroups,
  listGroupsSchema,
  UpdateGroup,
  updateGroupSchema,
} from './dto/groups.schemas';
import { GroupsService } from './groups.service';

const membersQuery = z.object({ ...pageQuery }).strict();

@ApiTags('groups')
@ApiBearerAuth()
@Controller('api/v1')
export class GroupsController {
  constructor(
    private readonly groups: GroupsService,
    private readonly users: UsersService,
  ) {}

  @Get('groups')
  @ApiOperation({ summary: 'List groups: cursor pagination, filters' })
  @ApiZodQuery(listGroupsSchema)
  list(@Query(new ZodPipe(listGroupsSchema)) q: ListGroups) {
    return this.groups.list(q);
  }

  @Post('groups')
  @ApiOperation({
    summary: 'Create a group (source `local` by default: provisioning never touches it)',
    description:
      "Group names follow the name rules (docs/names.md): stored in NFC; hidden or disguised characters, spaces other than single plain ones between words, are a 400 naming the field and the code point; a name that looks like another group's (the same Unicode TR 39 skeleton) is a 409 naming both.",
  })
  @ApiZodBody(createGroupSchema)
  create(@Body(new ZodPipe(createGroupSchema)) body: CreateGroup, @Actor() actor: string) {
    return this.groups.create(body, actor);
  }

  @Get('groups/:id')
  @ApiOperation({ summary: 'One group with its member count' })
  get(@Param('id') id: string) {
    return this.groups.get(id);
  }

  @Patch('groups/:id')
  @ApiOperation({
    summary: 'Rename or describe a group',
    description:
      "Group names follow the name rules (docs/names.md): stored in NFC; hidden or disguised characters, spaces other than single plain ones between words, are a 400 naming the field and the code point; a name that looks like another group's (the same Unicode TR 39 skeleton) is a 409 naming both.",
  })
  @ApiZodBody(updateGroupSchema)
  update(@Param('id') id: string, @Body(new ZodPipe(updateGroupSchema)) body: UpdateGroup, @Actor() actor: string) {
    return this.groups.update(id, body, actor);
  }

  @Delete('groups/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a group and its memberships' })
  async remove(@Param('id') id: string, @Actor() actor: string) {
    await this.groups.remove(id, actor);
  }

  @Get('groups/:id/members')
  @ApiOperation({ summary: 'Members of a group, paginated' })
  @ApiZodQuery(membersQuery)
  members(@Param('id') id: string, @Query(new ZodPipe(membersQuery)) q: z.infer<typeof membersQuery>) {
    return this.users.list({ ...q, group: id, sort: 'username' }, 'directory.group-members');
  }

  @Post('memberships/bulk')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add and remove many memberships in one transaction',
    description:
      'All or nothing. A membership named in both `add` and `remove` is a contradiction: 400 naming both entries (`add.i`, `remove.j`), nothing changed. Before, such a request silently added it.',
  })
  @ApiZodBody(bulkMembershipsSchema)
  bulk(@Body(new ZodPipe(bulkMembershipsSchema)) body: BulkMemberships, @Actor() actor: string) {
    return this.groups.bulkMemberships(body, actor);
  }
}
