import { BadRequestException, Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LOCAL_SOURCE } from '@bridgekeeper/contracts';
import { Actor, ApiZodBody, ZodPipe } from '@bridgekeeper/platform';
import { attributesFromAssertion, mapIdentity } from '@bridgekeeper/provisioning-model';
import { DirectoryClient } from '../directory-client/directory.client';
import { provisionRequest } from '../jit/jit.service';
import { IdpSettingsInput, idpSettingsSchema, SimulateInput, simulateSchema } from './idp-settings.schemas';
import { IdpSettingsService } from './idp-settings.service';

@ApiTags('provisioning-settings')
@ApiBearerAuth()
@Controller('api/v1/idps/:idp')
export class IdpSettingsController {
  constructor(
    private readonly settings: IdpSettingsService,
    private readonly directory: DirectoryClient,
  ) {}

  @Get('provisioning')
  @ApiOperation({ summary: "An IdP's provisioning model, attribute mapping, JIT options and what it may change beyond what it owns" })
  get(@Param('idp') idp: string) {
    return this.settings.effective(idp);
  }

  @Put('provisioning')
  @ApiOperation({
    summary: "Set an IdP's provisioning model, attribute mapping, JIT options and what it may change beyond what it owns",
    description:
      "A login changes only what its IdP owns: its own users and groups. grantLocalGroups names the local groups it may put users in too; claimLocalUsers lets it link local accounts no IdP owns. Groups and accounts of other IdPs or connectors, and protected accounts, are never granted. Both apply to the IdP's User Sync connector as well.",
  })
  @ApiZodBody(idpSettingsSchema)
  put(@Param('idp') idp: string, @Body(new ZodPipe(idpSettingsSchema)) body: IdpSettingsInput, @Actor() actor: string) {
    return this.settings.put(idp, body, actor);
  }

  /**
   * What a login with these attributes would do, writing nothing: the mapped identity or the
   * denial, and (JIT) the user and group changes the directory would make, before and after.
   */
  @Post('simulate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mapping simulator: what provisioning would do with this login, without writing anything (with what it would refuse: notices, account_not_owned)' })
  @ApiZodBody(simulateSchema)
  async simulate(@Param('idp') idp: string, @Body(new ZodPipe(simulateSchema)) body: SimulateInput) {
    const s = await this.settings.effective(idp);
    let login: { subject: string; attributes: Record<string, string[]> };
    if (body.traceId) {
      const trace = await this.directory.loginTrace(body.traceId);
      if (!trace.found || !trace.subject) throw new NotFoundException(`traceId: no login trace ${body.traceId} with a validated subject`);
      login = { subject: trace.subject, attributes: trace.attributes ?? {} };
    } else {
      try {
        login = body.assertionXml ? attributesFromAssertion(body.assertionXml) : { subject: body.subject!, attributes: body.attributes ?? {} };
      } catch (err) {
        throw new BadRequestException(`assertionXml: ${(err as Error).message}`);
      }
    }
    if (idp === LOCAL_SOURCE) throw new BadRequestException(`idp: ${LOCAL_SOURCE} is the directory's own source, not an IdP's`);
    const mapped = mapIdentity(login.subject, login.attributes, s.mapping);
    if (!mapped.ok) return { model: s.model, outcome: 'rejected', code: mapped.code, reason: mapped.reason };
    // The same grants as a login, so the simulator refuses (and notes) what a login would.
    if (s.model !== 'jit') {
      const found = await this.directory.resolveUser({ source: idp, externalId: login.subject, username: mapped.identity.username, dryRun: true, claimLocalUsers: s.claimLocalUsers });
      const outcome = found.status === 'found' ? 'signed-in' : 'rejected';
      return { model: s.model, identity: mapped.identity, outcome, directory: found };
    }
    const reply = await this.directory.provisionUser({ ...provisionRequest(idp, login.subject, mapped.identity, s, 'simulator'), dryRun: true });
    return { model: s.model, identity: mapped.identity, outcome: reply.status === 'provisioned' ? (reply.created ? 'created' : reply.changed ? 'updated' : 'unchanged') : 'rejected', directory: reply };
  }
}
