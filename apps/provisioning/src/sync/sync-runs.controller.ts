import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { keysetPage, pageQuery } from '@bridgekeeper/data';
import { Actor, ApiZodBody, ApiZodQuery, ZodPipe } from '@bridgekeeper/admin-api';
import { SYNC_RUN_STATUSES, SyncRunEntity } from './sync-run.entity';
import { SyncService } from './sync.service';

const listRuns = z
  .object({
    ...pageQuery,
    connectorId: z.string().max(64).optional(),
    status: z.enum(SYNC_RUN_STATUSES).optional(),
  })
  .strict();

const approveBody = z
  .object({
    planDigest: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'the planDigest of the held run (64 hex digits)')
      .describe('the `planDigest` of the held run, as GET showed it: the approval applies exactly that plan'),
  })
  .strict();

@ApiTags('sync-runs')
@ApiBearerAuth()
@Controller('api/v1/sync-runs')
export class SyncRunsController {
  constructor(
    private readonly sync: SyncService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get()
  @ApiOperation({ summary: 'History of sync runs, newest first: status, progress, counts, plan, errors' })
  @ApiZodQuery(listRuns)
  list(@Query(new ZodPipe(listRuns)) q: z.infer<typeof listRuns>) {
    const qb = this.db.getRepository(SyncRunEntity).createQueryBuilder('r');
    if (q.connectorId) qb.andWhere('r.connector_id = :c', { c: q.connectorId });
    if (q.status) qb.andWhere('r.status = :s', { s: q.status });
    return keysetPage(qb, {
      ds: this.db,
      listing: 'provisioning.sync-runs',
      alias: 'r',
      column: 'started_at',
      property: 'startedAt',
      isDate: true,
      descending: true,
      limit: q.limit,
      cursor: q.cursor,
      map: (r) => r,
    });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One run, with its progress while it runs' })
  get(@Param('id') id: string) {
    return this.sync.get(id);
  }

  @Get(':id/plan')
  @ApiOperation({
    summary:
      "A held run's whole plan (the run shows the first 200 entries of each list), with the digest an approval quotes; 404 for a run without a stored plan",
  })
  plan(@Param('id') id: string) {
    return this.sync.heldPlan(id);
  }

  @Post(':id/approve')
  @ApiOperation({
    summary: "Apply a held run's plan, exactly as shown, once",
    description:
      "Quote the run's `planDigest` (SHA-256 of the run id and its plan: it names this run only). A new run (trigger `approval`, 202 with its Location) applies exactly the stored plan: Keycloak is not read again. " +
      '409, nothing applied and the run still held, when the run is not held (already approved, discarded, superseded by a newer run, or never held), was held without a plan (Keycloak failed or timed out) or by an earlier version, ' +
      "the digest is not this run's plan's, the connector changed since, a run of the connector is going, the IdP's provisioning settings changed since, a username (or a lookalike) or email the plan gives a user changed hands since, " +
      'or the directory changed since the plan (a user it changes or creates is no longer in the state it was planned from, a group it creates exists now): start a new run, which plans and checks afresh. ' +
      'Of concurrent approvals and discards one wins; the approval is audited with its actor. If applying fails and nothing was applied, the run is held again (`sync-run.held-again`).',
  })
  @ApiZodBody(approveBody)
  async approve(
    @Param('id') id: string,
    @Body(new ZodPipe(approveBody)) body: z.infer<typeof approveBody>,
    @Actor() actor: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { run } = await this.sync.approve(id, actor, body.planDigest);
    res.status(202).setHeader('Location', `/api/v1/sync-runs/${run.id}`);
    return run;
  }

  @Post(':id/discard')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Discard a held run: nothing is applied',
    description: '409 when the run is not held, or an approval took it first (one conditional update decides between them).',
  })
  discard(@Param('id') id: string, @Actor() actor: string) {
    return this.sync.discard(id, actor);
  }
}
