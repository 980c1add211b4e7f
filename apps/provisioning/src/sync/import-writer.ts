import { IdpGroup, IdpUser, ImportWhileReading, MembershipAdd, Release } from '@bridgekeeper/provisioning-model';
import { DirectoryClient } from '../directory-client/directory.client';
import { ApplyQueue } from './apply-queue';

export type Batch = Parameters<DirectoryClient['syncApply']>[0];

const BATCH = { users: 500, memberships: 5000 };

/**
 * A first run's writes while Keycloak is read (`ImportWhileReading` decides what): each page of
 * users as one batch per 500, a group to create as a batch of its own (its memberships wait until
 * it is applied: two batches in flight must not both create it, nor add to it before it exists),
 * the memberships that became ready in batches of 5,000. Everything goes through the run's queue,
 * so it shares the run's two batches in flight and its first failure.
 */
export class ImportWriter {
  private readonly ready: MembershipAdd[] = [];
  private closed = false;

  constructor(
    readonly plan: ImportWhileReading,
    private readonly queue: ApplyQueue<Batch>,
    private readonly source: string,
    private readonly actor: string,
  ) {}

  users(page: IdpUser[]): void {
    if (this.closed) return;
    const fields = this.plan.users(page);
    for (let i = 0; i < fields.length; i += BATCH.users) this.queue.push([{ source: this.source, actor: this.actor, upsert: fields.slice(i, i + BATCH.users) }]);
  }

  members(group: IdpGroup, ids: string[]): void {
    if (this.closed) return;
    this.release(this.plan.members(group, ids));
  }

  /** After each applied batch: created users and created groups let their waiting memberships go. */
  applied(batch: Batch): void {
    if (batch.upsert?.length) this.release(this.plan.applied(batch.upsert.map((u) => u.externalId)));
    if (batch.groupsToCreate?.length) this.add(this.plan.groupsCreated(batch.groupsToCreate), false);
  }

  /**
   * Once the read has ended (or failed: a group read still under way then adds nothing more):
   * sends what is still held back and waits until everything is applied (rejects with the run's
   * first failure).
   */
  async finish(): Promise<void> {
    this.closed = true;
    do {
      this.add([], true);
      await this.queue.drained();
    } while (this.ready.length);
  }

  private release({ send, create }: Release): void {
    if (create.length) this.queue.push([{ source: this.source, actor: this.actor, groupsToCreate: create }]);
    this.add(send, false);
  }

  private add(adds: MembershipAdd[], all: boolean): void {
    for (const a of adds) this.ready.push(a);
    while (this.ready.length >= BATCH.memberships || (all && this.ready.length)) {
      this.queue.push([{ source: this.source, actor: this.actor, addMemberships: this.ready.splice(0, BATCH.memberships) }]);
    }
  }
}
