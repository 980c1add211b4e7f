import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Actor, ADMIN_ROLES, ApiZodBody, ZodPipe } from '@bridgekeeper/admin-api';
import { AdminOnly } from '@bridgekeeper/platform';
import { TokensService } from './tokens.service';

const createToken = z.object({ name: z.string().trim().min(1).max(100), role: z.enum(ADMIN_ROLES as ['admin', 'read-only']) }).strict();

@ApiTags('tokens')
@ApiBearerAuth()
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @AdminOnly()
  @ApiOperation({ summary: 'Admin API tokens (never their secrets)' })
  list() {
    return this.tokens.list();
  }

  @Post()
  @ApiOperation({ summary: 'Create a token; the response is the only time the token is shown' })
  @ApiZodBody(createToken)
  create(@Body(new ZodPipe(createToken)) body: z.infer<typeof createToken>, @Actor() actor: string) {
    return this.tokens.create(body.name, body.role, actor);
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Revoke a token: it stops working at once, on every service',
    description:
      'The directory refuses it from the commit on, and publishes `directory.token.revoked`, on which every auth and provisioning instance drops it from its verification cache. Their 30 s cache is only the fallback for an instance that missed the event (NATS away). Revoking a revoked token changes nothing.',
  })
  revoke(@Param('id') id: string, @Actor() actor: string) {
    return this.tokens.revoke(id, actor);
  }
}
