import 'reflect-metadata';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessagingModule } from '@bridgekeeper/messaging';
import { databaseOptions } from '@bridgekeeper/data';
import { ADMIN_ROLES, AdminRole } from '@bridgekeeper/admin-api';
import { hashPassword, runService } from '@bridgekeeper/platform';
import { AuditModule } from './audit/audit.module';
import { DIRECTORY_CONFIG, loadDirectoryConfig } from './config/directory.config';
import { DIRECTORY_ENTITIES, DIRECTORY_MIGRATIONS } from './database';
import { TokensModule } from './tokens/tokens.module';
import { TokensService } from './tokens/tokens.service';

const USAGE = `Bridgekeeper admin CLI (reads the same DATABASE_URL / DATA_DIR as the directory)

  pnpm bk tokens create --name <name> --role admin|read-only   prints the token once
  pnpm bk tokens list
  pnpm bk tokens revoke <id>
  pnpm bk hash-password            reads a password on stdin, prints AUTH_BREAK_GLASS_PASSWORD_HASH
`;

runService(async () => {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, role: { type: 'string' }, help: { type: 'boolean' } },
  });
  const [area, verb, arg] = positionals;
  if (area === 'hash-password') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (password.length < 12) throw new Error('use a password of at least 12 characters');
    process.stdout.write(`${hashPassword(password)}\n`);
    return;
  }
  if (values.help || area !== 'tokens' || !['create', 'list', 'revoke'].includes(verb ?? '')) {
    process.stdout.write(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const config = loadDirectoryConfig();

  @Module({
    imports: [
      TypeOrmModule.forRootAsync({
        useFactory: () => databaseOptions({ service: config.service, ...config.database, entities: DIRECTORY_ENTITIES, migrations: DIRECTORY_MIGRATIONS }),
      }),
      MessagingModule.forRootAsync({ useFactory: () => ({ servers: config.nats.url, service: 'directory-cli' }) }),
      AuditModule,
      TokensModule,
    ],
    // Global, as in the service: the audit module's outbox relay reads it too.
    providers: [{ provide: DIRECTORY_CONFIG, useValue: config }],
    exports: [DIRECTORY_CONFIG],
  })
  @Global()
  class CliModule {}

  const app = await NestFactory.createApplicationContext(CliModule, { logger: ['error'] });
  try {
    const tokens = app.get(TokensService);
    const actor = `cli:${userInfo().username}`;
    if (verb === 'create') {
      const role = values.role as AdminRole;
      if (!values.name?.trim() || !ADMIN_ROLES.includes(role)) throw new Error(`--name and --role (${ADMIN_ROLES.join(' or ')}) are required\n\n${USAGE}`);
      const created = await tokens.create(values.name.trim().slice(0, 100), role, actor);
      process.stdout.write(`created ${created.role} token ${created.id} (${created.name}); it is shown only now:\n${created.token}\n`);
    } else if (verb === 'list') {
      for (const t of await tokens.list()) process.stdout.write(`${t.id}  ${t.role.padEnd(9)}  ${t.revokedAt ? 'revoked' : 'active '}  ${t.name}\n`);
    } else {
      if (!arg) throw new Error(`revoke needs a token id\n\n${USAGE}`);
      const t = await tokens.revoke(arg, actor);
      process.stdout.write(`revoked ${t.id} (${t.name})\n`);
    }
  } finally {
    await app.close();
  }
});
