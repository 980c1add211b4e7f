import { Body, ConflictException, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, ApiZodBody, ZodPipe } from '@bridgekeeper/admin-api';
import { CreateIdp, createIdpSchema, UpdateIdp, updateIdpSchema } from './idp.schemas';
import { KeysService } from '../keys/keys.service';
import { IdpRefreshService } from './idp-refresh.service';
import { IdpViewsService } from './idp-views.service';
import { IdpsService } from './idps.service';

@ApiTags('idps')
@ApiBearerAuth()
@Controller('api/v1/idps')
export class IdpsController {
  constructor(
    private readonly idps: IdpsService,
    private readonly refreshes: IdpRefreshService,
    private readonly views: IdpViewsService,
    private readonly keys: KeysService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Identity providers with their SP URLs, metadata status and certificate expiry' })
  list() {
    return this.idps.list();
  }

  @Post()
  @ApiOperation({ summary: 'Add an IdP from its metadata URL, pasted metadata XML, or by hand' })
  @ApiZodBody(createIdpSchema)
  create(@Body(new ZodPipe(createIdpSchema)) body: CreateIdp, @Actor() actor: string) {
    return this.idps.create(body, actor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One IdP' })
  async get(@Param('id') id: string) {
    return this.views.view(await this.idps.get(id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change an IdP (new metadata replaces the old)' })
  @ApiZodBody(updateIdpSchema)
  update(@Param('id') id: string, @Body(new ZodPipe(updateIdpSchema)) body: UpdateIdp, @Actor() actor: string) {
    return this.idps.update(id, body, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove an IdP' })
  async remove(@Param('id') id: string, @Actor() actor: string) {
    await this.idps.remove(id, actor);
  }

  @Get(':id/sp-keys')
  @ApiOperation({ summary: "The SP's signing and encryption keys for this IdP: active, pending, retired (never private halves)" })
  async spKeys(@Param('id') id: string) {
    await this.idps.get(id);
    return this.keys.samlSpKeyStates(id);
  }

  @Post(':id/sp-keys/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stage new SP keys: the SP metadata publishes the new signing certificate next to the current one' })
  async rotate(@Param('id') id: string, @Actor() actor: string) {
    await this.idps.get(id);
    await this.keys.stageSpKeys(id);
    await this.idps.touch(id); // the service provider now also decrypts with the staged key
    await this.idps.audit(actor, 'idp.sp-keys.staged', id);
    return this.keys.samlSpKeyStates(id);
  }

  @Post(':id/sp-keys/activate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign with the staged keys from now on (after the IdP trusts the new certificate); the old ones retire' })
  async activate(@Param('id') id: string, @Actor() actor: string) {
    await this.idps.get(id);
    if (!(await this.keys.activateSpKeys(id))) throw new ConflictException('no staged SP keys: rotate first');
    await this.idps.touch(id);
    await this.idps.audit(actor, 'idp.sp-keys.activated', id);
    return this.keys.samlSpKeyStates(id);
  }

  @Post(':id/refresh-metadata')
  @HttpCode(200)
  @ApiOperation({ summary: 'Fetch the metadata URL now; a failure keeps the last good metadata and is reported' })
  refresh(@Param('id') id: string) {
    return this.refreshes.refresh(id);
  }
}
