import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import { AdminPrincipal, AdminRole, generateAdminToken, parseAdminToken, secretMatches, TokenVerifier } from '@bridgekeeper/admin-api';
import { ChangeLog } from '../audit/change-log.service';
import { ApiTokenEntity } from './api-token.entity';

export const tokenView = (t: ApiTokenEntity) => ({
  id: t.id,
  name: t.name,
  role: t.role,
  createdAt: t.createdAt,
  createdBy: t.createdBy,
  lastUsedAt: t.lastUsedAt,
  revokedAt: t.revokedAt,
});

/** Admin API tokens: created by the CLI or an admin, stored hashed, revocable, audited. */
@Injectable()
export class TokensService extends TokenVerifier {
  constructor(
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
    private readonly changes: ChangeLog,
  ) {
    super();
  }

  /** The token itself is returned here only; afterwards only its hash exists. */
  async create(name: string, role: AdminRole, actor: string) {
    const { id, token, secretHash } = generateAdminToken();
    const row = this.tokens.create({ id, name, role, secretHash, createdAt: new Date(), createdBy: actor, lastUsedAt: null, revokedAt: null });
    await this.changes.run(async (em, changes) => {
      await em.insert(ApiTokenEntity, row);
      changes.push({ actor, action: 'token.created', targetType: 'token', targetId: id, after: { name, role } });
    });
    return { ...tokenView(row), token };
  }

  async list() {
    return (await this.tokens.find({ order: { createdAt: 'ASC' } })).map(tokenView);
  }

  async revoke(id: string, actor: string) {
    return this.changes.run(async (em, changes) => {
      const row = await em.findOneBy(ApiTokenEntity, { id });
      if (!row) throw new NotFoundException(`no token ${id}`);
      if (!row.revokedAt) {
        row.revokedAt = new Date();
        await em.update(ApiTokenEntity, { id }, { revokedAt: row.revokedAt });
        changes.push({ actor, action: 'token.revoked', targetType: 'token', targetId: id, before: { name: row.name, role: row.role } });
      }
      return tokenView(row);
    });
  }

  async verify(token: string): Promise<AdminPrincipal | null> {
    const parsed = parseAdminToken(token);
    if (!parsed) return null;
    const row = await this.tokens.findOneBy({ id: parsed.id, revokedAt: IsNull() });
    if (!row || !secretMatches(parsed.secret, row.secretHash)) return null;
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) {
      await this.tokens.update({ id: row.id }, { lastUsedAt: new Date() });
    }
    return { tokenId: row.id, name: row.name, role: row.role };
  }
}
