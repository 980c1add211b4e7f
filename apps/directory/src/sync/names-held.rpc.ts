import { Controller } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { z } from 'zod';
import { DirectoryRpc, NamesHeldReply } from '@bridgekeeper/contracts';
import { RpcHandler } from '@bridgekeeper/messaging';
import { nameKeys } from '@bridgekeeper/names';
import { UserEntity } from '../users/user.entity';
import { inChunks } from '@bridgekeeper/data';

type Reply = NamesHeldReply;
type Holder = Reply['held'][number]['holders'][number];

const holderOf = (u: UserEntity): Holder => ({
  id: u.id,
  source: u.source,
  externalId: u.externalId,
  username: u.username,
  email: u.email,
  active: u.active,
  protected: u.protected,
});

/**
 * Who holds the names a held User Sync plan gives users: for a username the account of that name
 * (any case) and any whose name looks like it (either lookalike key), for an email the account
 * with that address. Reads only; every account counts, whatever its source.
 */
@Controller()
export class NamesHeldRpc {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @RpcHandler(DirectoryRpc.namesHeld)
  async namesHeld(req: z.output<typeof DirectoryRpc.namesHeld.request>): Promise<Reply> {
    const users = this.db.getRepository(UserEntity);
    const held: Reply['held'] = [];
    // Looked up as stored (NFC, lower case); answered as asked.
    const lookup = (name: string) => name.normalize('NFC').toLowerCase();
    const usernames = [...new Set(req.usernames)].map((asked) => ({ asked, lower: lookup(asked), keys: nameKeys(lookup(asked)) }));
    const byKey = new Map<string, Map<string, UserEntity>>();
    const index = (key: string | null, u: UserEntity) => {
      if (!key) return;
      if (!byKey.has(key)) byKey.set(key, new Map());
      byKey.get(key)!.set(u.id, u);
    };
    await inChunks(usernames, 300, async (chunk) => {
      const keys = chunk.flatMap((n) => [n.keys.folded, n.keys.shown]);
      const rows = await users.findBy([{ usernameLower: In(chunk.map((n) => n.lower)) }, { usernameSkeleton: In(keys) }, { usernameSkeletonShown: In(keys) }]);
      for (const u of rows) {
        index(`=${u.usernameLower}`, u);
        index(u.usernameSkeleton, u);
        index(u.usernameSkeletonShown, u);
      }
    });
    for (const n of usernames) {
      const holders = new Map<string, UserEntity>();
      for (const key of [`=${n.lower}`, n.keys.folded, n.keys.shown]) for (const [id, u] of byKey.get(key) ?? []) holders.set(id, u);
      if (holders.size) held.push({ kind: 'username', name: n.asked, holders: [...holders.values()].map(holderOf) });
    }
    const emails = [...new Set(req.emails)];
    const byEmail = new Map<string, UserEntity>();
    await inChunks([...new Set(emails.map(lookup))], 500, async (chunk) => {
      for (const u of await users.findBy({ emailLower: In(chunk) })) byEmail.set(u.emailLower!, u);
    });
    for (const asked of emails) {
      const u = byEmail.get(lookup(asked));
      if (u) held.push({ kind: 'email', name: asked, holders: [holderOf(u)] });
    }
    return { held };
  }
}
