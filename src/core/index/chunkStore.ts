/**
 * The durable chunk store behind archival memory, built around Vectra's measured
 * limits (a single write rewrites the whole file; bulk insert is O(N²); the JSON
 * codec fails near 100k×384; BM25 is rebuilt per query):
 *
 * - Writes go to a memtable, made durable by an append-only journal (one small
 *   append per file saved: a saved file is searchable in milliseconds).
 * - When the memtable holds SHARD_MAX_CHUNKS chunks it is written, in the
 *   background, as a new immutable shard: a Vectra LocalIndex with the protobuf
 *   codec written in one batched update, plus a cache file for a fast open
 *   (shardFiles.ts). Shards are never rewritten item by item.
 * - Deletes are tombstones (journal, then the manifest); a shard that is mostly
 *   tombstones is compacted into the next flush.
 * - Search scans int8 codes of the shards' vectors (a quarter of their float size; the floats stay
 *   on disk and re-score the best candidates), through store-wide inverted lists once the store
 *   is large (coarseLists.ts, trained and kept up to date in the background), the memtable's
 *   floats, and our own BM25 postings.
 *
 * Layout of `dir`: manifest.json, journal-<gen>.log, lists.bin, shard-<n>/{index.pb,cache.bin,texts.bin}.
 * Manifest schema 2 has shard caches with int8 codes; a schema-1 store is converted on open.
 * Every file goes through src/core/storage: atomic whole-file writes, checksummed journals
 * (a damaged line is skipped, not the rest of the file), validated reads.
 *
 * The store is derived data: whatever is damaged beyond repair is dropped and rebuilt from the
 * workspace, and the user is told (`notice`). A read-only store (a window without the workspace
 * lock) repairs in memory only and never writes, moves or deletes a file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ArchivalSource } from '../interfaces/archivalStore';
import {
  ANN_MIN_CHUNKS,
  IVF_MAX_PROBE_FRACTION,
  IVF_RECALIBRATE_GROWTH,
  IVF_RETRAIN_GROWTH,
  SHARD_COMPACT_DEAD_FRACTION,
  SHARD_MAX_CHUNKS,
  SPARSE_QUERY_MAX_FRACTION,
  VECTOR_RESCORE_FACTOR,
  VECTOR_RESCORE_MIN,
} from '../limits';
import { SerialQueue } from '../base/serialQueue';
import { SplitMap } from '../base/splitMap';
import { TimeSlice } from './slice';
import { AppendLog, encodeLogLine, type AppendLogOpenReport } from '../storage/appendLog';
import { atomicWriteFile, CorruptFileError, readJsonFile, UnreadableFileError, UnsupportedFileError } from '../storage/atomicFile';
import {
  BM25_B,
  BM25_K1,
  bm25Idf,
  buildStoredPostings,
  countChunkTerms,
  FrozenPostings,
  MutablePostings,
  packCounts,
  TermDictionary,
  type ChunkFields,
  type PackedCounts,
  type Postings,
} from './lexical';
import {
  closeShardFloats,
  closeShardTexts,
  compactVectors,
  CorruptShardError,
  LegacyShardCacheError,
  readAllShardFloats,
  readAllShardTexts,
  readLegacyShardCache,
  readShardCache,
  readShardFloatRow,
  readShardTextIndex,
  readShardTexts,
  readVectraShard,
  shardIndexPath,
  writeShardCache,
  writeShardTexts,
  writeVectraShard,
  type ChunkRecord,
  type LoadedShard,
  type ShardContent,
} from './shardFiles';
import { codeDot, queryCodes, sparseCodeDot, type QueryCodes } from './vectorCodes';
import {
  assignShard,
  calibrateProbes,
  CorruptListsError,
  groupByList,
  listCountFor,
  probeOrder,
  readCoarseLists,
  trainCoarseLists,
  writeCoarseLists,
  type CodeRows,
  type CoarseLists,
  type ShardAssignment,
} from './coarseLists';
import { queryTerms } from './codeTokens';
import { MemgptError } from '../base/errors';

export type { ChunkRecord } from './shardFiles';

/** 2: shard caches hold int8 codes and inverted lists. A schema-1 store is converted when opened. */
const SCHEMA_VERSION = 2;
const CONVERTIBLE_SCHEMAS: readonly number[] = [1];

/**
 * A memtable keeps its float vectors in blocks of this many rows (a power of two), allocated as
 * the last one fills and never copied: one array doubling at 32k rows copied 50 MB and held the
 * loop for 200-270 ms. The first block starts small and doubles up to this size, so a store that
 * holds a handful of chunks does not allocate a whole block.
 */
export const MEMTABLE_BLOCK_ROWS = 1024;
const MEMTABLE_BLOCK_SHIFT = Math.log2(MEMTABLE_BLOCK_ROWS);
const MEMTABLE_FIRST_BLOCK_ROWS = 64;
/**
 * Live chunks the memtable may hold while a flush is writing shards before a commit waits for that
 * flush. Indexing can run a few shards ahead of the disk, but not unboundedly: the memtable's
 * postings maps rehash, its exact scan slows every search, and the flush's final swap re-points
 * every id it wrote in one step, all in proportion to its size (64k rows held the loop 40-150 ms).
 */
export const MEMTABLE_MAX_CHUNKS = 4 * SHARD_MAX_CHUNKS;

interface ShardEntry {
  name: string;
  count: number;
  indexBytes: number;
  cacheBytes: number;
  textBytes: number;
  /** Ids deleted since the shard was written (tombstones). */
  deleted: string[];
}

interface Manifest {
  schema: number;
  embedderId: string;
  dimensions: number;
  nextShard: number;
  /** Journals with a lower generation are folded into shards. */
  journalGen: number;
  shards: ShardEntry[];
}

type JournalEntry = { op: 'put'; r: ChunkRecord; text: string; v: string } | { op: 'del'; id: string };

