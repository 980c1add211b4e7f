import { outboxBatch, outboxRow } from './outbox-batch.entity';

describe('outbox batch rows', () => {
  const at = new Date('2026-11-29T12:00:00Z');
  const messages = [
    {
      msgId: '01a2-one',
      subject: 'directory.user.created',
      data: JSON.stringify({ id: '01a2-one', data: { after: { note: 'two\nlines, "quoted" and a space' } } }),
    },
    { msgId: '01a2-two', subject: 'directory.membership.added', data: '{"id":"01a2-two"}' },
  ];

  it('gives back every event as written, in order, under the first event id', () => {
    const row = outboxRow(messages, at);
    expect(row).toMatchObject({ id: '01a2-one', createdAt: at, publishedAt: null });
    expect(row.events.split('\n')).toHaveLength(2);
    expect(outboxBatch(row)).toEqual({ id: '01a2-one', messages });
  });

  it('refuses what would break the line format', () => {
    expect(() => outboxRow([{ ...messages[1], subject: 'directory.user created' }], at)).toThrow('cannot hold white space');
    expect(() => outboxRow([{ ...messages[1], msgId: 'a\nb' }], at)).toThrow('cannot hold white space');
    expect(() => outboxRow([{ ...messages[1], data: '{\n}' }], at)).toThrow('line break');
  });
});
