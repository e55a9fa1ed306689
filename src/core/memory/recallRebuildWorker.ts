/**
 * The recall index's worker thread (started through recallWorker.ts): rebuilds the index from
 * the recall log, merges segments, or writes the in-memory tail as a segment. Each reads or sorts
 * hundreds of thousands of keys and holds tens of thousands of records or postings at a time; on the extension host's thread their work and their garbage
 * collections held the event loop for hundreds of milliseconds at a time. Here they hold only
 * this thread. The caller waits for the answer and then opens what was written.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { assertNever } from '../base/errors';
import { mergeSegmentFiles, writePackedTail } from './recallIndex';
import { rebuildRecallIndex } from './recallStore';
import type { RecallWorkerAnswer, RecallWorkerJob } from './recallWorker';

async function run(job: RecallWorkerJob): Promise<unknown> {
  switch (job.kind) {
    case 'rebuild':
      return rebuildRecallIndex(job);
    case 'merge':
      return mergeSegmentFiles(job);
    case 'tail':
      return writePackedTail(job);
    default:
      return assertNever(job);
  }
}

if (parentPort) {
  const port = parentPort;
  run(workerData as RecallWorkerJob).then(
    (result) => port.postMessage({ ok: true, result } satisfies RecallWorkerAnswer),
    (err: unknown) =>
      port.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) } satisfies RecallWorkerAnswer),
  );
}
