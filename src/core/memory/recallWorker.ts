import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Runs recall index work in a worker thread (recallRebuildWorker.ts): a rebuild of the whole
 * index from the log, or a merge of segments. Both allocate millions of short-lived objects (keys,
 * postings, dictionary entries); on the extension host's thread their garbage collections held
 * the event loop again and again. Files are the only thing the threads share: a job names its
 * inputs and outputs, and the caller opens what the worker wrote.
 */

/** Rebuild the index of one log into the (empty) index folder. Answers the number of records read. */
export interface RecallRebuildJob {
  kind: 'rebuild';
  logFile: string;
  indexDir: string;
  flushDocs: number;
}

/** Merge adjacent segments (as the manifest describes them) into a new segment file. Answers its size and header checksum. */
export interface RecallMergeJob {
  kind: 'merge';
  dir: string;
  run: { file: string; docStart: number; docEnd: number; bytes: number; headerCrc: number }[];
  out: string;
}

export type RecallWorkerJob = RecallRebuildJob | RecallMergeJob;

export type RecallWorkerAnswer = { ok: true; result: unknown } | { ok: false; message: string };

/** The worker's script: bundled beside dist/extension.js and dist/cli.js (one folder up from dist/test/), or this folder's source under tsx. */
function workerScript(): string | undefined {
  const candidates = [
    path.join(__dirname, 'recallRebuildWorker.js'),
    path.join(__dirname, '..', 'recallRebuildWorker.js'),
    path.join(__dirname, 'recallRebuildWorker.ts'),
  ];
  return candidates.find((f) => existsSync(f));
}

/** True when a worker script is at hand (otherwise the work runs on this thread). */
export function recallWorkerAvailable(): boolean {
  return workerScript() !== undefined;
}

/** Runs one job in a new worker thread; rejects when there is no worker script or the worker fails. */
export function runRecallWorker(job: RecallWorkerJob): Promise<unknown> {
  const script = workerScript();
  if (!script) return Promise.reject(new Error('the recall index worker script is missing'));
  return new Promise<unknown>((resolve, reject) => {
    // From source (tests, benches under tsx) the worker registers tsx itself: loader hooks are not inherited by threads.
    const worker = script.endsWith('.ts')
      ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(script)});`, { eval: true, workerData: job })
      : new Worker(script, { workerData: job });
    let settled = false;
    worker.once('message', (m: RecallWorkerAnswer) => {
      settled = true;
      if (m.ok) resolve(m.result);
      else reject(new Error(m.message));
      void worker.terminate();
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the recall index worker stopped (exit code ${code})`));
    });
  });
}
