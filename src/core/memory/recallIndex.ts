import { closeSync, fdatasync, fstatSync, ftruncateSync, openSync, readSync, write as fsWrite } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import type { RecallRecord } from '../interfaces/recallStore';
import { AppendLog } from '../storage/appendLog';
import { atomicWriteJson } from '../storage/atomicFile';
import {
  RECALL_CALL_NAMES_KEPT,
  RECALL_MERGE_FANIN,
  RECALL_REBUILD_CUT_DOCS,
  RECALL_SEGMENT_MAX_DOCS,
  RECALL_WORKER_MERGE_MIN_DOCS,
  RECALL_WORKER_TAIL_MIN_DOCS,
} from '../limits';
import { forEachIndexToken, partSequence, searchableText } from './recallText';
import { recallWorkerAvailable, runRecallWorker, type PackedTail, type RecallMergeJob, type RecallTailJob } from './recallWorker';
import {
  RecallIndexDamagedError,
  pairKey,
  runKey,
  SegmentReader,
  Slicer,
  sortSliced,
  termKey,
  writeSegment,
  type AgentPart,
  type SegmentData,
} from './recallSegment';

/**
 * The recall index on disk, beside the log (`recall-index/`): what lets recall open in constant
 * time and answer queries without holding the log in memory. The log stays the one source of
 * truth; everything here can be rebuilt from it.
 *
 * - Documents are the log's records in log order, numbered 0, 1, 2, … (a record whose seq is not
 *   above every earlier one — only a hand-edited log has one — is left out, as before it was
 *   dropped as a duplicate).
 * - `docs.bin`: one fixed-size row per document (seq, log offset, time, line length, agent), so a
 *   record is read from the log by offset and an id finds its document by binary search on seq.
 * - `seg-N.rsg`: immutable segments of postings and date indexes (recallSegment.ts).
 * - `manifest.json` (atomic): which segments are live, how many documents and log bytes they
 *   cover, checksums of the first and last covered log lines (a replaced or cut log is noticed),
 *   the agents, and the recent tool_call_id → function names.
 * - Records appended since the last flush live in an in-memory tail (a MemSegment), written as a
 *   segment in the background once it holds RECALL_TAIL_FLUSH_DOCS records (a large tail by a
 *   worker thread, handed over as typed arrays); segments of one size class are merged
 *   RECALL_MERGE_FANIN at a time (large merges in a worker thread too, recallWorker.ts). The tail
 *   answers queries from memory until the manifest names its segment. A crash loses only the
 *   tail, which the next open reads back from the log (the bytes after the manifest's `logBytes`).
 */

export const RECALL_INDEX_DIR = 'recall-index';
const MANIFEST = 'manifest.json';
const DOCS = 'docs.bin';
const MANIFEST_FORMAT = 1;
export const DOC_ROW_BYTES = 32;
/** Keys a tail collects unsorted before they are sorted into its dictionary (prefix lookups scan them meanwhile). */
const MEM_VOCAB_FOLD_KEYS = 2048;

/** Where a query reads postings: a segment on disk, or a tail still in memory. */
export type RecallSource = SegmentReader | MemSegment;

export interface DateRun {
  n: number;
  fetch(lo: number, hi: number): { times: ArrayLike<number>; docs: ArrayLike<number> };
}

export interface DocRow {
  seq: number;
  /** Byte offset of the record's line in the log, and its length (newline included). */
  offset: number;
  bytes: number;
  time: number;
  agent: number;
}

interface SegmentMeta {
  file: string;
  docStart: number;
  docEnd: number;
  bytes: number;
  headerCrc: number;
}

interface Manifest {
  format: number;
  /** Log bytes whose records are all in the segments. */
  logBytes: number;
  /** The checksum field (8 hex digits) of the log's first line and of the last covered line, and where that line starts. */
  firstLine: string;
  lastLineAt: number;
  lastLine: string;
  docs: number;
  lastSeq: number;
  agents: string[];
  counts: number[];
  segments: SegmentMeta[];
  calls: [string, string][];
  nextGen: number;
}

/** Records of a range of documents in memory: the tail, or a segment being built. */
export class MemSegment {
  readonly rows: DocRow[] = [];
  /** Decoded records when kept (the tail: the newest messages are read again soon); undefined while rebuilding. */
  readonly records: (RecallRecord | undefined)[] = [];
  readonly postings = new Map<string, number[]>();
  readonly agentDocs = new Map<number, number[]>();
  /** Keys in sorted order, and keys added since (unsorted): a prefix lookup after each append must not sort them all again. */
  private vocab: string[] = [];
  private added: string[] = [];
  /** Log bytes up to the end of the last record here. */
  logEnd = 0;
  /** Its keys include word pairs (pairKey). */
  readonly wordPairs = true;

  constructor(
    readonly docStart: number,
    private readonly keepRecords: boolean,
  ) {}

  get docEnd(): number {
    return this.docStart + this.rows.length;
  }
  get size(): number {
    return this.rows.length;
  }

  add(record: RecallRecord, row: DocRow, text: string): number {
    const doc = this.docEnd;
    this.rows.push(row);
    this.records.push(this.keepRecords ? record : undefined);
    this.logEnd = row.offset + row.bytes;
    let docs = this.agentDocs.get(row.agent);
    if (!docs) this.agentDocs.set(row.agent, (docs = []));
    docs.push(doc);
    const post = (key: string): void => {
      let list = this.postings.get(key);
      if (!list) {
        list = [];
        this.postings.set(key, list);
        this.added.push(key);
      }
      if (list[list.length - 1] !== doc) list.push(doc);
    };
    let previous: string | undefined;
    forEachIndexToken(
      text,
      (token) => post(termKey(row.agent, token)),
      (word) => {
        if (previous !== undefined) post(pairKey(row.agent, previous, word));
        previous = word;
      },
    );
    const seq = partSequence(text);
    for (let i = 0; i + 1 < seq.length; i++) {
      post(runKey(row.agent, [seq[i]!, seq[i + 1]!]));
      if (i + 2 < seq.length) post(runKey(row.agent, [seq[i]!, seq[i + 1]!, seq[i + 2]!]));
    }
    return doc;
  }

