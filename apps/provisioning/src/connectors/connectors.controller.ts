import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { Actor, ApiZodBody, ApiZodQuery, ZodPipe } from '@bridgekeeper/admin-api';
import { SyncScheduler } from '../sync/sync.scheduler';
import { SyncService } from '../sync/sync.service';
import { CreateConnector, createConnectorSchema, saveQuerySchema, syncQuerySchema, UpdateConnector, updateConnectorSchema } from './connector.schemas';
import { connectorView, ConnectorsService } from './connectors.service';

@ApiTags('connectors')
@ApiBearerAuth()
@Controller('api/v1/connectors')
export class ConnectorsController {
  constructor(
    private readonly connectors: ConnectorsService,
    private readonly sync: SyncService,
    private readonly scheduler: SyncScheduler,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Keycloak User Sync connectors (secrets never returned)' })
  list() {
    return this.connectors.list();
  }

  @Post()
  @ApiOperation({
    summary: 'Add a Keycloak connector for an IdP',
    description:
      'Checked before it is stored: `idp` must be an IdP auth has, Keycloak must accept the realm, client and secret (the connection test), and every `requiredGroups` path must exist in the realm; else 422 problem+json whose `errors` name each field with what Keycloak said, and nothing is stored. Without `schedule` a connector runs hourly (`0 * * * *`), which the answer shows; `schedule: ""` for on demand only.',
  })
  @ApiZodBody(createConnectorSchema)
  @ApiZodQuery(saveQuerySchema)
  async create(
    @Body(new ZodPipe(createConnectorSchema)) body: CreateConnector,
    @Query(new ZodPipe(saveQuerySchema)) q: z.infer<typeof saveQuerySchema>,
    @Actor() actor: string,
  ) {
    const created = await this.connectors.create(body, actor, { verify: q.verify });
    await this.scheduler.connectorChanged(created.id, 'created', actor);
    return created;
  }

  @Get(':id')
  @ApiOperation({ summary: 'One connector' })
  async get(@Param('id') id: string) {
    return connectorView(await this.connectors.get(id));
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a connector (a new clientSecret replaces the stored one)',
    description:
      'A change of `idp`, `baseUrl`, `realm`, `clientId`, `clientSecret`, `requiredGroups`, `attributes` (or turning a changes schedule on) is checked like a new connector (422, nothing stored); other settings (enabled, schedule, naming, …) are saved without asking Keycloak. Every provisioning instance follows schedule, enable and disable changes at once (`sync.connector.changed`).',
  })
  @ApiZodBody(updateConnectorSchema)
  @ApiZodQuery(saveQuerySchema)
  async update(
    @Param('id') id: string,
    @Body(new ZodPipe(updateConnectorSchema)) body: UpdateConnector,
    @Query(new ZodPipe(saveQuerySchema)) q: z.infer<typeof saveQuerySchema>,
    @Actor() actor: string,
  ) {
    const updated = await this.connectors.update(id, body, actor, { verify: q.verify });
    await this.scheduler.connectorChanged(id, 'updated', actor);
    return updated;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a connector (its users stay in the directory)' })
  async remove(@Param('id') id: string, @Actor() actor: string) {
    await this.connectors.remove(id, actor);
    await this.scheduler.connectorChanged(id, 'deleted', actor);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check reachability, credentials, the service account roles and attribute policy' })
  async test(@Param('id') id: string) {
    const c = await this.connectors.get(id);
    return this.connectors.client(c).check(c.options.attributes, { changes: c.changesSchedule !== '', requiredGroups: c.options.requiredGroups });
  }

  @Post(':id/sync')
  @ApiOperation({
    summary:
      "Run User Sync now (409 when the connector is disabled or a run is going); dryRun=true answers the plan and writes nothing; mode=changes reads only what Keycloak's events name since the last run",
  })
  @ApiZodQuery(syncQuerySchema)
  async run(
    @Param('id') id: string,
    @Query(new ZodPipe(syncQuerySchema)) q: z.infer<typeof syncQuerySchema>,
    @Actor() actor: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { run, done } = await this.sync.start(id, { dryRun: q.dryRun, mode: q.mode, trigger: 'api', requestedBy: actor });
    if (q.dryRun) {
      res.status(200);
      return done;
    }
    res.status(202).setHeader('Location', `/api/v1/sync-runs/${run.id}`);
    return run;
  }
}
