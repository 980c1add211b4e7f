import { Controller, Delete, Get, HttpCode, NotFoundException, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { writeAudit } from '@bridgekeeper/data';
import { Actor } from '@bridgekeeper/admin-api';
import { SessionEntity } from './session.entity';
import { SessionService } from './session.service';

const view = (s: SessionEntity) => ({ id: s.id, userId: s.userId, idp: s.idp, subject: s.nameId, createdAt: s.createdAt, expiresAt: s.expiresAt });

/** Admins see and end a user's sessions (offboarding by hand, a lost laptop); every end is audited. */
@ApiTags('sessions')
@ApiBearerAuth()
@Controller('api/v1')
export class SessionsAdminController {
  constructor(
    private readonly sessions: SessionService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Get('users/:userId/sessions')
  @ApiOperation({ summary: "A directory user's live sessions (never their tokens)" })
  async list(@Param('userId') userId: string) {
    return { items: (await this.sessions.liveSessionsOf(userId)).map(view) };
  }

  @Delete('users/:userId/sessions')
  @ApiOperation({
    summary: 'End every live session of a user, on every auth instance at once (audited). Disabling or deleting the user in the directory does this by itself.',
  })
  async endAll(@Param('userId') userId: string, @Actor() actor: string) {
    const ended = await this.sessions.endAllOf(userId);
    if (ended.length)
      await writeAudit(this.db.manager, [{ actor, action: 'sessions.ended', targetType: 'user', targetId: userId, before: { sessions: ended } }]);
    return { ended: ended.length };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'End one session (audited); 404 when it is unknown or already ended' })
  async endOne(@Param('id') id: string, @Actor() actor: string) {
    const record = await this.sessions.record(id);
    if (!record) throw new NotFoundException(`no live session ${id}`);
    await this.sessions.end(id);
    await writeAudit(this.db.manager, [
      { actor, action: 'session.ended', targetType: 'session', targetId: id, before: { userId: record.userId, idp: record.idp } },
    ]);
  }
}