  /**
   * Folds the keys added since the last fold into the sorted ones once there are many of them
   * (sorting only the new keys and merging): until then prefix lookups scan them.
   */
  private foldAdded(force: boolean): void {
    if (this.added.length === 0 || (!force && this.added.length < MEM_VOCAB_FOLD_KEYS)) return;
    const fresh = this.added.sort();
    this.added = [];
    const old = this.vocab;
    const out = new Array<string>(old.length + fresh.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length || j < fresh.length)
      out[k++] = j >= fresh.length || (i < old.length && old[i]! < fresh[j]!) ? old[i++]! : fresh[j++]!;
    this.vocab = out;
  }

  lookup(key: string): number[] | undefined {
    return this.postings.get(key);
  }

  /** How many documents hold `key` (with `prefix`: summed over the keys it starts, an upper bound of their union). */
  count(key: string, prefix: boolean): number {
    if (!prefix) return this.postings.get(key)?.length ?? 0;
    let n = 0;
    for (const l of this.prefix(key)) n += l.length;
    return n;
  }

  prefix(prefix: string): number[][] {
    this.foldAdded(false);
    const vocab = this.vocab;
    let lo = 0;
    let hi = vocab.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (vocab[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: number[][] = [];
    for (let i = lo; i < vocab.length && vocab[i]!.startsWith(prefix); i++) out.push(this.postings.get(vocab[i]!)!);
    for (const k of this.added) if (k.startsWith(prefix)) out.push(this.postings.get(k)!);
    return out;
  }

  /** The agent's documents here, ascending. */
  docsOf(agent: number): readonly number[] {
    return this.agentDocs.get(agent) ?? [];
  }

  /** The agent's date index here: (time, doc) ascending. */
  dates(agent: number): { times: number[]; docs: number[] } {
    const docs = [...(this.agentDocs.get(agent) ?? [])];
    const timeOf = (d: number): number => this.rows[d - this.docStart]!.time;
    docs.sort((x, y) => timeOf(x) - timeOf(y) || x - y);
    return { times: docs.map(timeOf), docs };
  }

  async data(): Promise<SegmentData> {
    const agents = new Map<number, AgentPart>();
    for (const [agent, docs] of this.agentDocs) {
      const d = this.dates(agent);
      agents.set(agent, { docs, dateTimes: d.times, dateDocs: d.docs });
    }
    // Sorted in slices: a tail's keys (runs of parts included) run to hundreds of thousands.
    const keys = this.added.length === 0 ? [...this.vocab] : await sortSliced([...this.vocab, ...this.added]);
    const postings = this.postings;
    return {
      docStart: this.docStart,
      docEnd: this.docEnd,
      *entries() {
        for (const k of keys) yield [k, postings.get(k)!];
      },
      agents,
      wordPairs: true,
    };
  }

  /**
   * The tail as flat typed arrays for a worker thread, in slices: keys in the order first seen
   * (the worker sorts them), no string or array per key made here. The tail must not change
   * meanwhile (a frozen tail does not).
   */
  async pack(): Promise<PackedTail> {
    const slicer = new Slicer();
    const n = this.rows.length;
    const times = new Float64Array(n);
    const agents = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      times[i] = this.rows[i]!.time;
      agents[i] = this.rows[i]!.agent;
    }
    const keys = this.postings.size;
    const keyEnds = new Uint32Array(keys);
    const listEnds = new Uint32Array(keys);
    let keyBytes = new Uint8Array(Math.max(1024, keys * 16));
    let postings = new Uint32Array(Math.max(1024, keys * 4));
    const encoder = new TextEncoder();
    let kb = 0;
    let pb = 0;
    let k = 0;
    for (const [key, list] of this.postings) {
      // A UTF-16 unit takes at most 3 bytes of UTF-8.
      if (kb + key.length * 3 > keyBytes.length) keyBytes = grown(keyBytes, kb + key.length * 3);
      kb += encoder.encodeInto(key, keyBytes.subarray(kb)).written;
      keyEnds[k] = kb;
      if (pb + list.length > postings.length) postings = grown(postings, pb + list.length);
      for (let i = 0; i < list.length; i++) postings[pb++] = list[i]!;
      listEnds[k++] = pb;
      if ((k & 1023) === 0) await slicer.maybeYield();
    }
    return {
      docStart: this.docStart,
      docEnd: this.docEnd,
      // Trimmed copies: only what is used crosses to the worker.
      keyBytes: keyBytes.slice(0, kb),
      keyEnds,
      postings: postings.slice(0, pb),
      listEnds,
      times,
      agents,
    };
  }
}

/** A typed array at least `need` long holding `a`'s contents (doubling, so appends stay linear). */
function grown<T extends Uint8Array | Uint32Array>(a: T, need: number): T {
  let size = a.length * 2;
  while (size < need) size *= 2;
  const out = new (a.constructor as new (n: number) => T)(size);
  out.set(a);
  return out;
}

/**
 * A packed tail as segment content (on the worker thread): the keys decoded and sorted, each
 * agent's documents and date index rebuilt from the per-document times and agents.
 */
export function unpackTail(tail: PackedTail): SegmentData {
  const keyCount = tail.keyEnds.length;
  const decoder = new TextDecoder();
  const keys = new Array<string>(keyCount);
  for (let i = 0, at = 0; i < keyCount; i++) {
    keys[i] = decoder.decode(tail.keyBytes.subarray(at, tail.keyEnds[i]!));
    at = tail.keyEnds[i]!;
  }
  const order = Array.from({ length: keyCount }, (_, i) => i);
  order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const byAgent = new Map<number, number[]>();
  for (let i = 0; i < tail.agents.length; i++) {
    const agent = tail.agents[i]!;
    let docs = byAgent.get(agent);
    if (!docs) byAgent.set(agent, (docs = []));
    docs.push(tail.docStart + i);
  }
  const agents = new Map<number, AgentPart>();
  for (const [agent, docs] of byAgent) {
    const timeOf = (d: number): number => tail.times[d - tail.docStart]!;
    const dateDocs = [...docs].sort((x, y) => timeOf(x) - timeOf(y) || x - y);
    agents.set(agent, { docs, dateTimes: dateDocs.map(timeOf), dateDocs });
  }
  return {
    docStart: tail.docStart,
    docEnd: tail.docEnd,
    *entries(): Generator<[string, Uint32Array]> {
      for (const i of order) yield [keys[i]!, tail.postings.subarray(i === 0 ? 0 : tail.listEnds[i - 1]!, tail.listEnds[i]!)];
    },
    agents,
    // Packed from a MemSegment, whose keys include them.
    wordPairs: true,
  };
}

/** A tail as a worker writes it: the packed content as a new segment file. */
export async function writePackedTail(job: RecallTailJob): Promise<{ bytes: number; headerCrc: number }> {
  return writeSegment(path.join(job.dir, job.out), unpackTail(job.tail));
}

function encodeRows(rows: DocRow[]): Buffer {
  const buf = Buffer.alloc(rows.length * DOC_ROW_BYTES);
  rows.forEach((r, i) => {
    const o = i * DOC_ROW_BYTES;
    buf.writeDoubleLE(r.seq, o);
    buf.writeDoubleLE(r.offset, o + 8);
    buf.writeDoubleLE(r.time, o + 16);
    buf.writeUInt32LE(r.bytes, o + 24);
    buf.writeUInt32LE(r.agent, o + 28);
  });
  return buf;
}

function decodeRow(buf: Buffer, o = 0): DocRow {
  return {
    seq: buf.readDoubleLE(o),
    offset: buf.readDoubleLE(o + 8),
    time: buf.readDoubleLE(o + 16),
    bytes: buf.readUInt32LE(o + 24),
    agent: buf.readUInt32LE(o + 28),
  };
}

const writeAt = (fd: number, buf: Buffer, pos: number): Promise<void> =>
  new Promise((resolve, reject) => {
    let done = 0;
    const step = (): void =>
      fsWrite(fd, buf, done, buf.length - done, pos + done, (err, n) => {
        if (err) return reject(err);
        done += n;
        if (done < buf.length) step();
        else resolve();
      });
    step();
  });
const datasync = (fd: number): Promise<void> => new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));

