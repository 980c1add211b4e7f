import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  Put,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, ApiZodBody, ZodPipe } from '@bridgekeeper/admin-api';
import { Consumes } from '@bridgekeeper/platform';
import { absentNotices, keyedLogin, mapIdentity, noUsernameReason, readSamlLogin } from '@bridgekeeper/provisioning-model';
import { SubjectRefusal } from '@bridgekeeper/saml-assertion';
import { DirectoryClient } from '../directory-client/directory.client';
import { provisionRequest } from '../jit/jit.service';
import {
  ApplyPresetInput,
  applyPresetSchema,
  IdpSettingsInput,
  IdpSettingsPatch,
  idpSettingsPatchSchema,
  idpSettingsSchema,
  SimulateInput,
  simulateSchema,
} from './idp-settings.schemas';
import { IdpSettingsService } from './idp-settings.service';

const KNOWN_IDPS =
  'Settings exist only for IdPs auth has: an unknown IdP, or an id no IdP can have, is a 404 (problem+json); an IdP deleted in auth takes its settings with it.';

@ApiTags('provisioning-settings')
@ApiBearerAuth()
@Controller('api/v1/idps/:idp')
export class IdpSettingsController {
  constructor(
    private readonly settings: IdpSettingsService,
    private readonly directory: DirectoryClient,
  ) {}

  @Get('provisioning')
  @ApiOperation({
    summary: "An IdP's provisioning model, attribute mapping, JIT options and what it may change beyond what it owns",
    description: `The stored settings (origin api) or the environment's defaults (origin environment). ${KNOWN_IDPS}`,
  })
  get(@Param('idp') idp: string) {
    return this.settings.get(idp);
  }

  @Put('provisioning')
  @ApiOperation({
    summary: "Replace an IdP's provisioning settings with a whole document",
    description:
      "Every member is required (a missing one is a 400 naming it, and nothing changes): PUT replaces, it never fills a gap with a default. To change some members only, use PATCH. A login changes only what its IdP owns: its own users and groups. grantLocalGroups names the local groups it may put users in too; claimLocalUsers lets it link local accounts no IdP owns. Groups and accounts of other IdPs or connectors, and protected accounts, are never granted. Both apply to the IdP's User Sync connector as well. Audited, before and after. " +
      KNOWN_IDPS,
  })
  @ApiZodBody(idpSettingsSchema)
  put(@Param('idp') idp: string, @Body(new ZodPipe(idpSettingsSchema)) body: IdpSettingsInput, @Actor() actor: string) {
    return this.settings.put(idp, body, actor);
  }

  @Patch('provisioning')
  @Consumes('application/merge-patch+json', 'application/json')
  @ApiOperation({
    summary: "Change some of an IdP's provisioning settings (JSON merge patch, RFC 7396)",
    description:
      'The body (application/merge-patch+json, or application/json read the same way) is merged into the settings in force: members it names replace theirs, objects (the mapping and the objects in it) merge member by member, null removes a member, which then takes its default where it has one (the Keycloak mapping, updateOnLogin true, no grants; the model has none), lists are replaced whole. The result is checked exactly as a PUT document is: a 400 names the field and nothing changes. Any other media type is a 415. Audited, before and after. ' +
      KNOWN_IDPS,
  })
  @ApiZodBody(idpSettingsPatchSchema)
  patch(@Param('idp') idp: string, @Body(new ZodPipe(idpSettingsPatchSchema)) body: IdpSettingsPatch, @Actor() actor: string) {
    return this.settings.patch(idp, body, actor);
  }

  @Delete('provisioning')
  @ApiOperation({
    summary: "Put an IdP back to the defaults: its stored settings are removed (audited) and the environment's apply",
    description: `Answers the settings now in force (origin environment). ${KNOWN_IDPS}`,
  })
  reset(@Param('idp') idp: string, @Actor() actor: string) {
    return this.settings.reset(idp, actor);
  }

  @Post('provisioning/mapping-preset')
  @HttpCode(200)
  @ApiOperation({
    summary: "Replace an IdP's attribute mapping with a preset's (Keycloak, Entra ID/ADFS, Okta, Google, generic OIDC)",
    description:
      "For an IdP added without a preset, or one whose family's mapping is wanted again: the preset's mapping replaces the mapping in force; the model, grants and updateOnLogin stay. Answers the settings now in force. Audited (idp-settings.updated, naming the preset). GET /api/v1/mapping-presets shows each preset's mapping first; docs/idps/ says what to configure at each IdP. " +
      KNOWN_IDPS,
  })
  @ApiZodBody(applyPresetSchema)
  applyPreset(@Param('idp') idp: string, @Body(new ZodPipe(applyPresetSchema)) body: ApplyPresetInput, @Actor() actor: string) {
    return this.settings.applyPreset(idp, body.preset, actor);
  }

