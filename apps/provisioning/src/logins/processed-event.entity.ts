import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Events already handled: a redelivered event is acknowledged without being applied twice. */
@Entity({ name: 'processed_events' })
export class ProcessedEventEntity {
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 36 })
  eventId: string;

  @Column({ type: 'varchar', length: 64 })
  subject: string;

  @Column({ type: 'varchar', length: 32 })
  outcome: string;

  @Column({ name: 'processed_at' })
  processedAt: Date;
}
