import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ProcessedEventEntity } from './processed-event.entity';

/** What provisioning did with one login (the user.authenticated event id a login trace names). */
@ApiTags('events')
@ApiBearerAuth()
@Controller('api/v1/events')
export class ProcessedEventsController {
  constructor(@InjectRepository(ProcessedEventEntity) private readonly processed: Repository<ProcessedEventEntity>) {}

  @Get(':id')
  @ApiOperation({ summary: 'The outcome of a handled event (404 while it is not handled yet)' })
  async get(@Param('id') id: string) {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.processed.findOneBy({ eventId: id }) : null;
    if (!row) throw new NotFoundException(`event ${id} has not been handled (yet)`);
    return row;
  }
}