/** Reads the 8-hex checksum field of the log line starting at `at` ('' when there is none). */
function lineChecksumAt(logFile: string, at: number): string {
  let fd: number;
  try {
    fd = openSync(logFile, 'r');
  } catch {
    return '';
  }
  try {
    const b = Buffer.alloc(9);
    const n = readSync(fd, b, 0, 9, at);
    return n === 9 && b[8] === 0x20 ? b.toString('latin1', 0, 8) : '';
  } finally {
    closeSync(fd);
  }
}

function checkManifest(v: unknown): Manifest {
  const m = v as Partial<Manifest> | null;
  const nums = (x: unknown): boolean => Number.isInteger(x) && (x as number) >= 0;
  if (
    !m ||
    m.format !== MANIFEST_FORMAT ||
    !nums(m.logBytes) ||
    !nums(m.docs) ||
    !nums(m.lastSeq) ||
    !nums(m.nextGen) ||
    !nums(m.lastLineAt) ||
    typeof m.firstLine !== 'string' ||
    typeof m.lastLine !== 'string' ||
    !Array.isArray(m.agents) ||
    !Array.isArray(m.counts) ||
    m.agents.length !== m.counts.length ||
    !Array.isArray(m.segments) ||
    !Array.isArray(m.calls)
  ) {
    throw new Error('its manifest is unreadable');
  }
  let next = 0;
  for (const s of m.segments) {
    if (
      !s ||
      typeof s.file !== 'string' ||
      !/^seg-\d+\.rsg$/.test(s.file) ||
      s.docStart !== next ||
      !nums(s.docEnd) ||
      s.docEnd <= s.docStart
    ) {
      throw new Error('its manifest lists segments that do not fit together');
    }
    next = s.docEnd;
  }
  if (next !== m.docs) throw new Error('its manifest lists segments that do not fit together');
  return m as Manifest;
}

/** What opening found; the store turns a rebuild into a notice. */
export interface RecallIndexOpenReport {
  /** 'opened': used as found; 'built': there was none (first open, or it was deleted); 'rebuilt': it was stale or damaged. */
  state: 'opened' | 'built' | 'rebuilt';
  /** Why it was rebuilt, in words. */
  reason?: string;
  /** Records read from the log at open (the tail the index did not cover yet; all of them on a rebuild). */
  readFromLog: number;
  /** True when the build or rebuild ran in a worker thread (a large log). */
  inWorker?: boolean;
}

export interface RecallIndexEvents {
  /** Damage found after open (by the background check or a read): the index repairs itself. */
  damaged(reason: string): void;
  /** A repair finished. */
  repaired(): void;
}

export class RecallIndex {
  readonly dir: string;
  agents: string[] = [];
  private agentIndex = new Map<string, number>();
  counts: number[] = [];
  segments: SegmentReader[] = [];
  private metas: SegmentMeta[] = [];
  /** Tails being written as segments: still answered from memory until the manifest names their segment. */
  frozen: MemSegment[] = [];
  tail: MemSegment;
  lastSeq = 0;
  private readonly callNames = new Map<string, string>();
  private docsFd: number | null = null;
  private covered = { logBytes: 0, firstLine: '', lastLineAt: 0, lastLine: '' };
  private nextGen = 1;
  /** Segments found damaged after open: left out of queries until the repair replaces them. */
  readonly excluded = new Set<SegmentReader>();
  private background: Promise<void> = Promise.resolve();
  private closed = false;
  private repairing = false;
  private flushQueued = false;