  /**
   * What a login with these attributes would do, writing nothing: the mapped identity or the
   * denial, and (JIT) the user and group changes the directory would make, before and after.
   */
  @Post('simulate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Mapping simulator: what provisioning would do with this login, without writing anything (with what it would refuse: notices, account_not_owned)',
    description: KNOWN_IDPS,
  })
  @ApiZodBody(simulateSchema)
  async simulate(@Param('idp') idp: string, @Body(new ZodPipe(simulateSchema)) body: SimulateInput) {
    const s = await this.settings.get(idp);
    let login: { subject: string; attributes: Record<string, string[]>; protocol?: 'saml' | 'oidc'; subjectFormat?: string };
    if (body.traceId) {
      const trace = await this.directory.loginTrace(body.traceId);
      if (!trace.found || !trace.subject) throw new NotFoundException(`traceId: no login trace ${body.traceId} with a validated subject`);
      // Another IdP's login is keyed and mapped by that IdP's settings, not this one's.
      if (trace.idp !== idp)
        throw new BadRequestException(
          `traceId: login trace ${body.traceId} is a login at identity provider ${trace.idp}; simulate it at /api/v1/idps/${trace.idp}/simulate`,
        );
      let subjectFormat = trace.subjectFormat ?? undefined;
      if (trace.protocol === 'saml' && !subjectFormat) {
        // A trace from before traces kept the subject's format: an IdP keyed on an attribute keyed this one so too.
        const policy = await this.subjectPolicy(idp);
        if (policy.found && policy.subjectAttribute) subjectFormat = `attribute:${policy.subjectAttribute}`;
      }
      login = { subject: trace.subject, attributes: trace.attributes ?? {}, protocol: trace.protocol, subjectFormat };
    } else if (body.assertionXml) {
      let content;
      try {
        content = readSamlLogin(body.assertionXml);
      } catch (err) {
        throw new BadRequestException(`assertionXml: ${(err as Error).message}`);
      }
      // Keyed as this IdP's logins are: its NameID format and subjectAttribute, from auth.
      const policy = await this.subjectPolicy(idp);
      try {
        login = {
          ...keyedLogin(content, policy.found ? { requestedFormat: policy.nameIdFormat, subjectAttribute: policy.subjectAttribute } : {}),
          protocol: 'saml',
        };
      } catch (err) {
        if (err instanceof SubjectRefusal) return { model: s.model, outcome: 'rejected', code: err.code, reason: err.message };
        throw err;
      }
    } else {
      login = { subject: body.subject!, attributes: body.attributes ?? {}, protocol: body.protocol, subjectFormat: body.subjectFormat };
    }
    const mapped = mapIdentity(login.subject, login.attributes, s.mapping, login);
    if (!mapped.ok) return { model: s.model, outcome: 'rejected', code: mapped.code, reason: mapped.reason };
    // The same grants as a login, so the simulator refuses (and notes) what a login would.
    if (s.model !== 'jit') {
      const found = await this.directory.resolveUser({
        source: idp,
        externalId: login.subject,
        username: mapped.identity.username ?? login.subject,
        dryRun: true,
        claimLocalUsers: s.claimLocalUsers,
      });
      const outcome = found.status === 'found' ? 'signed-in' : 'rejected';
      return { model: s.model, identity: mapped.identity, outcome, directory: found };
    }
    const reply = await this.directory.provisionUser({ ...provisionRequest(idp, login.subject, mapped.identity, s, 'simulator'), dryRun: true });
    const notices = absentNotices(mapped.identity, s.mapping);
    return {
      model: s.model,
      identity: mapped.identity,
      outcome: reply.status === 'provisioned' ? (reply.created ? 'created' : reply.changed ? 'updated' : 'unchanged') : 'rejected',
      directory: reply,
      ...(reply.status === 'error' && reply.code === 'no_username' ? { code: 'no_username', reason: noUsernameReason(s.mapping, login) } : {}),
      ...(notices.length ? { absent: notices } : {}),
    };
  }

  /** How auth keys this IdP's SAML logins; a 503 when auth cannot be asked (never a guess). */
  private subjectPolicy(idp: string) {
    return this.directory.idpSubjectPolicy(idp).catch((err: Error) => {
      throw new ServiceUnavailableException(`could not ask auth how identity provider ${idp} keys its users (${err.message}); try again`);
    });
  }
}
