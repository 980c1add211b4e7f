import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Events written in the same transaction as the change they describe, published afterwards. */
@Entity({ name: 'outbox_events' })
export class OutboxEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128 })
  subject: string;

  /** The whole envelope, JSON. */
  @Column({ type: 'text' })
  payload: string;

  @Column({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'published_at', type: Date, nullable: true })
  publishedAt: Date | null;
}