  /** Merges of at least this many records run in a worker thread (RECALL_WORKER_MERGE_MIN_DOCS; tests lower it). */
  workerMergeMinDocs = RECALL_WORKER_MERGE_MIN_DOCS;
  /** Merges a worker thread wrote. */
  mergesInWorker = 0;
  /** Tails of at least this many records are written by a worker thread (RECALL_WORKER_TAIL_MIN_DOCS; tests lower it). */
  workerTailMinDocs = RECALL_WORKER_TAIL_MIN_DOCS;
  /** Tails a worker thread wrote. */
  tailsInWorker = 0;

  private constructor(
    readonly logFile: string,
    dir: string,
    readonly readOnly: boolean,
    private readonly flushDocs: number,
    private readonly events: RecallIndexEvents,
  ) {
    this.dir = dir;
    this.tail = new MemSegment(0, true);
  }

  /** Documents in segments. */
  get flushedDocs(): number {
    return this.metas.length ? this.metas[this.metas.length - 1]!.docEnd : 0;
  }
  get totalDocs(): number {
    return this.tail.docEnd;
  }
  /** Log bytes whose records the index covers on disk (the log is read from here at open). */
  get logBytes(): number {
    return this.covered.logBytes;
  }

  /**
   * Opens the index found in `dir` when it is sound and matches the log; otherwise starts an
   * empty one (the caller then feeds it the whole log). Never reads the log's records.
   */
  static async open(
    logFile: string,
    dir: string,
    options: {
      readOnly: boolean;
      flushDocs: number;
      events: RecallIndexEvents;
      workerMergeMinDocs?: number;
      workerTailMinDocs?: number;
    },
  ): Promise<{ index: RecallIndex; report: RecallIndexOpenReport }> {
    const index = new RecallIndex(logFile, dir, options.readOnly, options.flushDocs, options.events);
    if (options.workerMergeMinDocs !== undefined) index.workerMergeMinDocs = options.workerMergeMinDocs;
    if (options.workerTailMinDocs !== undefined) index.workerTailMinDocs = options.workerTailMinDocs;
    let raw: string | null = null;
    try {
      raw = await fsp.readFile(path.join(dir, MANIFEST), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') raw = '';
    }
    if (raw === null) {
      await index.reset();
      return { index, report: { state: 'built', readFromLog: 0 } };
    }
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw new Error('its manifest is unreadable');
      }
      index.load(checkManifest(parsed));
      return { index, report: { state: 'opened', readFromLog: 0 } };
    } catch (err) {
      index.closeFiles();
      await index.reset();
      const reason =
        err instanceof RecallIndexDamagedError ? `${path.basename(err.file)} was damaged (${err.detail})` : (err as Error).message;
      return { index, report: { state: 'rebuilt', reason, readFromLog: 0 } };
    }
  }

  private load(m: Manifest): void {
    let logSize = 0;
    try {
      logSize = fstatSizeOf(this.logFile);
    } catch {
      logSize = 0;
    }
    if (logSize < m.logBytes) throw new Error(`the recall log is shorter (${logSize} bytes) than the ${m.logBytes} bytes it indexed`);
    if (m.logBytes > 0 && (lineChecksumAt(this.logFile, 0) !== m.firstLine || lineChecksumAt(this.logFile, m.lastLineAt) !== m.lastLine)) {
      throw new Error('the recall log was replaced or changed since it was indexed');
    }
    for (const s of m.segments) this.segments.push(SegmentReader.open(path.join(this.dir, s.file), s));
    const docsFile = path.join(this.dir, DOCS);
    try {
      this.docsFd = openSync(docsFile, this.readOnly ? 'r' : 'r+');
    } catch (err) {
      throw new RecallIndexDamagedError(docsFile, `cannot open: ${(err as NodeJS.ErrnoException).code ?? ''}`);
    }
    const size = fstatSync(this.docsFd).size;
    if (size < m.docs * DOC_ROW_BYTES) throw new RecallIndexDamagedError(docsFile, `${size} bytes, expected ${m.docs * DOC_ROW_BYTES}`);
    // Rows past the manifest were written by a flush that did not finish: not ours yet.
    if (!this.readOnly && size > m.docs * DOC_ROW_BYTES) ftruncateSync(this.docsFd, m.docs * DOC_ROW_BYTES);
    this.metas = [...m.segments];
    this.agents = [...m.agents];
    this.agents.forEach((a, i) => this.agentIndex.set(a, i));
    this.counts = [...m.counts];
    this.lastSeq = m.lastSeq;
    for (const [id, name] of m.calls) this.callNames.set(id, name);
    this.covered = { logBytes: m.logBytes, firstLine: m.firstLine, lastLineAt: m.lastLineAt, lastLine: m.lastLine };
    this.nextGen = m.nextGen;
    this.tail = new MemSegment(m.docs, true);
  }

  /** An empty index (the previous one's files are swept once a new manifest is written). */
  private async reset(): Promise<void> {
    this.segments = [];
    this.metas = [];
    this.agents = [];
    this.agentIndex.clear();
    this.counts = [];
    this.lastSeq = 0;
    this.callNames.clear();
    this.covered = { logBytes: 0, firstLine: '', lastLineAt: 0, lastLine: '' };
    this.tail = new MemSegment(0, false);
    if (this.readOnly) return;
    await fsp.mkdir(this.dir, { recursive: true });
    // Written first, so a crash mid-rebuild never leaves an old manifest over the new rows.
    this.nextGen = Math.max(this.nextGen, await this.highestGen()) + 1;
    this.docsFd = openSync(path.join(this.dir, DOCS), 'w+');
    await this.writeManifest();
  }

  private async highestGen(): Promise<number> {
    let high = 0;
    for (const f of await fsp.readdir(this.dir).catch(() => [] as string[])) {
      const m = /^seg-(\d+)\.rsg$/.exec(f);
      if (m) high = Math.max(high, Number(m[1]));
    }
    return high;
  }

  /** The agent's number, created on first use. */
  agentNumber(agentId: string, create: boolean): number | undefined {
    let n = this.agentIndex.get(agentId);
    if (n === undefined && create) {
      n = this.agents.length;
      this.agents.push(agentId);
      this.counts.push(0);
      this.agentIndex.set(agentId, n);
    }
    return n;
  }

  /**
   * Adds a record stored in the log at [offset, offset + bytes). Returns false for a record
   * left out (seq not above every earlier one: a duplicated or reordered line of a hand-edited log).
   */
  add(record: RecallRecord, offset: number, bytes: number): boolean {
    if (record.seq <= this.lastSeq) return false;
    this.lastSeq = record.seq;
    const m = record.message;
    if (m.role === 'assistant') {
      for (const c of m.tool_calls ?? []) {
        this.callNames.set(c.id, c.function.name);
        if (this.callNames.size > RECALL_CALL_NAMES_KEPT) this.callNames.delete(this.callNames.keys().next().value!);
      }
    }
    const agent = this.agentNumber(record.agentId, true)!;
    this.counts[agent]!++;
    const text = searchableText(record, (id) => this.callNames.get(id));
    this.tail.add(record, { seq: record.seq, offset, bytes, time: Date.parse(record.time), agent }, text);
    return true;
  }

  /** True when the tail should be written out (the caller schedules flush()). */
  get tailFull(): boolean {
    return this.tail.size >= this.flushDocs;
  }

  /** While rebuilding at open: the tail is cut into full-size segments as the log is read. */
  async addRebuilding(record: RecallRecord, offset: number, bytes: number): Promise<void> {
    this.add(record, offset, bytes);
    if (this.tail.size >= RECALL_REBUILD_CUT_DOCS && !this.readOnly) {
      await this.flushNow();
      await this.mergeSome();
    } else if (this.rebuildSlicer.due) await this.rebuildSlicer.yieldNow();
  }

  /** Keeps a rebuild from holding the event loop: it yields between slices of records. */
  private readonly rebuildSlicer = new Slicer();

  /**
   * Indexes records just written to the log at `offset` onward, in slices: a bulk append (an
   * import) must not hold the event loop. Batches are indexed one after another, in log order.
   */
  addAll(records: readonly RecallRecord[], offset: number, lineBytes: readonly number[]): Promise<void> {
    const run = async (): Promise<void> => {
      const slicer = new Slicer();
      let at = offset;
      for (let i = 0; i < records.length; i++) {
        this.add(records[i]!, at, lineBytes[i]!);
        at += lineBytes[i]!;
        if (slicer.due && i + 1 < records.length) await slicer.yieldNow();
      }
    };
    // Small batches (the normal case) are indexed at once when nothing is ahead of them.
    if (!this.adding && records.length <= 64) {
      let at = offset;
      records.forEach((r, i) => {
        this.add(r, at, lineBytes[i]!);
        at += lineBytes[i]!;
      });
      return Promise.resolve();
    }
    const mine = (this.adding ?? Promise.resolve()).then(run);
    const tracked = mine.finally(() => {
      if (this.adding === tracked) this.adding = null;
    });
    this.adding = tracked;
    return mine;
  }
  private adding: Promise<void> | null = null;

  /** Runs `job` after the background work queued before it (one writer of index files at a time). */
  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.background.then(() => (this.closed ? undefined : job()));
    this.background = run.catch((err: unknown) => {
      if (err instanceof RecallIndexDamagedError) this.noticeDamage(err.message);
      // Anything else (a full disk) leaves the tail in memory: the log still has every record.
    });
    return this.background;
  }

  /** Writes the tail as a segment in the background (and merges), unless read-only. */
  scheduleFlush(): Promise<void> {
    if (this.readOnly) return Promise.resolve();
    // One waiting flush takes whatever the tail holds when it starts: no need to queue another.
    if (this.flushQueued) return this.background;
    this.flushQueued = true;
    return this.enqueue(async () => {
      this.flushQueued = false;
      if (this.tail.size > 0) await this.flushNow();
      await this.mergeSome();
    });
  }

  /** Waits for background writes, merges and repairs. */
  async idle(): Promise<void> {
    for (let b = this.background; ; b = this.background) {
      await b;
      if (b === this.background) return;
    }
  }

  /**
   * Writes the tail (and any tail an earlier failed write left frozen) as segments. Frozen tails
   * stay answerable from memory until their segment is named in the manifest.
   */
  private async flushNow(): Promise<void> {
    if (this.tail.size > 0) {
      this.frozen.push(this.tail);
      this.tail = new MemSegment(this.tail.docEnd, true);
    }
    while (this.frozen.length > 0) {
      const mem = this.frozen[0]!;
      const meta = await this.writeMem(mem);
      await writeAt(this.docsFd!, encodeRows(mem.rows), mem.docStart * DOC_ROW_BYTES);
      await datasync(this.docsFd!);
      const reader = SegmentReader.open(path.join(this.dir, meta.file), meta);
      const last = mem.rows[mem.rows.length - 1]!;
      // In one step, so a query never sees these documents twice (segment and frozen tail).
      this.segments.push(reader);
      this.metas.push(meta);
      this.frozen.shift();
      this.covered = {
        logBytes: mem.logEnd,
        firstLine: this.covered.firstLine || lineChecksumAt(this.logFile, 0),
        lastLineAt: last.offset,
        lastLine: lineChecksumAt(this.logFile, last.offset),
      };
      await this.writeManifest();
    }
  }

  private async writeMem(mem: MemSegment | SegmentData): Promise<SegmentMeta> {
    // A large tail is written by a worker thread: here it is only packed into a few typed arrays.
    if (mem instanceof MemSegment && mem.size >= this.workerTailMinDocs && isMainThread && recallWorkerAvailable()) {
      const file = `seg-${this.nextGen++}.rsg`;
      const tail = await mem.pack();
      const job: RecallTailJob = { kind: 'tail', dir: this.dir, out: file, tail };
      const buffers = [tail.keyBytes, tail.keyEnds, tail.postings, tail.listEnds, tail.times, tail.agents].map(
        (a) => a.buffer as ArrayBuffer,
      );
      const written = await runRecallWorker(job, buffers).catch(() => null);
      if (isWritten(written)) {
        this.tailsInWorker++;
        return { file, docStart: mem.docStart, docEnd: mem.docEnd, ...written };
      }
      // The worker could not run: written here instead (under a new name; the failed write left nothing the manifest names).
    }
    const data = mem instanceof MemSegment ? await mem.data() : mem;
    const file = `seg-${this.nextGen++}.rsg`;
    const { bytes, headerCrc } = await writeSegment(path.join(this.dir, file), data);
    return { file, docStart: data.docStart, docEnd: data.docEnd, bytes, headerCrc };
  }

  private async writeManifest(): Promise<void> {
    const m: Manifest = {
      format: MANIFEST_FORMAT,
      ...this.covered,
      docs: this.flushedDocs,
      // What the segments hold; tail records are read back from the log at the next open.
      lastSeq: this.metas.length ? this.seqAtFlushed() : 0,
      agents: this.agents,
      counts: this.countsFlushed(),
      segments: this.metas,
      calls: [...this.callNames.entries()],
      nextGen: this.nextGen,
    };
    await atomicWriteJson(path.join(this.dir, MANIFEST), m);
    await this.sweep();
  }

  private seqAtFlushed(): number {
    return this.row(this.flushedDocs - 1).seq;
  }

  private countsFlushed(): number[] {
    const out = [...this.counts];
    for (const mem of [...this.frozen, this.tail]) {
      for (const [agent, docs] of mem.agentDocs) {
        // Frozen tails whose segment is already in metas are counted as flushed.
        if (mem.docStart < this.flushedDocs) continue;
        out[agent]! -= docs.length;
      }
    }
    return out;
  }

  /** Removes segment files no manifest names (merged away, or left by a flush a crash cut short). */
  private async sweep(): Promise<void> {
    const live = new Set(this.metas.map((m) => m.file));
    for (const f of await fsp.readdir(this.dir).catch(() => [] as string[])) {
      if (/^seg-\d+\.rsg$/.test(f) && !live.has(f)) await fsp.rm(path.join(this.dir, f), { force: true }).catch(() => undefined);
    }
  }

  /**
   * Merges the newest RECALL_MERGE_FANIN segments when the oldest of them is of the largest size
   * class among them (a larger, newer one waits until it has FANIN - 1 newer ones of its own), so
   * a query meets about FANIN segments per size class. Full-size segments are final.
   */
  private async mergeSome(): Promise<void> {
    for (;;) {
      let start = 0;
      this.segments.forEach((seg, i) => {
        if (seg.docs >= RECALL_SEGMENT_MAX_DOCS) start = i + 1;
      });
      const n = this.segments.length;
      if (n - start < RECALL_MERGE_FANIN) return;
      const run = this.segments.slice(n - RECALL_MERGE_FANIN);
      const classes = run.map((seg) => sizeClass(seg.docs, this.flushDocs));
      if (Math.max(...classes) !== classes[0]) return;
      const meta = await this.mergeRun(n - RECALL_MERGE_FANIN, run);
      const reader = SegmentReader.open(path.join(this.dir, meta.file), meta);
      this.segments = [...this.segments.slice(0, n - RECALL_MERGE_FANIN), reader];
      this.metas = [...this.metas.slice(0, n - RECALL_MERGE_FANIN), meta];
      await this.writeManifest();
      for (const seg of run) seg.close();
    }
  }

  /**
   * Writes the merge of `run` (the segments from position `at`) as a new segment. A large merge
   * runs in a worker thread (the segments stay open here and answer queries meanwhile); a small
   * one, or one whose worker cannot run, runs here in slices.
   */
  private async mergeRun(at: number, run: SegmentReader[]): Promise<SegmentMeta> {
    const file = `seg-${this.nextGen++}.rsg`;
    const docs = run[run.length - 1]!.docEnd - run[0]!.docStart;
    // Inside a worker already (a rebuild), the merge runs on that thread.
    if (docs >= this.workerMergeMinDocs && isMainThread && recallWorkerAvailable()) {
      const job: RecallMergeJob = { kind: 'merge', dir: this.dir, run: this.metas.slice(at, at + run.length), out: file };
      const written = await runRecallWorker(job).catch(() => null);
      if (isWritten(written)) this.mergesInWorker++;
      if (isWritten(written)) return { file, docStart: run[0]!.docStart, docEnd: run[run.length - 1]!.docEnd, ...written };
    }
    const data = await mergeData(run);
    const { bytes, headerCrc } = await writeSegment(path.join(this.dir, file), data);
    return { file, docStart: data.docStart, docEnd: data.docEnd, bytes, headerCrc };
  }

  /** Checks every segment's body in the background; damage starts a repair. */
  verifyInBackground(): void {
    void this.enqueue(async () => {
      for (const s of [...this.segments]) {
        if (this.closed) return;
        if (!(await s.verifyBody())) {
          this.noticeDamage(`The recall index file ${path.basename(s.file)} is damaged (its contents do not match their checksum).`, s);
          return;
        }
      }
    });
  }

  /** A read found the index wrong: leave the damage out and rebuild from the log. */
  noticeDamage(reason: string, segment?: SegmentReader): void {
    if (segment) this.excluded.add(segment);
    else for (const s of this.segments) this.excluded.add(s);
    if (this.repairing || this.closed) return;
    this.repairing = true;
    this.events.damaged(reason);
    void this.enqueue(() => this.repair());
  }

  /**
   * Rebuilds the segments (and document rows) of everything flushed, from the log: the same
   * records in the same order get the same numbers, so the tail and open queries stay valid.
   */
  private async repair(): Promise<void> {
    try {
      if (this.readOnly) return; // a reader leaves the files alone; it reads around the damage
      const upTo = this.flushedDocs;
      const logBytes = this.covered.logBytes;
      const builder = new RecallIndex(this.logFile, this.dir, true, this.flushDocs, this.events);
      builder.agents = [...this.agents];
      builder.agents.forEach((a, i) => builder.agentIndex.set(a, i));
      builder.counts = this.agents.map(() => 0);
      builder.tail = new MemSegment(0, false);
      const metas: SegmentMeta[] = [];
      const cut = async (): Promise<void> => {
        const mem = builder.tail;
        builder.tail = new MemSegment(mem.docEnd, false);
        const meta = await this.writeMem(mem);
        await writeAt(this.docsFd!, encodeRows(mem.rows), mem.docStart * DOC_ROW_BYTES);
        metas.push(meta);
      };
      const slicer = new Slicer();
      await AppendLog.open<RecallRecord>(this.logFile, {
        readOnly: true,
        onEntry: async (r, offset, bytes) => {
          if (offset >= logBytes || !isRecord(r)) return;
          builder.add(r, offset, bytes);
          if (builder.tail.size >= RECALL_REBUILD_CUT_DOCS) await cut();
          else await slicer.maybeYield();
        },
      });
      if (builder.tail.size > 0) await cut();
      if (builder.totalDocs !== upTo) throw new Error('the log no longer matches the index');
      await datasync(this.docsFd!);
      const readers = metas.map((m) => SegmentReader.open(path.join(this.dir, m.file), m));
      const old = this.segments;
      this.segments = readers;
      this.metas = metas;
      this.excluded.clear();
      await this.writeManifest();
      for (const s of old) s.close();
      await this.mergeSome();
      this.events.repaired();
    } finally {
      this.repairing = false;
    }
  }

  // --- reads ------------------------------------------------------------------------------

  private readonly rowBuf = Buffer.alloc(DOC_ROW_BYTES);

  /** The row of a document. */
  row(doc: number): DocRow {
    if (doc >= this.flushedDocs) {
      for (const mem of [...this.frozen, this.tail]) if (doc >= mem.docStart && doc < mem.docEnd) return mem.rows[doc - mem.docStart]!;
    }
    if (this.docsFd === null || doc < 0) throw new RecallIndexDamagedError(DOCS, `no row for document ${doc}`);
    const n = readSync(this.docsFd, this.rowBuf, 0, DOC_ROW_BYTES, doc * DOC_ROW_BYTES);
    if (n !== DOC_ROW_BYTES) throw new RecallIndexDamagedError(DOCS, `no row for document ${doc}`);
    return decodeRow(this.rowBuf);
  }

  /** The record kept in memory for a document of the tail, if any. */
  memRecord(doc: number): RecallRecord | undefined {
    for (const mem of [...this.frozen, this.tail]) if (doc >= mem.docStart && doc < mem.docEnd) return mem.records[doc - mem.docStart];
    return undefined;
  }

  /** The first document whose seq is >= seq (totalDocs when none). */
  docBySeq(seq: number): number {
    let lo = 0;
    let hi = this.totalDocs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.row(mid).seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Sources in document order: segments (those not excluded), then the tails in memory. */
  sources(): RecallSource[] {
    return [...this.segments.filter((s) => !this.excluded.has(s)), ...this.frozen, this.tail];
  }

  /**
   * Documents of one source holding `key` (a termKey or runKey; with `prefix`, any key it
   * starts), ascending. A damaged segment is reported (the index repairs itself) and answers
   * nothing meanwhile.
   */
  keyDocsIn(src: RecallSource, key: string, prefix: boolean): Uint32Array {
    let lists: ArrayLike<number>[];
    try {
      if (prefix) lists = src.prefix(key);
      else {
        const l = src.lookup(key);
        lists = l ? [l] : [];
      }
    } catch (err) {
      if (err instanceof RecallIndexDamagedError && src instanceof SegmentReader) {
        this.noticeDamage(err.message, src);
        return new Uint32Array(0);
      }
      throw err;
    }
    return unionSorted(lists, src.docStart, src.docEnd);
  }

  /** An upper bound of keyDocsIn(src, key, prefix).length, from the dictionary alone (exact without `prefix`). */
  keyCountIn(src: RecallSource, key: string, prefix: boolean): number {
    try {
      return src.count(key, prefix);
    } catch (err) {
      if (err instanceof RecallIndexDamagedError && src instanceof SegmentReader) {
        this.noticeDamage(err.message, src);
        return 0;
      }
      throw err;
    }
  }

  /** The agent's documents in one source, ascending. */
  agentDocsIn(src: RecallSource, agent: number): Uint32Array {
    try {
      return src instanceof SegmentReader ? src.agentDocs(agent) : Uint32Array.from(src.docsOf(agent));
    } catch (err) {
      if (err instanceof RecallIndexDamagedError && src instanceof SegmentReader) {
        this.noticeDamage(err.message, src);
        return new Uint32Array(0);
      }
      throw err;
    }
  }

  /** How many documents of the agent one source holds. */
  agentCountIn(src: RecallSource, agent: number): number {
    return src instanceof SegmentReader ? src.agentCount(agent) : src.docsOf(agent).length;
  }

  /** The agent's newest `limit` documents below `beforeDoc`, ascending (reads only the newest sources it needs). */
  lastDocsOf(agent: number, beforeDoc: number, limit: number): number[] {
    const out: number[] = [];
    const srcs = this.sources();
    for (let s = srcs.length - 1; s >= 0 && out.length < limit; s--) {
      const src = srcs[s]!;
      if (src.docStart >= beforeDoc) continue;
      const docs: ArrayLike<number> = src instanceof SegmentReader ? src.agentDocs(agent) : src.docsOf(agent);
      for (let i = docs.length - 1; i >= 0 && out.length < limit; i--) if (docs[i]! < beforeDoc) out.push(docs[i]!);
    }
    return out.reverse();
  }

  /**
   * Per source, the agent's date-index entries within [from, to], each run ascending by
   * (time, doc): a count, and a reader of entries [lo, hi) of the run (read when needed).
   */
  dateRuns(agent: number, from: number, to: number): DateRun[] {
    const runs: DateRun[] = [];
    for (const src of this.sources()) {
      if (src instanceof SegmentReader) {
        const [lo, hi] = src.dateRange(agent, from, to);
        if (hi > lo) runs.push({ n: hi - lo, fetch: (a, b) => src.dateEntries(agent, lo + a, lo + b) });
      } else {
        const d = src.dates(agent);
        const keep = d.times.map((t, i) => (t >= from && t <= to ? i : -1)).filter((i) => i >= 0);
        const times = keep.map((i) => d.times[i]!);
        const docs = keep.map((i) => d.docs[i]!);
        if (keep.length) runs.push({ n: keep.length, fetch: (a, b) => ({ times: times.slice(a, b), docs: docs.slice(a, b) }) });
      }
    }
    return runs;
  }

  /** Writes the tail out and closes the files. */
  async close(): Promise<void> {
    if (!this.readOnly && !this.closed && this.tail.size > 0) await this.scheduleFlush();
    await this.idle();
    this.closed = true;
    this.closeFiles();
  }

  private closeFiles(): void {
    for (const s of this.segments) s.close();
    if (this.docsFd !== null) closeSync(this.docsFd);
    this.docsFd = null;
  }
}

