import { Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { dbDate, keysetPage, pageQuery } from '@bridgekeeper/data';
import { ApiZodQuery, ZodPipe } from '@bridgekeeper/admin-api';
import { LoginTraceEntity } from './login-trace.entity';
import { LoginTraceService } from './login-trace.service';

const listTraces = z
  .object({
    ...pageQuery,
    status: z.enum(['started', 'succeeded', 'failed']).optional(),
    idp: z.string().max(64).optional(),
    reasonCode: z.string().max(64).optional().describe('e.g. signature, destination, provisioning_timeout'),
    since: z.iso.datetime().optional().describe('started at or after (ISO 8601)'),
  })
  .strict();

/** Admins look up the trace id an error page showed, or browse recent attempts. */
@ApiTags('login-traces')
@ApiBearerAuth()
@Controller('api/v1/login-traces')
export class LoginTracesController {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly traces: LoginTraceService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Recent login attempts, newest first' })
  @ApiZodQuery(listTraces)
  list(@Query(new ZodPipe(listTraces)) q: z.infer<typeof listTraces>) {
    const qb = this.db.getRepository(LoginTraceEntity).createQueryBuilder('t');
    if (q.status) qb.andWhere('t.status = :status', { status: q.status });
    if (q.idp) qb.andWhere('t.idp = :idp', { idp: q.idp });
    if (q.reasonCode) qb.andWhere('t.reason_code = :rc', { rc: q.reasonCode });
    if (q.since) qb.andWhere('t.started_at >= :since', { since: dbDate(this.db, new Date(q.since)) });
    return keysetPage(qb, {
      ds: this.db,
      listing: 'auth.login-traces',
      alias: 't',
      column: 'started_at',
      property: 'startedAt',
      isDate: true,
      descending: true,
      limit: q.limit,
      cursor: q.cursor,
      map: ({ requestMessage: _req, responseMessage: _res, ...t }) => t,
    });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One login attempt with every step and the reason it failed' })
  async get(@Param('id') id: string) {
    const trace = /^[0-9a-f-]{36}$/i.test(id) ? await this.traces.find(id) : null;
    if (!trace) throw new NotFoundException(`no login trace ${id}`);
    return this.traces.view(trace);
  }
}
