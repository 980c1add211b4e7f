import { Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { Actor, ApiZodQuery, keysetPage, pageQuery, ZodPipe } from '@bridgekeeper/platform';
import { SyncRunEntity } from './sync-run.entity';
import { SyncService } from './sync.service';

const listRuns = z
  .object({
    ...pageQuery,
    connectorId: z.string().max(64).optional(),
    status: z.enum(['running', 'applied', 'held', 'failed', 'dry-run', 'discarded', 'approved']).optional(),
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
    return keysetPage(qb, { ds: this.db, listing: 'provisioning.sync-runs', alias: 'r', column: 'started_at', property: 'startedAt', isDate: true, descending: true, limit: q.limit, cursor: q.cursor, map: (r) => r });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One run, with its progress while it runs' })
  get(@Param('id') id: string) {
    return this.sync.get(id);
  }

  @Post(':id/approve')
  @ApiOperation({ summary: 'Apply a held run: a new run applies the current plan past the safety threshold' })
  async approve(@Param('id') id: string, @Actor() actor: string, @Res({ passthrough: true }) res: Response) {
    const { run } = await this.sync.approve(id, actor);
    res.status(202).setHeader('Location', `/api/v1/sync-runs/${run.id}`);
    return run;
  }

  @Post(':id/discard')
  @HttpCode(200)
  @ApiOperation({ summary: 'Discard a held run: nothing is applied' })
  discard(@Param('id') id: string, @Actor() actor: string) {
    return this.sync.discard(id, actor);
  }
}
