import type { z } from 'zod';
import type { EventContract } from '@bridgekeeper/contracts';
import { EVENT_ROLES, RPC_ROLES } from './roles';
import { alternatives, cell, fieldRows, fieldTable, jsonSchema, table } from './schema';

/** A request/reply command of the catalogue. */
export interface RpcContract {
  subject: string;
  request: z.ZodType;
  reply: z.ZodType;
}

/** The anchor GitHub gives a heading: lower case, punctuation but `-` and `_` dropped (`user.authenticated` → `userauthenticated`). */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9_ -]/g, '')
    .replace(/ /g, '-');

function payload(schema: z.ZodType, io: 'input' | 'output'): string {
  return alternatives(jsonSchema(schema, io))
    .map((alt) => (alt.label ? `*${alt.label}*\n\n${fieldTable(fieldRows(alt.schema))}` : fieldTable(fieldRows(alt.schema))))
    .join('\n\n');
}

/**
 * Every event and every request/reply command of libs/contracts' catalogue: a table of subjects,
 * then each payload's fields from its zod schema. Events that share one payload schema (every
 * `directory.*` change) share one section.
 */
export function renderEvents(events: readonly EventContract[], rpcs: readonly RpcContract[]): string {
  const missing = [...events.map((e) => e.subject).filter((s) => !EVENT_ROLES[s]), ...rpcs.map((r) => r.subject).filter((s) => !RPC_ROLES[s])];
  const stale = [
    ...Object.keys(EVENT_ROLES).filter((s) => !events.some((e) => e.subject === s)),
    ...Object.keys(RPC_ROLES).filter((s) => !rpcs.some((r) => r.subject === s)),
  ];
  if (missing.length || stale.length) {
    throw new Error(
      `tools/reference-docs/roles.ts: ${[...missing.map((s) => `${s} is not described`), ...stale.map((s) => `${s} is not in the catalogue`)].join('; ')}`,
    );
  }

  // One payload section per schema: the first event that uses it names the section.
  const sections = new Map<z.ZodType, EventContract[]>();
  for (const e of events) sections.set(e.data, [...(sections.get(e.data) ?? []), e]);
  /** A section's heading: the subject, or for several the part they share (`directory.*`). */
  const heading = (group: EventContract[]) => {
    if (group.length === 1) return group[0].subject;
    const parts = group.map((e) => e.subject.split('.'));
    const shared = parts[0].filter((p, i) => parts.every((q) => q[i] === p));
    return `${shared.join('.')}.*`;
  };
  const sectionOf = (e: EventContract) => heading(sections.get(e.data)!);

  const eventTable = table(
    ['subject', 'v', 'stream', 'published by', 'consumed by', 'meaning', 'payload'],
    events.map((e) => [
      `\`${e.subject}\``,
      String(e.v),
      `\`${e.stream}\``,
      cell(EVENT_ROLES[e.subject].publishedBy),
      cell(EVENT_ROLES[e.subject].consumedBy),
      cell(e.description),
      `[fields](#${anchor(sectionOf(e))})`,
    ]),
  );
  const rpcTable = table(
    ['subject', 'served by (queue group)', 'called by', 'meaning', 'payload'],
    rpcs.map((r) => {
      const roles = RPC_ROLES[r.subject];
      return [`\`${r.subject}\``, `${roles.servedBy} (\`${roles.servedBy}\`)`, cell(roles.calledBy), cell(roles.meaning), `[fields](#${anchor(r.subject)})`];
    }),
  );

  const eventPayloads = [...sections.values()].map((group) => {
    const names = group.map((e) => `\`${e.subject}\``).join(', ');
    return `#### \`${heading(group)}\`\n\nThe payload (\`data\`) of ${names}.\n\n${payload(group[0].data, 'input')}`;
  });
  const rpcPayloads = rpcs.map((r) => `#### \`${r.subject}\`\n\nRequest:\n\n${payload(r.request, 'input')}\n\nReply:\n\n${payload(r.reply, 'input')}`);

  return [
    '### Events',
    'Each travels in the envelope `{ id, v, occurredAt, source, data }`; the fields below are its `data`. *Required*: the sender must send the field (one with a default may be left out: the receiver reads the default).',
    eventTable,
    '### Request/reply commands',
    rpcTable,
    '### Event payloads',
    ...eventPayloads,
    '### Command payloads',
    ...rpcPayloads,
  ].join('\n\n');
}
