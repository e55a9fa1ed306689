/**
 * Rebuilds the recall index from the recall log in a worker thread: the rebuild reads every
 * record, holds tens of thousands of them in an in-memory segment at a time and writes and
 * merges segments, and on the extension host's thread its work and its garbage collections held
 * the event loop for hundreds of milliseconds at a time. Here they hold only this thread.
 * Started by FileRecallStore.open (recallStore.ts), which waits for it and then opens the index
 * it wrote.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { rebuildRecallIndex, type RecallRebuildJob } from './recallStore';

if (parentPort) {
  const port = parentPort;
  rebuildRecallIndex(workerData as RecallRebuildJob).then(
    (read) => port.postMessage({ ok: true, read }),
    (err: unknown) => port.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
}
