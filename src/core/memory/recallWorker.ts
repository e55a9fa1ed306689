import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Runs recall index work in a worker thread (recallRebuildWorker.ts): a rebuild of the whole
 * index from the log, a merge of segments, or the writing of the in-memory tail as a segment.
 * Each allocates hundreds of thousands of short-lived objects (keys, postings, dictionary
 * entries); on the extension host's thread their garbage collections held the event loop again
 * and again. A job names its input and output files (a tail's content moves over as a few typed
 * arrays), and the caller opens what the worker wrote.
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

/**
 * The in-memory tail as flat typed arrays (moved to the worker, not copied): its keys in the
 * order they were first seen, each with its ascending documents, and each document's time and
 * agent. A map of hundreds of thousands of strings and arrays cannot cross threads cheaply; these
 * cross as a handful of buffers.
 */
export interface PackedTail {
  docStart: number;
  docEnd: number;
  /** The keys' UTF-8 bytes back to back; key i ends at keyEnds[i]. */
  keyBytes: Uint8Array;
  keyEnds: Uint32Array;
  /** Every key's documents back to back; key i's list ends at listEnds[i]. */
  postings: Uint32Array;
  listEnds: Uint32Array;
  /** Per document (docStart onward): its time (ms) and agent number. */
  times: Float64Array;
  agents: Uint32Array;
}

/** Write a packed tail as a segment file. Answers its size and header checksum. */
export interface RecallTailJob {
  kind: 'tail';
  dir: string;
  out: string;
  tail: PackedTail;
}

export type RecallWorkerJob = RecallRebuildJob | RecallMergeJob | RecallTailJob;

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

/**
 * Runs one job in a new worker thread; rejects when there is no worker script or the worker fails.
 * `transfer` lists buffers of the job that move to the worker (unusable here afterwards).
 */
export function runRecallWorker(job: RecallWorkerJob, transfer: ArrayBuffer[] = []): Promise<unknown> {
  const script = workerScript();
  if (!script) return Promise.reject(new Error('the recall index worker script is missing'));
  return new Promise<unknown>((resolve, reject) => {
    // From source (tests, benches under tsx) the worker registers tsx itself: loader hooks are not inherited by threads.
    const worker = script.endsWith('.ts')
      ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(script)});`, {
          eval: true,
          workerData: job,
          transferList: transfer,
        })
      : new Worker(script, { workerData: job, transferList: transfer });
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
