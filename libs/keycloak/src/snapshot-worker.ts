import { parentPort, workerData } from 'node:worker_threads';
import { KeycloakConnection, KeycloakConnector, KeycloakError } from './keycloak-connector';
import { packSnapshot } from './packed-snapshot';

/** What the reading thread is given. */
export interface SnapshotTask {
  conn: KeycloakConnection;
  attributes?: string[];
}

/** What it says back: progress as it reads, then the snapshot or why it failed. */
export type SnapshotMessage =
  | { kind: 'progress'; phase: string; done: number }
  | { kind: 'done'; snapshot: ReturnType<typeof packSnapshot> }
  | { kind: 'failed'; message: string; keycloak: boolean };

// The thread that reads a whole realm for User Sync (KeycloakConnector.snapshot). Everything the
// read allocates — every page's JSON text and parsed representations, several hundred MB at
// 100,000 users — lives and dies in this thread's heap, which ends with the read.
async function main(port: NonNullable<typeof parentPort>, task: SnapshotTask): Promise<void> {
  try {
    const snapshot = await new KeycloakConnector(task.conn).readSnapshot({
      attributes: task.attributes,
      onProgress: (phase, done) => port.postMessage({ kind: 'progress', phase, done } satisfies SnapshotMessage),
    });
    const packed = packSnapshot(snapshot);
    port.postMessage({ kind: 'done', snapshot: packed } satisfies SnapshotMessage, [packed.memberCounts.buffer as ArrayBuffer, packed.members.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ kind: 'failed', message: (err as Error).message, keycloak: err instanceof KeycloakError } satisfies SnapshotMessage);
  }
}

if (parentPort) void main(parentPort, workerData as SnapshotTask);