function fstatSizeOf(file: string): number {
  const fd = openSync(file, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function isRecord(r: unknown): r is RecallRecord {
  const x = r as Partial<RecallRecord> | null;
  return !!x && Number.isInteger(x.seq) && typeof x.agentId === 'string' && typeof x.time === 'string' && !!x.message;
}

function isWritten(v: unknown): v is { bytes: number; headerCrc: number } {
  const w = v as { bytes?: unknown; headerCrc?: unknown } | null;
  return !!w && Number.isInteger(w.bytes) && Number.isInteger(w.headerCrc);
}

/** A merge as a worker runs it: opens the segments (checked against their manifest entries), writes the merge, closes them. */
export async function mergeSegmentFiles(job: RecallMergeJob): Promise<{ bytes: number; headerCrc: number }> {
  const run = job.run.map((m) => SegmentReader.open(path.join(job.dir, m.file), m));
  try {
    return await writeSegment(path.join(job.dir, job.out), await mergeData(run));
  } finally {
    for (const seg of run) seg.close();
  }
}

function sizeClass(docs: number, flushDocs: number): number {
  return Math.floor(Math.log(Math.max(1, docs / flushDocs)) / Math.log(RECALL_MERGE_FANIN) + 1e-9);
}

/** The union of ascending lists of documents in [start, end), ascending. */
function unionSorted(lists: ArrayLike<number>[], start: number, end: number): Uint32Array {
  if (lists.length === 0) return new Uint32Array(0);
  if (lists.length === 1) return lists[0] instanceof Uint32Array ? lists[0] : Uint32Array.from(lists[0]!);
  const mark = new Uint8Array(end - start);
  let n = 0;
  for (const l of lists) {
    for (let i = 0; i < l.length; i++) {
      const p = l[i]! - start;
      if (!mark[p]) {
        mark[p] = 1;
        n++;
      }
    }
  }
  const out = new Uint32Array(n);
  let k = 0;
  for (let p = 0; p < mark.length; p++) if (mark[p]) out[k++] = p + start;
  return out;
}

/**
 * Joins adjacent segments: their sorted dictionaries are merged as streams (a key's lists follow
 * each other, segments being in document order), so no segment is ever held whole in memory.
 */
async function mergeData(run: SegmentReader[]): Promise<SegmentData> {
  const slicer = new Slicer();
  const agents = new Map<number, AgentPart>();
  const agentIds = new Set(run.flatMap((s) => s.agentIds()));
  for (const agent of agentIds) {
    const docs: number[] = [];
    let times: number[] = [];
    let dateDocs: number[] = [];
    for (const seg of run) {
      const segDocs = seg.agentDocs(agent);
      for (let k = 0; k < segDocs.length; k++) {
        docs.push(segDocs[k]!);
        if ((k & 4095) === 4095) await slicer.maybeYield();
      }
      const e = seg.dateEntries(agent, 0, seg.agentCount(agent));
      // Two runs sorted by (time, doc) merge in one pass.
      const mt: number[] = [];
      const md: number[] = [];
      let i = 0;
      let j = 0;
      while (i < times.length || j < e.times.length) {
        // Full-size segments hold a quarter of a million entries: merge them in slices.
        if (((i + j) & 4095) === 0) await slicer.maybeYield();
        const takeOld =
          j >= e.times.length || (i < times.length && (times[i]! < e.times[j]! || (times[i] === e.times[j] && dateDocs[i]! < e.docs[j]!)));
        if (takeOld) {
          mt.push(times[i]!);
          md.push(dateDocs[i++]!);
        } else {
          mt.push(e.times[j]!);
          md.push(e.docs[j++]!);
        }
      }
      times = mt;
      dateDocs = md;
      await slicer.maybeYield();
    }
    agents.set(agent, { docs, dateTimes: times, dateDocs });
  }
  return {
    docStart: run[0]!.docStart,
    docEnd: run[run.length - 1]!.docEnd,
    *entries(): Generator<[string, ArrayLike<number>]> {
      const its = run.map((s) => s.entries());
      const heads = its.map((it) => it.next());
      for (;;) {
        let min: string | undefined;
        for (const h of heads) if (!h.done && (min === undefined || h.value[0] < min)) min = h.value[0];
        if (min === undefined) return;
        const lists: Uint32Array[] = [];
        heads.forEach((h, i) => {
          if (!h.done && h.value[0] === min) {
            lists.push(h.value[1]);
            heads[i] = its[i]!.next();
          }
        });
        if (lists.length === 1) {
          yield [min, lists[0]!];
          continue;
        }
        const out = new Uint32Array(lists.reduce((n, l) => n + l.length, 0));
        let at = 0;
        for (const l of lists) {
          out.set(l, at);
          at += l.length;
        }
        yield [min, out];
      }
    },
    agents,
    // A merged segment has word pairs only when every part had them (older segments did not).
    wordPairs: run.every((s) => s.wordPairs),
  };
}
