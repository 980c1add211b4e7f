import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SeatsService } from './seats.service';

@ApiTags('seats')
@ApiBearerAuth()
@Controller('api/v1/seats')
export class SeatsController {
  constructor(private readonly seats: SeatsService) {}

  @Get()
  @ApiOperation({ summary: 'Licence seats: used by active users, the limit, and what is left' })
  report() {
    return this.seats.report();
  }
}