/** An index written by a newer version: left untouched (ArchivalIndex keeps it aside). */
export class IndexTooNewError extends UnsupportedFileError {
  constructor(
    readonly dir: string,
    readonly found: number,
  ) {
    super(`The archival index at ${dir} has schema ${found}, newer than this version understands (${SCHEMA_VERSION}).`);
    this.name = 'IndexTooNewError';
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

function validateShardEntry(v: unknown, i: number): ShardEntry {
  if (
    !isObj(v) ||
    typeof v.name !== 'string' ||
    !/^shard-\d+$/.test(v.name) ||
    !isCount(v.count) ||
    !isCount(v.indexBytes) ||
    !isCount(v.cacheBytes) ||
    !isCount(v.textBytes) ||
    !Array.isArray(v.deleted) ||
    !v.deleted.every((d) => typeof d === 'string')
  ) {
    throw new Error(`"shards[${i}]" is not a shard entry`);
  }
  return {
    name: v.name,
    count: v.count,
    indexBytes: v.indexBytes,
    cacheBytes: v.cacheBytes,
    textBytes: v.textBytes,
    deleted: v.deleted as string[],
  };
}

/** A manifest of a newer schema is refused untouched; anything else that is not a manifest is damage. */
function validateManifest(dir: string): (v: unknown) => Manifest {
  return (v) => {
    if (!isObj(v)) throw new Error('not a JSON object');
    if (typeof v.schema === 'number' && Number.isInteger(v.schema) && v.schema > SCHEMA_VERSION) throw new IndexTooNewError(dir, v.schema);
    if (v.schema !== SCHEMA_VERSION && !CONVERTIBLE_SCHEMAS.includes(v.schema as number)) throw new Error('"schema" is missing');
    if (typeof v.embedderId !== 'string' || !isCount(v.dimensions) || v.dimensions === 0)
      throw new Error('"embedderId" or "dimensions" is missing');
    if (!isCount(v.nextShard) || !isCount(v.journalGen) || !Array.isArray(v.shards))
      throw new Error('"nextShard", "journalGen" or "shards" is missing');
    return {
      schema: v.schema as number,
      embedderId: v.embedderId,
      dimensions: v.dimensions,
      nextShard: v.nextShard,
      journalGen: v.journalGen,
      shards: v.shards.map(validateShardEntry),
    };
  };
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Journal lines are input like any file: checked field by field before they reach the store. */
function validateJournalEntry(v: unknown): JournalEntry {
  if (!isObj(v)) throw new Error('not an object');
  if (v.op === 'del' && typeof v.id === 'string') return { op: 'del', id: v.id };
  const r = v.r;
  if (
    v.op !== 'put' ||
    typeof v.text !== 'string' ||
    typeof v.v !== 'string' ||
    !isObj(r) ||
    typeof r.id !== 'string' ||
    (r.source !== 'workspace' && r.source !== 'memory') ||
    typeof r.path !== 'string' ||
    !isNum(r.startLine) ||
    !isNum(r.endLine) ||
    !isNum(r.length) ||
    ![r.language, r.hash, r.fileHash, r.time].every((x) => typeof x === 'string')
  ) {
    throw new Error('not a journal entry');
  }
  const record: ChunkRecord = {
    id: r.id,
    source: r.source,
    path: r.path,
    startLine: r.startLine,
    endLine: r.endLine,
    language: r.language as string,
    hash: r.hash as string,
    fileHash: r.fileHash as string,
    time: r.time as string,
    length: r.length,
  };
  if (typeof r.symbols === 'string' && r.symbols !== '') record.symbols = r.symbols;
  return { op: 'put', r: record, text: v.text, v: v.v };
}

/**
 * The journal being written. Opened in the background so that a flush can switch to a new
 * generation synchronously: appends made meanwhile wait for the open, in the order they came.
 */
class Journal {
  private readonly log: Promise<AppendLog<JournalEntry>>;

  constructor(file: string, opened?: AppendLog<JournalEntry>) {
    this.log = opened ? Promise.resolve(opened) : AppendLog.open(file, journalOptions(false)).then((r) => r.log);
    // An open that fails is reported by the append that needs it.
    this.log.catch(() => undefined);
  }

  async append(lines: readonly Buffer[]): Promise<void> {
    if (lines.length > 0) await (await this.log).appendEncoded(lines);
  }

  async close(): Promise<void> {
    await (await this.log.catch(() => null))?.close();
  }
}

function journalOptions(readOnly: boolean) {
  // Not synced per append: the index is rebuilt from the files if a power cut loses a tail.
  return { validate: validateJournalEntry, durable: false, legacyJsonLines: true, readOnly };
}

export class ReadOnlyIndexError extends MemgptError {
  constructor() {
    super('read_only', "The archival index cannot be changed in this window: another window holds this workspace's memory.");
  }
}

export interface NewChunk {
  record: Omit<ChunkRecord, 'length'>;
  text: string;
  vector: Float32Array;
}

class Segment {
  records: ChunkRecord[] = [];
  /**
   * Memtables: the float vectors, row-major, in blocks of MEMTABLE_BLOCK_ROWS rows (row i is row
   * i % MEMTABLE_BLOCK_ROWS of block i / MEMTABLE_BLOCK_ROWS). Shards keep codes in memory and
   * floats on disk (`disk.floats`).
   */
  blocks: Float32Array[] | undefined;
  dead: Uint8Array;
  deadCount = 0;
  /** BM25 document lengths, beside the records: scoring reads them per posting (no object per read). */
  lengths: Uint32Array;
  /** Texts in memory (memtables) or on disk (shards). */
  memTexts: string[] | undefined;
  disk: LoadedShard | undefined;
  postings: Postings;
  /** Per-document term counts, kept only by memtables (to build postings when flushed). */
  termCounts: PackedCounts[] | undefined;
  /** Shards: where their rows fall in the store-wide lists (none until assigned: scanned whole). */
  lists: ShardAssignment | undefined;

  constructor(
    readonly name: string | undefined,
    readonly dimensions: number,
    init?: { loaded: LoadedShard; dict: TermDictionary },
  ) {
    if (init) {
      this.records = init.loaded.records;
      this.dead = new Uint8Array(this.records.length);
      this.lengths = Uint32Array.from(this.records, (r) => r.length);
      this.disk = init.loaded;
      this.postings = new FrozenPostings(init.loaded.postings, init.dict);
    } else {
      this.blocks = [new Float32Array(MEMTABLE_FIRST_BLOCK_ROWS * dimensions)];
      this.dead = new Uint8Array(MEMTABLE_FIRST_BLOCK_ROWS);
      this.lengths = new Uint32Array(MEMTABLE_FIRST_BLOCK_ROWS);
      this.memTexts = [];
      this.termCounts = [];
      this.postings = new MutablePostings();
    }
  }

  get size(): number {
    return this.records.length;
  }

  get isMemtable(): boolean {
    return this.memTexts !== undefined && this.name === undefined;
  }

  append(record: ChunkRecord, text: string, vector: Float32Array, counts: PackedCounts): number {
    const i = this.records.length;
    const blocks = this.blocks;
    if (!blocks) throw new Error('a shard is immutable');
    const dim = this.dimensions;
    const b = i >> MEMTABLE_BLOCK_SHIFT;
    if (b === blocks.length) blocks.push(new Float32Array(MEMTABLE_BLOCK_ROWS * dim));
    else if (b === 0 && (i + 1) * dim > blocks[0]!.length) {
      // the first block doubles up to a whole block: at most one block's rows are ever copied
      const grown = new Float32Array(Math.min(MEMTABLE_BLOCK_ROWS, 2 * (blocks[0]!.length / dim)) * dim);
      grown.set(blocks[0]!);
      blocks[0] = grown;
    }
    if (i >= this.dead.length) {
      // a byte and a word per row: even at 64k rows these copies take well under a millisecond
      const dead = new Uint8Array(this.dead.length * 2);
      dead.set(this.dead);
      this.dead = dead;
      const lengths = new Uint32Array(this.lengths.length * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.lengths[i] = record.length;
    blocks[b]!.set(vector, (i & (MEMTABLE_BLOCK_ROWS - 1)) * dim);
    this.records.push(record);
    this.memTexts!.push(text);
    this.termCounts!.push(counts);
    (this.postings as MutablePostings).add(i, counts);
    return i;
  }

  texts(indices: readonly number[]): string[] {
    if (this.memTexts) return indices.map((i) => this.memTexts![i]!);
    return readShardTexts(this.disk!.texts, indices);
  }

  /** Every text, in order (flushes and compaction). */
  async allTexts(slice?: TimeSlice): Promise<string[]> {
    if (this.memTexts) return this.memTexts.slice(0, this.size);
    return readAllShardTexts(this.disk!.texts, slice);
  }

  /** One exact float vector (a copy for shards, a view into the memtable). */
  floatRow(i: number): Float32Array {
    if (this.blocks) {
      const at = (i & (MEMTABLE_BLOCK_ROWS - 1)) * this.dimensions;
      return this.blocks[i >> MEMTABLE_BLOCK_SHIFT]!.subarray(at, at + this.dimensions);
    }
    return readShardFloatRow(this.disk!.floats, i, this.dimensions);
  }

  /**
   * Every float vector, as a function from row to vector (flushes, compaction, repairs): views
   * into the memtable's blocks, or rows of a shard's floats read whole from disk.
   */
  async floatRows(): Promise<(i: number) => Float32Array> {
    if (this.blocks) return (i) => this.floatRow(i);
    const all = await readAllShardFloats(this.disk!.floats, this.size, this.dimensions);
    const dim = this.dimensions;
    return (i) => all.subarray(i * dim, (i + 1) * dim);
  }

  /** A shard's float vectors, whole and in order (Vectra copy repairs). */
  async allFloats(): Promise<Float32Array> {
    if (this.blocks) throw new Error('a memtable has no single float array: use floatRows');
    return readAllShardFloats(this.disk!.floats, this.size, this.dimensions);
  }

  /** A shard's codes, as the store-wide lists are built from them. */
  codeRows(): CodeRows {
    return { codes: this.disk!.codes, scales: this.disk!.scales, n: this.size, dead: this.dead };
  }

  /** Releases the open texts and vectors files, if any. */
  release(): void {
    if (this.disk) {
      closeShardTexts(this.disk.texts);
      closeShardFloats(this.disk.floats);
    }
  }
}

export interface ChunkRef {
  segment: Segment;
  index: number;
}

export interface ScoredRef extends ChunkRef {
  score: number;
}

export type Notice = (message: string) => void;

/** Keeps the k best (score, ref) pairs seen. */
class TopK {
  readonly items: ScoredRef[] = [];
  private minAt = -1;
  constructor(private readonly k: number) {}
  get threshold(): number {
    return this.items.length < this.k ? -Infinity : this.items[this.minAt]!.score;
  }
  offer(segment: Segment, index: number, score: number): void {
    if (this.k <= 0) return;
    if (this.items.length < this.k) {
      this.items.push({ segment, index, score });
      if (this.items.length === this.k) this.findMin();
      return;
    }
    if (score <= this.items[this.minAt]!.score) return;
    this.items[this.minAt] = { segment, index, score };
    this.findMin();
  }
  private findMin(): void {
    let m = 0;
    for (let i = 1; i < this.items.length; i++) if (this.items[i]!.score < this.items[m]!.score) m = i;
    this.minAt = m;
  }
  sorted(): ScoredRef[] {
    return [...this.items].sort((a, b) => b.score - a.score);
  }
}

function encodeVector(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}
function decodeVector(s: string, dimensions: number): Float32Array {
  const b = Buffer.from(s, 'base64');
  if (b.length !== dimensions * 4) throw new Error(`journal vector has ${b.length / 4} dimensions, expected ${dimensions}`);
  const out = new Float32Array(dimensions);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** The non-zero dimensions of a query and their weights. */
function sparseQuery(query: Float32Array, nonZero: number): { dims: Int32Array; weights: Float64Array } {
  const dims = new Int32Array(nonZero);
  const weights = new Float64Array(nonZero);
  let j = 0;
  for (let d = 0; d < query.length; d++) {
    if (query[d] !== 0) {
      dims[j] = d;
      weights[j++] = query[d]!;
    }
  }
  return { dims, weights };
}

function sparseDot(dims: Int32Array, weights: Float64Array, vectors: Float32Array, offset: number): number {
  let s = 0;
  for (let j = 0; j < dims.length; j++) s += weights[j]! * vectors[offset + dims[j]!]!;
  return s;
}

/** Dot product with four independent sums (one sum is bound by the latency of each addition). */
export function denseDot(query: Float32Array, vectors: Float32Array, offset: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += query[d]! * vectors[offset + d]!;
    s1 += query[d + 1]! * vectors[offset + d + 1]!;
    s2 += query[d + 2]! * vectors[offset + d + 2]!;
    s3 += query[d + 3]! * vectors[offset + d + 3]!;
  }
  for (; d < dim; d++) s0 += query[d]! * vectors[offset + d]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Scores rows of a shard on their int8 codes into `pool`: rows `from…to`, or `rows[from…to)`
 * (an inverted list). One plain loop with the pool's threshold kept in a local: this is the
 * inner loop of every dense query. Returns how many rows were scored.
 */
function scanCodes(
  seg: Segment,
  qc: QueryCodes,
  sparse: boolean,
  pool: TopK,
  accept: ((r: ChunkRecord) => boolean) | undefined,
  rows: Uint32Array | undefined,
  from: number,
  to: number,
): number {
  const { codes, scales } = seg.disk!;
  const { dead, records, dimensions: dim } = seg;
  const { weights, sparseDims, sparseWeights, scale: qScale } = qc;
  let threshold = pool.threshold;
  let scored = 0;
  for (let at = from; at < to; at++) {
    const i = rows ? rows[at]! : at;
    if (dead[i]) continue;
    if (accept && !accept(records[i]!)) continue;
    scored++;
    const dot = sparse ? sparseCodeDot(sparseDims, sparseWeights, codes, i * dim) : codeDot(weights, codes, i * dim, dim);
    const s = qScale * scales[i]! * dot;
    if (s > threshold) {
      pool.offer(seg, i, s);
      threshold = pool.threshold;
    }
  }
  return scored;
}

/** What BM25F sees of a chunk: its path (a question naming a module finds its files), the names it defines, its text. */
function lexicalFields(record: Pick<ChunkRecord, 'path' | 'symbols' | 'language'>, text: string): ChunkFields {
  return { path: record.path, symbols: record.symbols, language: record.language, text };
}

/** Thrown inside the lists' upkeep when the store closes: the work is abandoned, nothing is written. */
class ListsStopped extends Error {}

export class DimensionMismatchError extends MemgptError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('dimension_mismatch', message, options);
  }
}

export class ChunkStore {
  readonly dict = new TermDictionary();
  private segments: Segment[] = [];
  private memtable: Segment;
  private readonly byId = new SplitMap<ChunkRef>();
  private readonly byPath = new Map<string, Set<string>>();
  private readonly liveBySource: Record<ArchivalSource, number> = { workspace: 0, memory: 0 };
  private totalLength = 0;
  private journal: Journal | null;
  private flushing: Promise<void> | undefined;
  /**
   * Score sparse queries over their non-zero dimensions (see vectorSearch). Off
   * only to measure the dense path that an embeddings endpoint's queries take.
   */
  sparseQueries = true;
  /**
   * Search large stores through the shards' inverted lists. Off only to measure the approximate
   * search against the exact one (recall@k in the benchmarks and tests).
   */
  approximateQueries = true;
  /** Vectors the last vector search scored, of how many live ones (benchmarks and tests show the search is sub-linear). */
  lastVectorScan = { scored: 0, live: 0 };
  private closed = false;
  /** The store-wide inverted lists (none below ANN_MIN_CHUNKS shard rows, or until trained). */
  private coarse: CoarseLists | undefined;
  /** Background upkeep of the lists (single-flight; `listsAgain` asks for one more round). */
  private listsWork: Promise<void> | undefined;
  private listsAgain = false;
  private closing = false;
  /** Replaces and removes change the in-memory index one at a time (a replace yields midway). */
  private readonly commits = new SerialQueue();

  private constructor(
    readonly dir: string,
    private manifest: Manifest,
    private journalGen: number,
    private readonly notice: Notice,
    /** Without the workspace lock: repairs stay in memory, writes throw ReadOnlyIndexError. */
    readonly readOnly: boolean,
    private readonly log: Notice,
  ) {
    this.memtable = new Segment(undefined, manifest.dimensions);
    this.segments.push(this.memtable);
    this.journal = null;
  }

  get dimensions(): number {
    return this.manifest.dimensions;
  }

  /**
   * Opens (or creates) the store in `dir`. Refuses a store built for another embedder or
   * dimension, and one of a newer schema (IndexTooNewError, folder untouched). A damaged
   * manifest is kept aside and the store starts empty; damaged shards are repaired or dropped.
   * `notice` hears what the user must know (derived data rebuilt); `log` hears routine repairs.
   */
  static async open(options: {
    dir: string;
    embedderId: string;
    dimensions: number;
    notice?: Notice;
    log?: Notice;
    readOnly?: boolean;
  }): Promise<ChunkStore> {
    const { dir, embedderId, dimensions } = options;
    const notice = options.notice ?? (() => undefined);
    const log = options.log ?? (() => undefined);
    const readOnly = options.readOnly === true;
    if (!readOnly) await fs.mkdir(dir, { recursive: true });
    const manifestPath = path.join(dir, 'manifest.json');
    let manifest: Manifest | undefined;
    let lostManifest = false;
    try {
      manifest = await readJsonFile(manifestPath, validateManifest(dir), { readOnly });
    } catch (err) {
      if (!(err instanceof UnreadableFileError)) throw err;
      lostManifest = true;
      const kept = err instanceof CorruptFileError ? `it was kept aside as ${path.basename(err.keptAs)} and ` : '';
      notice(
        `The archival index manifest ${path.join(path.basename(dir), 'manifest.json')} was damaged (${err.reason}); ${kept}the index of the workspace starts empty` +
          (readOnly ? ' in this read-only window' : '') +
          '. Remembered items are restored from memories.jsonl; the workspace files are re-indexed on the next index run (in VS Code when the window opens, on the command line with `memgpt index`).',
      );
      if (!readOnly) await removeLeftovers(dir);
    }
    if (manifest) {
      if (manifest.dimensions !== dimensions || manifest.embedderId !== embedderId) {
        throw new DimensionMismatchError(
          `The archival index at ${dir} holds ${manifest.dimensions}-dimensional vectors from "${manifest.embedderId}", but the embedder "${embedderId}" produces ${dimensions}-dimensional ones. ` +
            'Vectors of different models cannot be mixed; open the index folder named for this embedder (ArchivalIndex does this), or delete this folder to rebuild it.',
        );
      }
    } else {
      manifest = { schema: SCHEMA_VERSION, embedderId, dimensions, nextShard: 1, journalGen: 1, shards: [] };
      if (!readOnly) await atomicWriteFile(manifestPath, JSON.stringify(manifest));
    }
    // Journals and shards of a lost manifest are unreachable: a read-only window leaves them to the writer.
    const names = lostManifest && readOnly ? [] : await fs.readdir(dir).catch(() => [] as string[]);
    const journals = names
      .map((f) => /^journal-(\d+)\.log$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((g) => g >= manifest!.journalGen)
      .sort((a, b) => a - b);
    const gen = journals.length > 0 ? journals[journals.length - 1]! : manifest.journalGen;
    const store = new ChunkStore(dir, lostManifest && readOnly ? { ...manifest, shards: [] } : manifest, gen, notice, readOnly, log);
    try {
      await store.loadShards();
      if (!lostManifest) await store.loadLists();
      for (const g of journals) await store.replayJournal(g, g === gen);
      if (!readOnly) store.journal ??= new Journal(store.journalPath(gen));
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
    store.maybeFlush();
    store.keepListsCurrent();
    return store;
  }

  private journalPath(gen: number): string {
    return path.join(this.dir, `journal-${gen}.log`);
  }

  private async loadShards(): Promise<void> {
    const dims = this.manifest.dimensions;
    const kept: ShardEntry[] = [];
    let changed = false;
    let converted = 0;
    for (const entry of this.manifest.shards) {
      const shardDir = path.join(this.dir, entry.name);
      let loaded: LoadedShard | undefined;
      try {
        const texts = await readShardTextIndex(shardDir, entry.count, entry.textBytes);
        let damage = '';
        try {
          loaded = { ...(await readShardCache(shardDir, dims, entry.cacheBytes)), texts };
        } catch (err) {
          if (!(err instanceof CorruptShardError)) throw err;
          damage = err.message;
          if (err instanceof LegacyShardCacheError) {
            if (converted === 0)
              this.notice(
                `Archival index: converting ${this.manifest.shards.length} shard(s) to compact vectors (int8 codes with the floats kept on disk, and inverted lists for fast search). ` +
                  'This happens once, after an update; the index is derived data and nothing is lost.',
              );
            try {
              loaded = await this.convertLegacyShard(shardDir, entry, texts);
              converted++;
              if (!this.readOnly) changed = true;
            } catch (convertErr) {
              if (!(convertErr instanceof CorruptShardError)) throw convertErr;
              damage = convertErr.message; // repaired from the Vectra copy below
            }
          }
        }
        if (!loaded) {
          const content = await readVectraShard(shardDir, dims);
          if (content.records.length !== entry.count)
            throw new CorruptShardError(`${entry.name}/index.pb holds ${content.records.length} chunks, expected ${entry.count}`);
          const all = await readAllShardTexts(texts);
          const postings = await this.postingsFor(content.records, all);
          loaded = await this.servedShard(shardDir, entry, { ...content, postings }, texts);
          if (!this.readOnly) changed = true;
          this.log(
            `Archival index: shard ${entry.name} had a damaged cache (${damage}); it was rebuilt from its Vectra copy, nothing was lost.`,
          );
        }
      } catch (err) {
        if (!(err instanceof CorruptShardError)) throw err;
        this.notice(
          `Archival index: shard ${entry.name} is damaged beyond repair (${err.message}); its ${entry.count} chunks were dropped` +
            (this.readOnly ? ' in this read-only window' : '') +
            '. Remembered items are restored from memories.jsonl; the workspace files are re-indexed on the next index run (in VS Code when the window opens, on the command line with `memgpt index`).',
        );
        if (!this.readOnly) {
          await fs.rm(shardDir, { recursive: true, force: true });
          changed = true;
        }
        continue;
      }
      const seg = new Segment(entry.name, dims, { loaded: loaded!, dict: this.dict });
      this.addSegment(seg);
      const deleted = new Set(entry.deleted);
      if (deleted.size > 0) for (let i = 0; i < seg.size; i++) if (deleted.has(seg.records[i]!.id)) this.markDead(seg, i);
      kept.push(entry);
      if (!this.readOnly) void this.checkVectraCopy(entry, seg);
    }
    if (converted > 0)
      this.notice(
        `Archival index: ${converted} shard(s) converted to compact vectors` +
          (this.readOnly ? ' in memory (this read-only window does not write them)' : '') +
          '.',
      );
    if (this.manifest.schema !== SCHEMA_VERSION && !this.readOnly) changed = true;
    if (changed) {
      this.manifest = { ...this.manifest, schema: SCHEMA_VERSION, shards: kept };
      await this.saveManifest();
    }
  }

  /**
   * A shard rebuilt from its floats: written as a new cache (writable stores) or served from
   * memory (a read-only window, which may not write; the window holding the lock rewrites it).
   */
  private async servedShard(
    shardDir: string,
    entry: ShardEntry,
    content: Pick<ShardContent, 'records' | 'vectors' | 'postings'>,
    texts: LoadedShard['texts'],
  ): Promise<LoadedShard> {
    const dims = this.manifest.dimensions;
    const slice = new TimeSlice();
    if (this.readOnly) {
      const compact = await compactVectors(content.vectors, content.records.length, dims, slice);
      return {
        ...compact,
        records: content.records,
        postings: content.postings,
        floats: { path: '', at: 0, memory: content.vectors },
        texts,
      };
    }
    const written = await writeShardCache(shardDir, content, dims, slice);
    entry.cacheBytes = written.bytes;
    return { ...(await readShardCache(shardDir, dims, entry.cacheBytes)), texts };
  }

  /** A shard whose cache has the previous layout (floats only): its codes and lists are computed now. */
  private async convertLegacyShard(shardDir: string, entry: ShardEntry, texts: LoadedShard['texts']): Promise<LoadedShard> {
    const legacy = await readLegacyShardCache(shardDir, this.manifest.dimensions);
    if (legacy.records.length !== entry.count)
      throw new CorruptShardError(`${entry.name}/cache.bin holds ${legacy.records.length} chunks, expected ${entry.count}`);
    return this.servedShard(shardDir, entry, legacy, texts);
  }

  /** A missing or truncated Vectra copy is rewritten from the cache, in the background. */
  private async checkVectraCopy(entry: ShardEntry, seg: Segment): Promise<void> {
    const shardDir = path.join(this.dir, entry.name);
    let size = -1;
    try {
      size = (await fs.stat(shardIndexPath(shardDir))).size;
    } catch {
      // missing
    }
    if (size === entry.indexBytes) return;
    try {
      entry.indexBytes = await writeVectraShard(shardDir, { records: seg.records, vectors: await seg.allFloats() }, seg.dimensions);
      await this.saveManifest();
      this.log(
        `Archival index: the Vectra copy of shard ${entry.name} was missing or damaged; it was rewritten from the cache, nothing was lost.`,
      );
    } catch (err) {
      this.log(`Archival index: could not repair the Vectra copy of shard ${entry.name}: ${(err as Error).message}`);
    }
  }

  /** Replays one journal; the newest (`current`) stays open for appends. */
  private async replayJournal(gen: number, current: boolean): Promise<void> {
    const { log, entries, report } = await AppendLog.open<JournalEntry>(this.journalPath(gen), journalOptions(this.readOnly));
    if (current && !this.readOnly) this.journal = new Journal(this.journalPath(gen), log);
    else await log.close();
    this.reportJournal(`journal-${gen}.log`, report);
    for (const e of entries) {
      if (e.op === 'put') {
        try {
          this.insertInMemory(e.r, e.text, decodeVector(e.v, this.dimensions));
        } catch (err) {
          this.notice(`Archival index: skipped a damaged journal entry: ${(err as Error).message}`);
        }
      } else if (e.op === 'del') this.deleteInMemory(e.id);
    }
  }

  private reportJournal(name: string, report: AppendLogOpenReport): void {
    if (report.tornPartialLine && report.droppedTailLines === 0) {
      this.log(
        `Archival index: the last ${report.droppedTailBytes} bytes of ${name} were a torn write (the editor stopped mid-save); they were ${this.readOnly ? 'skipped' : 'dropped'}.`,
      );
    }
    const damaged = report.droppedTailLines + report.corruptLinesSkipped + report.invalidEntriesSkipped;
    if (damaged > 0) {
      this.notice(
        `Archival index: ${damaged} damaged line(s) in ${name} were skipped` +
          (report.tailKeptAs ? ` (the damaged end was kept as ${path.basename(report.tailKeptAs)})` : '') +
          '; the workspace files they described are re-indexed on the next index run.',
      );
    }
    if (report.legacyLines > 0 && !this.readOnly)
      this.log(`Archival index: ${name} was converted to checksummed lines (${report.legacyLines} entries).`);
  }

  private postingsFor(records: ChunkRecord[], texts: string[]) {
    return buildStoredPostings(
      texts.map((t, i) => packCounts(countChunkTerms(lexicalFields(records[i]!, t), this.dict).counts)),
      this.dict,
      new TimeSlice(),
    );
  }

  private addSegment(seg: Segment): void {
    // shards go before the memtables so that scans see old data first (order does not matter for scores)
    this.segments.splice(this.segments.length - 1, 0, seg);
    for (let i = 0; i < seg.size; i++) this.indexRecord(seg, i);
  }

  private indexRecord(seg: Segment, i: number): void {
    const r = seg.records[i]!;
    const old = this.byId.get(r.id);
    if (old) this.markDead(old.segment, old.index);
    this.byId.set(r.id, { segment: seg, index: i });
    if (r.path !== '') {
      let ids = this.byPath.get(r.path);
      if (!ids) this.byPath.set(r.path, (ids = new Set()));
      ids.add(r.id);
    }
    this.liveBySource[r.source]++;
    this.totalLength += r.length;
  }

  private markDead(seg: Segment, i: number): void {
    if (seg.dead[i]) return;
    seg.dead[i] = 1;
    seg.deadCount++;
    const r = seg.records[i]!;
    this.liveBySource[r.source]--;
    this.totalLength -= r.length;
    const ref = this.byId.get(r.id);
    if (ref && ref.segment === seg && ref.index === i) {
      this.byId.delete(r.id);
      const ids = this.byPath.get(r.path);
      if (ids) {
        ids.delete(r.id);
        if (ids.size === 0) this.byPath.delete(r.path);
      }
    }
  }

  private insertInMemory(record: Omit<ChunkRecord, 'length'>, text: string, vector: Float32Array): void {
    const { counts, length } = countChunkTerms(lexicalFields(record, text), this.dict);
    const r: ChunkRecord = { ...record, length };
    const i = this.memtable.append(r, text, vector, packCounts(counts));
    this.indexRecord(this.memtable, i);
  }

  private deleteInMemory(id: string): boolean {
    const ref = this.byId.get(id);
    if (!ref) return false;
    this.markDead(ref.segment, ref.index);
    return true;
  }

  /** Adds chunks (replacing any with the same id); durable when the promise resolves. */
  add(chunks: readonly NewChunk[]): Promise<void> {
    return this.replace([], chunks);
  }

  /**
   * Read-only stores: adds chunks to memory only, so a read-only window can search what the
   * window holding the lock has not indexed yet (remembered items missing from the index).
   */
  addInMemory(chunks: readonly NewChunk[]): void {
    if (!this.readOnly) throw new Error('addInMemory is for read-only stores; use add, which is durable.');
    for (const c of chunks) this.insertInMemory(c.record, c.text, c.vector);
  }

  /**
   * Deletes `removeIds` and adds `chunks` in one journal write, so a crash keeps
   * both or neither. Term counting is done first, in slices that yield to the
   * event loop; the ids to remove are read only then (a function, so that a
   * concurrent replace of the same file cannot leave duplicates).
   */
  async replace(removeIds: Iterable<string> | (() => Iterable<string>), chunks: readonly NewChunk[]): Promise<void> {
    this.assertWritable();
    for (const c of chunks) {
      if (c.vector.length !== this.dimensions) {
        throw new DimensionMismatchError(
          `A ${c.vector.length}-dimensional vector cannot go into an index of ${this.dimensions}-dimensional vectors.`,
        );
      }
    }
    // Everything that does not touch shared state is done first, in slices: term
    // counts and the journal lines (a 1 MB file makes ~4 MB of JSON).
    const prepared: { record: ChunkRecord; counts: PackedCounts; line: Buffer }[] = [];
    const slice = new TimeSlice();
    for (const c of chunks) {
      const { counts, length } = countChunkTerms(lexicalFields(c.record, c.text), this.dict);
      const record: ChunkRecord = { ...c.record, length };
      const entry: JournalEntry = { op: 'put', r: record, text: c.text, v: encodeVector(c.vector) };
      prepared.push({ record, counts: packCounts(counts), line: encodeLogLine(entry) });
      await slice.check();
    }
    // Putting a batch into the memtable costs ~25 µs a chunk (postings, id maps, vector copy),
    // so a 2048-chunk batch held the loop 40-90 ms of CPU time: it is sliced too. Commits take
    // turns, so a replace of the same file (or a remove) cannot read the ids to delete while
    // another commit is half done. A search in between may see part of a large batch.
    const { write } = await this.commits.run(async () => {
      if (this.memtable.size - this.memtable.deadCount >= MEMTABLE_MAX_CHUNKS && this.flushing) {
        // Back-pressure: wait for the running flush (its failure is reported by whoever started
        // it), then start the next, so later commits wait for that one in turn.
        await this.flushing.catch(() => undefined);
        this.maybeFlush();
      }
      this.assertOpen();
      const lines: Buffer[] = [];
      for (const id of typeof removeIds === 'function' ? removeIds() : removeIds)
        if (this.deleteInMemory(id)) lines.push(encodeLogLine({ op: 'del', id } satisfies JournalEntry));
      const commitSlice = new TimeSlice();
      for (let k = 0; k < chunks.length; k++) {
        const p = prepared[k]!;
        // read each time: a flush that starts during a yield swaps in a fresh memtable
        const i = this.memtable.append(p.record, chunks[k]!.text, chunks[k]!.vector, p.counts);
        this.indexRecord(this.memtable, i);
        lines.push(p.line);
        await commitSlice.check();
      }
      // The write is queued now (in commit order) and awaited outside the turn, so the next
      // commit does not wait for the disk.
      return { write: this.journal!.append(lines) };
    });
    await write;
    this.maybeFlush();
  }

  /** Deletes chunks by id; unknown ids are ignored. Returns how many were deleted. */
  async remove(ids: Iterable<string>): Promise<number> {
    this.assertWritable();
    const { write, count } = await this.commits.run(() => {
      this.assertOpen();
      const entries: JournalEntry[] = [];
      for (const id of ids) if (this.deleteInMemory(id)) entries.push({ op: 'del', id });
      return { write: this.journal!.append(entries.map((e) => encodeLogLine(e))), count: entries.length };
    });
    await write;
    this.maybeFlush();
    return count;
  }

  idsOfPath(p: string): string[] {
    return [...(this.byPath.get(p) ?? [])];
  }

  /** Whether some live chunk of path `p` satisfies `test` (without copying its ids). */
  pathHas(p: string, test: (r: ChunkRecord) => boolean): boolean {
    const ids = this.byPath.get(p);
    if (!ids) return false;
    for (const id of ids) {
      const ref = this.byId.get(id);
      if (ref && test(ref.segment.records[ref.index]!)) return true;
    }
    return false;
  }

  paths(): string[] {
    return [...this.byPath.keys()];
  }

  get(id: string): ChunkRef | undefined {
    return this.byId.get(id);
  }

  count(source?: ArchivalSource): number {
    return source ? this.liveBySource[source] : this.liveBySource.workspace + this.liveBySource.memory;
  }

  /** Every live record (for the memory log restore and for tests). */
  *live(): Generator<{ ref: ChunkRef; record: ChunkRecord }> {
    for (const seg of this.segments)
      for (let i = 0; i < seg.size; i++) if (!seg.dead[i]) yield { ref: { segment: seg, index: i }, record: seg.records[i]! };
  }

  record(ref: ChunkRef): ChunkRecord {
    return ref.segment.records[ref.index]!;
  }

  /** The exact float vector of a chunk (read from disk for shards: a few microseconds from the page cache). */
  vector(ref: ChunkRef): Float32Array {
    return ref.segment.floatRow(ref.index);
  }

  /** The texts of `refs` (shard texts are read from disk: keep it to a page of hits). */
  async texts(refs: readonly ChunkRef[]): Promise<string[]> {
    return this.textsNow(refs);
  }

  /**
   * The same, read in one synchronous step: refs taken from a search stay valid
   * (a background flush cannot retire their shard between two reads).
   */
  textsNow(refs: readonly ChunkRef[]): string[] {
    const out = new Array<string>(refs.length);
    const bySeg = new Map<Segment, number[]>();
    refs.forEach((r, k) => {
      let list = bySeg.get(r.segment);
      if (!list) bySeg.set(r.segment, (list = []));
      list.push(k);
    });
    for (const [seg, ks] of bySeg) {
      const texts = seg.texts(ks.map((k) => refs[k]!.index));
      ks.forEach((k, j) => (out[k] = texts[j]!));
    }
    return out;
  }

  /**
   * Cosine top-k over live chunks (vectors are unit length, so a dot product), in two passes:
   * every candidate is scored on its int8 codes (memtable chunks on their floats), the best
   * max(VECTOR_RESCORE_FACTOR·k, VECTOR_RESCORE_MIN) are kept, and those are re-scored on the exact
   * floats, so the scores returned are the float ones. A sparse query (the local embedder's: a
   * short question sets ~20-40 of 384 dimensions) is scored over its non-zero dimensions only.
   * From ANN_MIN_CHUNKS live chunks on, the candidates of a shard are the rows of the store-wide
   * lists nearest the query (as many lists as measured when they were trained); a shard not yet
   * assigned to the current lists, and the memtable, are scanned whole.
   */
  vectorSearch(query: Float32Array, k: number, accept?: (r: ChunkRecord) => boolean): ScoredRef[] {
    if (k <= 0) return [];
    const dim = this.dimensions;
    let nonZero = 0;
    for (let d = 0; d < dim; d++) if (query[d] !== 0) nonZero++;
    const sparse = this.sparseQueries && nonZero <= dim * SPARSE_QUERY_MAX_FRACTION ? sparseQuery(query, nonZero) : undefined;
    const lists = this.searchLists();
    const probe = lists ? probeOrder(query, lists).subarray(0, lists.probes) : undefined;
    let found = this.scoreCandidates(query, k, sparse, accept, lists, probe);
    // A filter (a folder, a source) can leave the nearest lists with fewer than k rows it accepts:
    // those are found by scanning everything.
    if (probe && found.pool.items.length < k) {
      const scored = found.scored;
      found = this.scoreCandidates(query, k, sparse, accept, undefined, undefined);
      found.scored += scored;
    }
    this.lastVectorScan = { scored: found.scored, live: this.count() };
    // Re-score on the exact floats, in one synchronous step (refs stay valid; see textsNow).
    const top = new TopK(k);
    for (const c of found.pool.items) top.offer(c.segment, c.index, denseDot(query, c.segment.floatRow(c.index), 0, dim));
    return top.sorted();
  }

  /** The first pass of vectorSearch: the best candidates on codes (memtables on floats), through `probe` lists if given. */
  private scoreCandidates(
    query: Float32Array,
    k: number,
    sparse: { dims: Int32Array; weights: Float64Array } | undefined,
    accept: ((r: ChunkRecord) => boolean) | undefined,
    lists: CoarseLists | undefined,
    probe: Uint32Array | undefined,
  ): { pool: TopK; scored: number } {
    const dim = this.dimensions;
    const pool = new TopK(Math.max(k * VECTOR_RESCORE_FACTOR, VECTOR_RESCORE_MIN));
    let scored = 0;
    let qc: QueryCodes | undefined;
    for (const seg of this.segments) {
      const { dead, records } = seg;
      const n = seg.size;
      if (seg.blocks) {
        for (let b = 0, i = 0; i < n; b++) {
          const vectors = seg.blocks[b]!;
          const end = Math.min(n, i + MEMTABLE_BLOCK_ROWS);
          for (let at = 0; i < end; i++, at += dim) {
            if (dead[i]) continue;
            if (accept && !accept(records[i]!)) continue;
            scored++;
            const s = sparse ? sparseDot(sparse.dims, sparse.weights, vectors, at) : denseDot(query, vectors, at, dim);
            if (s > pool.threshold) pool.offer(seg, i, s);
          }
        }
        continue;
      }
      qc ??= queryCodes(query);
      const assigned = seg.lists;
      if (!probe || !assigned || assigned.of !== lists) {
        scored += scanCodes(seg, qc, sparse !== undefined, pool, accept, undefined, 0, n);
        continue;
      }
      for (let p = 0; p < probe.length; p++) {
        const list = probe[p]!;
        scored += scanCodes(
          seg,
          qc,
          sparse !== undefined,
          pool,
          accept,
          assigned.rows,
          assigned.offsets[list]!,
          assigned.offsets[list + 1]!,
        );
      }
    }
    return { pool, scored };
  }

  /** Chunks in the memtable, live or deleted (for benchmarks and tests). */
  get memtableSize(): number {
    return this.memtable.size;
  }

  /** The store-wide lists (their size and measured probe count), for benchmarks and tests. */
  get listsInfo(): { lists: number; probes: number; trainedOn: number; calibratedOn: number; used: boolean } | undefined {
    const c = this.coarse;
    return c && { lists: c.lists, probes: c.probes, trainedOn: c.trainedOn, calibratedOn: c.calibratedOn, used: this.searchLists() === c };
  }

  /** The store-wide lists a search goes through now, if any (see vectorSearch). */
  private searchLists(): CoarseLists | undefined {
    const lists = this.coarse;
    if (!this.approximateQueries || !lists || this.count() < ANN_MIN_CHUNKS) return undefined;
    // lists that need most of themselves probed cost more than a scan in order
    return lists.probes <= lists.lists * IVF_MAX_PROBE_FRACTION ? lists : undefined;
  }

  /** BM25 top-k over live chunks. */
  lexicalSearch(query: string, k: number, accept?: (r: ChunkRecord) => boolean): ScoredRef[] {
    const N = this.count();
    if (N === 0) return [];
    const avgdl = Math.max(1, this.totalLength / N);
    const bOverAvg = BM25_B / avgdl;
    // A term only a shard holds gets its id now (shards map their vocabularies lazily); one no segment holds is left out.
    const termIds = [...new Set(queryTerms(query))]
      .map((t) => this.dict.lookup(t) ?? (this.segments.some((s) => s.postings.holdsUnmapped(t)) ? this.dict.id(t) : undefined))
      .filter((t): t is number => t !== undefined);
    if (termIds.length === 0) return [];
    const top = new TopK(k);
    const idf = termIds.map((t) => {
      let df = 0;
      for (const seg of this.segments) df += seg.postings.documentFrequency(t);
      return bm25Idf(N, df);
    });
    for (const seg of this.segments) {
      const n = seg.size;
      if (n === 0) continue;
      const scores = new Float32Array(n);
      const { records, dead, lengths } = seg;
      for (let qi = 0; qi < termIds.length; qi++) {
        const list = seg.postings.list(termIds[qi]!);
        if (!list) continue;
        const w = idf[qi]! * (BM25_K1 + 1);
        const { docs, tfs, end } = list;
        for (let p = list.start; p < end; p++) {
          const doc = docs[p]!;
          const tf = tfs[p]!;
          scores[doc]! += (w * tf) / (tf + BM25_K1 * (1 - BM25_B + bOverAvg * lengths[doc]!));
        }
      }
      for (let i = 0; i < n; i++) {
        const s = scores[i]!;
        if (s <= 0 || s <= top.threshold || dead[i]) continue;
        if (accept && !accept(records[i]!)) continue;
        top.offer(seg, i, s);
      }
    }
    return top.sorted();
  }

  private maybeFlush(): void {
    if (this.readOnly) return;
    if (this.memtable.size - this.memtable.deadCount >= SHARD_MAX_CHUNKS && !this.flushing) {
      this.flush().catch((err: unknown) =>
        this.notice(
          `Archival index: writing a shard failed (${(err as Error).message}); the data stays in the journal and is retried later.`,
        ),
      );
    }
  }

  /** Waits for any background flush and upkeep of the inverted lists. */
  async idle(): Promise<void> {
    while (this.flushing || this.listsWork) {
      if (this.flushing) await this.flushing;
      else await this.listsWork;
    }
  }

  /**
   * Writes the memtable (and shards that are mostly tombstones) as new shards,
   * then drops the journal they came from. Single-flight.
   */
  flush(): Promise<void> {
    if (this.readOnly) return Promise.resolve(); // the window holding the lock writes shards
    if (this.flushing) return this.flushing.then(() => this.flush());
    const run = this.runFlush().finally(() => {
      this.flushing = undefined;
    });
    this.flushing = run;
    return run;
  }

  private async runFlush(): Promise<void> {
    const frozen = this.memtable;
    const compact = this.segments.filter(
      (s) => !s.isMemtable && s.name !== undefined && s.size > 0 && s.deadCount / s.size > SHARD_COMPACT_DEAD_FRACTION,
    );
    if (frozen.size === 0 && compact.length === 0) return;
    // New writes go to a fresh memtable and journal while the old ones are folded.
    this.memtable = new Segment(undefined, this.dimensions);
    this.segments.push(this.memtable);
    const oldWriter = this.journal;
    const newGen = this.journalGen + 1;
    this.journalGen = newGen;
    this.journal = new Journal(this.journalPath(newGen));
    await oldWriter?.close();

    const sources: { seg: Segment; index: number }[] = [];
    for (const seg of [...compact, frozen]) for (let i = 0; i < seg.size; i++) if (!seg.dead[i]) sources.push({ seg, index: i });
    // Every step is sliced: this runs beside indexing and searches on the host's loop.
    const slice = new TimeSlice();
    const textsOf = new Map<Segment, string[]>();
    const floatsOf = new Map<Segment, (i: number) => Float32Array>();
    for (const seg of [...compact, frozen]) {
      textsOf.set(seg, await seg.allTexts(slice));
      floatsOf.set(seg, await seg.floatRows());
    }
    const newSegments: { seg: Segment; from: { seg: Segment; index: number }[]; entry: ShardEntry }[] = [];
    for (let at = 0; at < sources.length; at += SHARD_MAX_CHUNKS) {
      const group = sources.slice(at, at + SHARD_MAX_CHUNKS);
      const dims = this.dimensions;
      const records: ChunkRecord[] = [];
      const texts: string[] = [];
      const perDoc: PackedCounts[] = [];
      const vectors = new Float32Array(group.length * dims);
      for (let j = 0; j < group.length; j++) {
        const { seg, index } = group[j]!;
        const record = seg.records[index]!;
        const text = textsOf.get(seg)![index]!;
        records.push(record);
        texts.push(text);
        vectors.set(floatsOf.get(seg)!(index), j * dims);
        perDoc.push(seg.termCounts?.[index] ?? packCounts(countChunkTerms(lexicalFields(record, text), this.dict).counts));
        await slice.check();
      }
      const postings = await buildStoredPostings(perDoc, this.dict, slice);
      const name = `shard-${String(this.manifest.nextShard++).padStart(5, '0')}`;
      const shardDir = path.join(this.dir, name);
      await fs.rm(shardDir, { recursive: true, force: true });
      const content: ShardContent = { records, vectors, texts, postings };
      const indexBytes = await writeVectraShard(shardDir, content, dims, slice);
      await slice.check();
      const cache = await writeShardCache(shardDir, content, dims, slice);
      const cacheBytes = cache.bytes;
      await slice.check();
      const written = await writeShardTexts(shardDir, texts, slice);
      await slice.check();
      // The shard is served from what was just written, not read back: the bytes came from these
      // arrays. Its floats are dropped from memory and read from cache.bin when needed.
      const loaded: LoadedShard = { ...cache.compact, records, floats: cache.floats, postings, texts: written.index };
      const seg = new Segment(name, dims, { loaded, dict: this.dict });
      newSegments.push({
        seg,
        from: group,
        entry: { name, count: records.length, indexBytes, cacheBytes, textBytes: written.bytes, deleted: [] },
      });
      await slice.yield();
    }

    // Swap: the new shards replace the frozen memtable and the compacted shards.
    const replaced = new Set<Segment>([frozen, ...compact]);
    for (const { seg, from } of newSegments) {
      this.segments.splice(this.segments.indexOf(this.memtable), 0, seg);
      from.forEach((src, j) => {
        const r = src.seg.records[src.index]!;
        const ref = this.byId.get(r.id);
        if (ref && ref.segment === src.seg && ref.index === src.index) this.byId.set(r.id, { segment: seg, index: j });
        else {
          // deleted or replaced while the shard was being written
          seg.dead[j] = 1;
          seg.deadCount++;
        }
      });
    }
    this.segments = this.segments.filter((s) => !replaced.has(s));
    const shardEntries = this.manifest.shards
      .filter((e) => !compact.some((c) => c.name === e.name))
      .concat(newSegments.map((n) => n.entry));
    this.manifest = { ...this.manifest, journalGen: newGen, shards: shardEntries };
    await this.saveManifest();
    for (let g = newGen - 1; g >= 1; g--) {
      try {
        await fs.rm(this.journalPath(g));
      } catch {
        break; // older generations were removed by earlier flushes
      }
    }
    for (const c of compact) {
      c.release();
      await fs.rm(path.join(this.dir, c.name!), { recursive: true, force: true });
    }
    this.keepListsCurrent();
  }

  /** Reads lists.bin and gives each shard it covers its rows; a damaged file is rebuilt in the background. */
  private async loadLists(): Promise<void> {
    let saved;
    try {
      saved = await readCoarseLists(this.dir, this.dimensions);
    } catch (err) {
      if (!(err instanceof CorruptListsError)) throw err;
      this.log(`Archival index: ${err.message}; the inverted lists are rebuilt in the background (searches scan every vector until then).`);
      return;
    }
    if (!saved) return;
    this.coarse = saved.of;
    for (const seg of this.segments) {
      const covered = seg.name ? saved.shards.get(seg.name) : undefined;
      const listOf = covered && covered.first === seg.records[0]?.id ? covered.listOf : undefined;
      if (seg.disk && listOf && listOf.length === seg.size) seg.lists = groupByList(saved.of, listOf);
    }
  }

  /**
   * Starts the background upkeep of the store-wide lists if it is not running: trains them once
   * the shards hold ANN_MIN_CHUNKS rows (again at IVF_RETRAIN_GROWTH times the rows trained on),
   * assigns shards written since, measures the probe count again at IVF_RECALIBRATE_GROWTH times
   * the rows it was measured on, and saves lists.bin. Sliced like a flush. A read-only window
   * uses the lists the writing window saved and scans unassigned shards whole.
   */
  private keepListsCurrent(): void {
    if (this.readOnly || this.closing) return;
    if (this.listsWork) {
      this.listsAgain = true;
      return;
    }
    const run = (async () => {
      do {
        this.listsAgain = false;
        await this.updateLists();
      } while (this.listsAgain && !this.closing);
    })()
      .catch((err: unknown) => {
        if (err instanceof ListsStopped) return;
        this.log(`Archival index: updating the inverted lists failed (${(err as Error).message}); searches scan every vector meanwhile.`);
      })
      .finally(() => {
        this.listsWork = undefined;
      });
    this.listsWork = run;
  }

  private async updateLists(): Promise<void> {
    const slice = new TimeSlice();
    const stop = (): void => {
      if (this.closing) throw new ListsStopped();
    };
    const shards = (): Segment[] => this.segments.filter((s) => s.disk !== undefined && s.name !== undefined);
    const rows = shards().reduce((n, s) => n + s.size, 0);
    if (rows < ANN_MIN_CHUNKS) return;
    let lists = this.coarse;
    let changed = false;
    if (!lists || rows >= lists.trainedOn * IVF_RETRAIN_GROWTH) {
      const segs = shards();
      const sources = segs.map((s) => s.codeRows());
      const fresh = await trainCoarseLists(sources, this.dimensions, listCountFor(rows), slice, stop);
      const assigned: ShardAssignment[] = [];
      for (const src of sources) assigned.push(await assignShard(fresh, src, slice, stop));
      fresh.probes = await calibrateProbes(fresh, sources, assigned, slice, stop);
      // one swap: a search sees the old lists or the new ones, never a mix
      this.coarse = lists = fresh;
      segs.forEach((seg, j) => (seg.lists = assigned[j]));
      changed = true;
    }
    for (const seg of shards()) {
      if (seg.lists?.of === lists) continue;
      seg.lists = await assignShard(lists, seg.codeRows(), slice, stop);
      changed = true;
    }
    if (rows >= lists.calibratedOn * IVF_RECALIBRATE_GROWTH) {
      // A small store's nearest neighbours lie across many lists (a subject has few chunks yet);
      // the probe count measured then is too high for the larger store, and the other way round.
      const segs = shards().filter((s) => s.lists?.of === lists);
      const probes = await calibrateProbes(
        lists,
        segs.map((s) => s.codeRows()),
        segs.map((s) => s.lists!),
        slice,
        stop,
      );
      lists.probes = probes;
      lists.calibratedOn = rows;
      changed = true;
    }
    if (!changed) return;
    stop();
    const current = lists;
    await writeCoarseLists(
      this.dir,
      current,
      shards()
        .filter((s) => s.lists?.of === current)
        .map((s) => ({ name: s.name!, first: s.records[0]?.id ?? '', assignment: s.lists! })),
    );
  }

  private async saveManifest(): Promise<void> {
    const bySeg = new Map(this.segments.filter((s) => s.name).map((s) => [s.name!, s]));
    for (const e of this.manifest.shards) {
      const seg = bySeg.get(e.name);
      if (seg) e.deleted = seg.records.filter((_, i) => seg.dead[i]).map((r) => r.id);
    }
    await atomicWriteFile(path.join(this.dir, 'manifest.json'), JSON.stringify(this.manifest));
  }

  /** Waits for background work and closes the journal; the memtable stays in the journal for the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true; // the lists' upkeep stops at its next slice
    await this.commits.idle();
    await this.idle();
    this.closed = true;
    await this.journal?.close();
    for (const seg of this.segments) seg.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The archival index is closed.');
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readOnly) throw new ReadOnlyIndexError();
  }
}

/** Shards and journals of a store whose manifest was lost are unreachable: clear them. */
async function removeLeftovers(dir: string): Promise<void> {
  for (const f of await fs.readdir(dir)) {
    if (/^(shard-\d+|journal-\d+\.log|lists\.bin)$/.test(f)) await fs.rm(path.join(dir, f), { recursive: true, force: true });
  }
}
