import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { AuditEntryEntity, dbDate, keysetPage, pageQuery } from '@bridgekeeper/data';
import { ApiZodQuery, ZodPipe } from './zod-api';

const auditQuery = z
  .object({
    ...pageQuery,
    actor: z.string().max(128).optional().describe('e.g. admin-token:<id>, login:<traceId>'),
    action: z.string().max(64).optional().describe('e.g. user.created'),
    targetType: z.string().max(32).optional().describe('user, group, membership, property, token, connector, sync-run'),
    targetId: z.string().max(255).optional(),
    from: z.iso.datetime().optional().describe('at or after (ISO 8601)'),
    to: z.iso.datetime().optional().describe('before (ISO 8601)'),
  })
  .strict();

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get()
  @ApiOperation({ summary: 'The audit log, newest first, with filters' })
  @ApiZodQuery(auditQuery)
  list(@Query(new ZodPipe(auditQuery)) q: z.infer<typeof auditQuery>) {
    const qb = this.db.getRepository(AuditEntryEntity).createQueryBuilder('a');
    if (q.actor) qb.andWhere('a.actor = :actor', { actor: q.actor });
    if (q.action) qb.andWhere('a.action = :action', { action: q.action });
    if (q.targetType) qb.andWhere('a.target_type = :tt', { tt: q.targetType });
    if (q.targetId) qb.andWhere('a.target_id = :tid', { tid: q.targetId });
    if (q.from) qb.andWhere('a.at >= :from', { from: dbDate(this.db, new Date(q.from)) });
    if (q.to) qb.andWhere('a.at < :to', { to: dbDate(this.db, new Date(q.to)) });
    return keysetPage(qb, {
      ds: this.db,
      listing: 'audit',
      alias: 'a',
      column: 'at',
      property: 'at',
      isDate: true,
      descending: true,
      limit: q.limit,
      cursor: q.cursor,
      map: (a) => a,
    });
  }
}
