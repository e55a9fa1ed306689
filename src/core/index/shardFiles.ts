/**
 * One shard on disk: a folder holding
 *   index.pb   a Vectra LocalIndex (protobuf codec): the durable copy of every
 *              chunk's vector and metadata, written once in one batched update;
 *   cache.bin  the same chunks laid out for a fast open: records, the Float32 matrix
 *              (read row by row on demand, never loaded whole), int8 codes with one
 *              scale per vector (what searches scan), and
 *              BM25 postings;
 *   texts.bin  the chunk texts, read on demand (never all held in memory). They are
 *              kept out of index.pb because protobufjs encodes strings slowly and
 *              synchronously (50 ms per 1k chunks: a stalled event loop).
 * index.pb and cache.bin can each rebuild the other (with texts.bin), so a corrupt
 * or missing one is repaired, not fatal.
 */
import { createHash } from 'node:crypto';
import fsSync, { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ArchivalSource } from '../interfaces/archivalStore';
import type { StoredPostings } from './lexical';
import { atomicWriteFile } from '../storage/atomicFile';
import type { TimeSlice } from './slice';
import { encodeVectraIndex, type VectraMetadata } from './vectraShardEncoder';
import { MemgptError } from '../base/errors';
import { quantizeRows } from './vectorCodes';

export interface ChunkRecord {
  id: string;
  source: ArchivalSource;
  /** Workspace-relative path; '' for memories without provenance. */
  path: string;
  /** 1-based inclusive; 0 when unknown. */
  startLine: number;
  endLine: number;
  language: string;
  /** Hash of the chunk text. */
  hash: string;
  /** Hash of the whole file the chunk came from ('' for memories). */
  fileHash: string;
  /** ISO time of insertion (memories) or of indexing. */
  time: string;
  /** Length in lexical terms (BM25 document length). */
  length: number;
  /** Code chunks: the enclosing scope and the names defined, space-separated (a lexical field of their own). */
  symbols?: string;
}

export interface ShardContent {
  records: ChunkRecord[];
  /** records.length × dimensions, row-major. */
  vectors: Float32Array;
  texts: string[];
  postings: StoredPostings;
}

export interface ShardTexts {
  /** records.length + 1 byte offsets into the text section of texts.bin. */
  textOffsets: Uint32Array;
  textStart: number;
  textsPath: string;
  /** Descriptor kept open by readShardTexts; closed by closeShardTexts. */
  fd?: number | undefined;
}

/**
 * Where a shard's exact floats are: in cache.bin at `at` (read row by row with a descriptor kept
 * open, like the texts), or in memory (a read-only window serving a shard repaired from its
 * Vectra copy, which it may not write).
 */
export interface ShardFloats {
  path: string;
  at: number;
  fd?: number | undefined;
  memory?: Float32Array;
}

/** What searches hold of a shard's vectors: int8 codes and one scale per vector. */
export interface CompactVectors {
  codes: Int8Array;
  scales: Float32Array;
}

export interface LoadedShard extends CompactVectors {
  records: ChunkRecord[];
  floats: ShardFloats;
  postings: StoredPostings;
  texts: ShardTexts;
}

export class CorruptShardError extends MemgptError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('corrupt_file', message, options);
  }
}

/** The cache of an earlier version (floats only, no codes): converted with a notice, not dropped. */
export class LegacyShardCacheError extends CorruptShardError {}

const MAGIC = 'MGPTSHD3';
/** The previous layout: records, floats and postings, no codes or lists. */
const LEGACY_MAGIC = 'MGPTSHD2';
const TEXTS_MAGIC = 'MGPTTXT1';
const HEADER_WORDS = 8; // after the magic: headerLen, count, dim, termsLen, postingCount, lists, checksumLen, probes

/** The 11th element (symbols) is optional: shards written before it had none, and read the same. */
export type RecordRow = [string, number, string, number, number, string, string, string, string, number, string?];

/** A record as its row in a shard's header (also the layout of shards written before schema 2). */
export function toRow(r: ChunkRecord): RecordRow {
  const row: RecordRow = [
    r.id,
    r.source === 'memory' ? 1 : 0,
    r.path,
    r.startLine,
    r.endLine,
    r.language,
    r.hash,
    r.fileHash,
    r.time,
    r.length,
  ];
  if (r.symbols) row.push(r.symbols);
  return row;
}

function fromRow(row: RecordRow): ChunkRecord {
  const r: ChunkRecord = {
    id: row[0],
    source: row[1] === 1 ? 'memory' : 'workspace',
    path: row[2],
    startLine: row[3],
    endLine: row[4],
    language: row[5],
    hash: row[6],
    fileHash: row[7],
    time: row[8],
    length: row[9],
  };
  if (typeof row[10] === 'string' && row[10] !== '') r.symbols = row[10];
  return r;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * Vectra is loaded only to read a shard back (repairs): it pulls in a tokenizer,
 * an NLP model and more, which neither an open nor a write needs.
 */
async function loadVectra() {
  return import('vectra');
}

export function shardIndexPath(shardDir: string): string {
  return path.join(shardDir, 'index.pb');
}
export function shardCachePath(shardDir: string): string {
  return path.join(shardDir, 'cache.bin');
}
export function shardTextsPath(shardDir: string): string {
  return path.join(shardDir, 'texts.bin');
}

/** Writes texts.bin atomically (magic, count, offsets, UTF-8 blob); returns its size and its offsets. */
export async function writeShardTexts(
  shardDir: string,
  texts: readonly string[],
  slice?: TimeSlice,
): Promise<{ bytes: number; index: ShardTexts }> {
  const blobs: Buffer[] = [];
  const offsets = new Uint32Array(texts.length + 1);
  for (let i = 0; i < texts.length; i++) {
    const b = Buffer.from(texts[i]!, 'utf8');
    blobs.push(b);
    offsets[i + 1] = offsets[i]! + b.length;
    if (i % 256 === 255) await slice?.check();
  }
  const head = Buffer.alloc(12);
  head.write(TEXTS_MAGIC, 0, 'ascii');
  head.writeUInt32LE(texts.length, 8);
  const file = Buffer.concat([head, Buffer.from(offsets.buffer), ...blobs]);
  await atomicWriteFile(shardTextsPath(shardDir), file);
  return { bytes: file.length, index: { textOffsets: offsets, textStart: 12 + offsets.byteLength, textsPath: shardTextsPath(shardDir) } };
}

/** Reads the offsets of texts.bin; throws CorruptShardError if it does not fit `count` texts. */
export async function readShardTextIndex(shardDir: string, count: number, expectedBytes?: number): Promise<ShardTexts> {
  const textsPath = shardTextsPath(shardDir);
  let handle;
  try {
    handle = await fs.open(textsPath, 'r');
  } catch {
    throw new CorruptShardError(`${textsPath}: missing`);
  }
  try {
    const { size } = await handle.stat();
    const headLen = 12 + (count + 1) * 4;
    const head = Buffer.alloc(headLen);
    if (size < headLen || (await handle.read(head, 0, headLen, 0)).bytesRead !== headLen)
      throw new CorruptShardError(`${textsPath}: truncated`);
    if (head.toString('ascii', 0, 8) !== TEXTS_MAGIC || head.readUInt32LE(8) !== count)
      throw new CorruptShardError(`${textsPath}: not the texts of this shard`);
    const textOffsets = new Uint32Array(count + 1);
    new Uint8Array(textOffsets.buffer).set(head.subarray(12));
    if ((expectedBytes !== undefined && size !== expectedBytes) || size !== headLen + textOffsets[count]!)
      throw new CorruptShardError(`${textsPath}: size ${size} does not match its offsets`);
    return { textOffsets, textStart: headLen, textsPath };
  } finally {
    await handle.close();
  }
}

/** Vectra metadata of a chunk (texts stay in texts.bin). */
function vectraMetadata(r: ChunkRecord): VectraMetadata {
  return {
    source: r.source,
    path: r.path,
    startLine: r.startLine,
    endLine: r.endLine,
    language: r.language,
    hash: r.hash,
    fileHash: r.fileHash,
    time: r.time,
    length: r.length,
  };
}

/**
 * Writes the Vectra copy atomically, encoded item by item in time slices
 * (vectraShardEncoder.ts: Vectra's own encoder holds the event loop for the whole
 * shard). Returns its size.
 */
export async function writeVectraShard(
  shardDir: string,
  content: Pick<ShardContent, 'records' | 'vectors'>,
  dimensions: number,
  slice?: TimeSlice,
): Promise<number> {
  await fs.mkdir(shardDir, { recursive: true });
  const file = await encodeVectraIndex(
    content.records.length,
    (i) => {
      const r = content.records[i]!;
      return { id: r.id, metadata: vectraMetadata(r), vector: content.vectors.subarray(i * dimensions, (i + 1) * dimensions) };
    },
    slice,
  );
  await atomicWriteFile(shardIndexPath(shardDir), file);
  return file.length;
}

/** Reads every chunk back from the Vectra copy (slow path: repairs only). */
export async function readVectraShard(shardDir: string, dimensions: number): Promise<{ records: ChunkRecord[]; vectors: Float32Array }> {
  let data;
  try {
    const buf = await fs.readFile(shardIndexPath(shardDir));
    const vectra = await loadVectra();
    data = new vectra.ProtobufCodec().deserializeIndex(buf);
  } catch (err) {
    throw new CorruptShardError(`cannot decode ${shardIndexPath(shardDir)}: ${(err as Error).message}`);
  }
  const n = data.items.length;
  const vectors = new Float32Array(n * dimensions);
  const records: ChunkRecord[] = [];
  data.items.forEach((item, i) => {
    if (item.vector.length !== dimensions)
      throw new CorruptShardError(`item ${item.id} has ${item.vector.length} dimensions, expected ${dimensions}`);
    vectors.set(item.vector, i * dimensions);
    const m = item.metadata;
    const str = (k: string): string => (typeof m[k] === 'string' ? (m[k] as string) : '');
    const num = (k: string): number => (typeof m[k] === 'number' ? (m[k] as number) : 0);
    records.push({
      id: item.id,
      source: str('source') === 'memory' ? 'memory' : 'workspace',
      path: str('path'),
      startLine: num('startLine'),
      endLine: num('endLine'),
      language: str('language'),
      hash: str('hash'),
      fileHash: str('fileHash'),
      time: str('time'),
      length: num('length'),
    });
  });
  return { records, vectors };
}

/** Codes of `n` float rows, computed in slices. */
export async function compactVectors(vectors: Float32Array, n: number, dimensions: number, slice?: TimeSlice): Promise<CompactVectors> {
  return quantizeRows(vectors, n, dimensions, slice);
}

/**
 * Writes cache.bin atomically (the codes are computed here, in slices); returns its
 * size and what a search needs, with the floats left in the file.
 */
export async function writeShardCache(
  shardDir: string,
  content: Pick<ShardContent, 'records' | 'vectors' | 'postings'>,
  dimensions: number,
  slice?: TimeSlice,
): Promise<{ bytes: number; compact: CompactVectors; floats: ShardFloats }> {
  const header = Buffer.from(JSON.stringify(content.records.map(toRow)), 'utf8');
  const terms = Buffer.from(JSON.stringify(content.postings.terms), 'utf8');
  const n = content.records.length;
  const p = content.postings;
  const checksum = createHash('sha1').update(header).update(terms).digest();
  const compact = await compactVectors(content.vectors, n, dimensions, slice);

  const parts: Buffer[] = [];
  let size = 0;
  const push = (b: Buffer | Uint8Array | Int8Array | Float32Array | Uint32Array): number => {
    const at = size;
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    parts.push(buf);
    size += buf.length;
    if (buf.length % 4 !== 0) {
      parts.push(Buffer.alloc(pad4(buf.length) - buf.length));
      size = pad4(size);
    }
    return at;
  };
  const head = Buffer.alloc(8 + HEADER_WORDS * 4);
  head.write(MAGIC, 0, 'ascii');
  // lists and probes stay 0: the inverted lists are store-wide now (coarseLists.ts)
  [header.length, n, dimensions, terms.length, p.docs.length, 0, checksum.length, 0].forEach((v, i) => head.writeUInt32LE(v, 8 + i * 4));
  push(head);
  push(checksum);
  push(header);
  const floatsAt = push(content.vectors.subarray(0, n * dimensions));
  push(compact.scales);
  push(compact.codes);
  push(terms);
  push(p.offsets);
  push(p.docs);
  push(new Uint8Array(p.tfs.buffer, p.tfs.byteOffset, p.tfs.byteLength));
  const file = Buffer.concat(parts);
  await atomicWriteFile(shardCachePath(shardDir), file);
  return { bytes: file.length, compact, floats: { path: shardCachePath(shardDir), at: floatsAt } };
}

/** The fixed part of cache.bin: magic and header words. */
function readHead(head: Buffer, fail: (why: string) => never) {
  const magic = head.toString('ascii', 0, 8);
  if (magic !== MAGIC && magic !== LEGACY_MAGIC) fail('not a shard cache');
  const [headerLen, n, dim, termsLen, postingCount, lists, checksumLen, probes] = Array.from({ length: 8 }, (_, i) =>
    head.readUInt32LE(8 + i * 4),
  ) as [number, number, number, number, number, number, number, number];
  return { legacy: magic === LEGACY_MAGIC, headerLen, n, dim, termsLen, postingCount, lists, checksumLen, probes };
}

/**
 * Loads cache.bin except its texts and floats. Throws CorruptShardError when anything is off:
 * magic, sizes, checksum of records and vocabulary, posting and list bounds, vector norms; and
 * LegacyShardCacheError for the previous layout (readLegacyShardCache reads it for conversion).
 */
export async function readShardCache(
  shardDir: string,
  dimensions: number,
  expectedBytes?: number,
): Promise<Omit<LoadedShard, 'texts' | 'floats'> & { floats: ShardFloats }> {
  const cachePath = shardCachePath(shardDir);
  const fail = (why: string): never => {
    throw new CorruptShardError(`${cachePath}: ${why}`);
  };
  let handle;
  try {
    handle = await fs.open(cachePath, 'r');
  } catch {
    return fail('missing');
  }
  try {
    const { size } = await handle.stat();
    if (expectedBytes !== undefined && size !== expectedBytes) fail(`size ${size}, expected ${expectedBytes}`);
    const head = Buffer.alloc(8 + HEADER_WORDS * 4);
    if ((await handle.read(head, 0, head.length, 0)).bytesRead !== head.length) fail('truncated header');
    const h = readHead(head, fail);
    if (h.legacy) throw new LegacyShardCacheError(`${cachePath}: written by an earlier version (no int8 codes)`);
    const { headerLen, n, dim, termsLen, postingCount, lists, checksumLen, probes } = h;
    if (dim !== dimensions) fail(`holds ${dim}-dimensional vectors, expected ${dimensions}`);
    if (lists > n || probes > lists) fail('inverted lists do not fit the shard');
    let at = head.length;
    const layout = (bytes: number): number => {
      const start = at;
      at += pad4(bytes);
      return start;
    };
    const checksumAt = layout(checksumLen);
    const headerAt = layout(headerLen);
    const floatsAt = layout(n * dim * 4);
    const scalesAt = layout(n * 4);
    const codesAt = layout(n * dim);
    // per-shard inverted lists written by the previous release of this layout: skipped, unused
    layout(lists * dim * 4);
    layout(lists * 4);
    layout(lists > 0 ? (lists + 1) * 4 : 0);
    layout(lists > 0 ? n * 4 : 0);
    const termsAt = layout(termsLen);
    if (size < at) fail('truncated');
    // records and checksum first; the floats stay on disk
    const pre = Buffer.allocUnsafeSlow(headerAt + pad4(headerLen));
    await handle.read(pre, 0, pre.length, 0);
    const bodyStart = scalesAt;
    const termsBuf = Buffer.alloc(termsLen);
    await handle.read(termsBuf, 0, termsLen, termsAt);
    const terms = JSON.parse(termsBuf.toString('utf8')) as string[];
    const checksum = createHash('sha1')
      .update(pre.subarray(headerAt, headerAt + headerLen))
      .update(termsBuf)
      .digest();
    if (!checksum.equals(pre.subarray(checksumAt, checksumAt + checksumLen))) fail('checksum mismatch');
    const offsetsAt = layout((terms.length + 1) * 4);
    const docsAt = layout(postingCount * 4);
    const tfsAt = layout(postingCount * 2);
    if (size !== at) fail(`size ${size}, layout says ${at}`);
    const body = Buffer.allocUnsafeSlow(at - bodyStart);
    await handle.read(body, 0, body.length, bodyStart);
    const view = <T>(Ctor: { new (b: ArrayBuffer, o: number, l: number): T }, from: number, count: number): T =>
      new Ctor(body.buffer, body.byteOffset + from - bodyStart, count);
    const records = (JSON.parse(pre.toString('utf8', headerAt, headerAt + headerLen)) as RecordRow[]).map(fromRow);
    if (records.length !== n) fail('record count mismatch');
    const scales = view(Float32Array, scalesAt, n);
    const codes = view(Int8Array, codesAt, n * dim);
    // every 16th vector (and the last): garbage shows up at once; int8 codes keep a norm within ~1%
    const checkUnit = (i: number): void => {
      let s = 0;
      for (let d = i * dim, e = d + dim; d < e; d++) s += codes[d]! * codes[d]!;
      s *= scales[i]! * scales[i]!;
      if (!(Math.abs(s - 1) < 0.05 || s === 0)) fail(`vector ${i} is not unit length`);
    };
    for (let i = 0; i < n; i += 16) checkUnit(i);
    if (n > 0) checkUnit(n - 1);
    const offsets = view(Uint32Array, offsetsAt, terms.length + 1);
    const docs = view(Uint32Array, docsAt, postingCount);
    const tfs = view(Uint16Array, tfsAt, postingCount);
    if (offsets[terms.length] !== postingCount) fail('postings offsets do not add up');
    for (let i = 0; i < postingCount; i++) if (docs[i]! >= n) fail('posting points past the last record');
    return { records, codes, scales, floats: { path: cachePath, at: floatsAt }, postings: { terms, offsets, docs, tfs } };
  } finally {
    await handle.close();
  }
}

/** Reads a cache.bin of the previous layout (records, floats, postings) whole, for conversion. */
export async function readLegacyShardCache(
  shardDir: string,
  dimensions: number,
): Promise<{ records: ChunkRecord[]; vectors: Float32Array; postings: StoredPostings }> {
  const cachePath = shardCachePath(shardDir);
  const fail = (why: string): never => {
    throw new CorruptShardError(`${cachePath}: ${why}`);
  };
  let file: Buffer;
  try {
    file = await fs.readFile(cachePath);
  } catch {
    return fail('missing');
  }
  const head = file.subarray(0, 8 + HEADER_WORDS * 4);
  if (head.length < 8 + HEADER_WORDS * 4) fail('truncated header');
  const h = readHead(head, fail);
  if (!h.legacy) fail('not a cache of the previous layout');
  const { headerLen, n, dim, termsLen, postingCount, checksumLen } = h;
  if (dim !== dimensions) fail(`holds ${dim}-dimensional vectors, expected ${dimensions}`);
  let at = head.length;
  const layout = (bytes: number): number => {
    const start = at;
    at += pad4(bytes);
    return start;
  };
  const checksumAt = layout(checksumLen);
  const headerAt = layout(headerLen);
  const vectorsAt = layout(n * dim * 4);
  const termsAt = layout(termsLen);
  if (file.length < at) fail('truncated');
  const terms = JSON.parse(file.toString('utf8', termsAt, termsAt + termsLen)) as string[];
  const checksum = createHash('sha1')
    .update(file.subarray(headerAt, headerAt + headerLen))
    .update(file.subarray(termsAt, termsAt + termsLen))
    .digest();
  if (!checksum.equals(file.subarray(checksumAt, checksumAt + checksumLen))) fail('checksum mismatch');
  const offsetsAt = layout((terms.length + 1) * 4);
  const docsAt = layout(postingCount * 4);
  const tfsAt = layout(postingCount * 2);
  if (file.length !== at) fail(`size ${file.length}, layout says ${at}`);
  // copies: the file buffer is not kept
  const copy = <T>(Ctor: { new (b: ArrayBuffer, o: number, l: number): T }, from: number, count: number, bytesPer: number): T => {
    const b = new ArrayBuffer(count * bytesPer);
    new Uint8Array(b).set(file.subarray(from, from + count * bytesPer));
    return new Ctor(b, 0, count);
  };
  const records = (JSON.parse(file.toString('utf8', headerAt, headerAt + headerLen)) as RecordRow[]).map(fromRow);
  if (records.length !== n) fail('record count mismatch');
  const offsets = copy(Uint32Array, offsetsAt, terms.length + 1, 4);
  const docs = copy(Uint32Array, docsAt, postingCount, 4);
  const tfs = copy(Uint16Array, tfsAt, postingCount, 2);
  if (offsets[terms.length] !== postingCount) fail('postings offsets do not add up');
  for (let i = 0; i < postingCount; i++) if (docs[i]! >= n) fail('posting points past the last record');
  return { records, vectors: copy(Float32Array, vectorsAt, n * dim, 4), postings: { terms, offsets, docs, tfs } };
}

/** One exact float row of a shard (re-scoring, moves, publishing). */
export function readShardFloatRow(floats: ShardFloats, row: number, dimensions: number): Float32Array {
  if (floats.memory) return floats.memory.slice(row * dimensions, (row + 1) * dimensions);
  floats.fd ??= fsSync.openSync(floats.path, 'r');
  const out = new Float32Array(dimensions);
  const buf = new Uint8Array(out.buffer);
  let got = 0;
  while (got < buf.length) {
    const n = fsSync.readSync(floats.fd, buf, got, buf.length - got, floats.at + row * dimensions * 4 + got);
    if (n === 0) throw new CorruptShardError(`${floats.path}: ends before vector ${row}`);
    got += n;
  }
  return out;
}

/** Every float row of a shard (compaction, repairs): one asynchronous read. */
export async function readAllShardFloats(floats: ShardFloats, count: number, dimensions: number): Promise<Float32Array> {
  if (floats.memory) return floats.memory.subarray(0, count * dimensions);
  const out = new Float32Array(count * dimensions);
  const handle = await fs.open(floats.path, 'r');
  try {
    const buf = new Uint8Array(out.buffer);
    const { bytesRead } = await handle.read(buf, 0, buf.length, floats.at);
    if (bytesRead !== buf.length) throw new CorruptShardError(`${floats.path}: truncated vectors`);
  } finally {
    await handle.close();
  }
  return out;
}

/** Closes the descriptor `readShardFloatRow` keeps. */
export function closeShardFloats(floats: ShardFloats): void {
  closeKeptDescriptor(floats);
}

/** Closes a descriptor a reader keeps open between reads, once. */
function closeKeptDescriptor(holder: { fd?: number | undefined }): void {
  if (holder.fd === undefined) return;
  const fd = holder.fd;
  holder.fd = undefined;
  try {
    fsSync.closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}

/**
 * Reads the texts of some records of a loaded shard. A search needs at most a page
 * of hits (~15 texts of ~1 KB), so they are read synchronously from a descriptor
 * kept open: a few microseconds from the page cache, where an open and an async
 * read per text cost a thread-pool round trip each (milliseconds on a busy host).
 */
export function readShardTexts(shard: ShardTexts, indices: readonly number[]): string[] {
  if (indices.length === 0) return [];
  shard.fd ??= fsSync.openSync(shard.textsPath, 'r');
  const out: string[] = [];
  for (const i of indices) {
    const from = shard.textOffsets[i]!;
    const len = shard.textOffsets[i + 1]! - from;
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = fsSync.readSync(shard.fd, buf, got, len - got, shard.textStart + from + got);
      if (n === 0) throw new CorruptShardError(`${shard.textsPath}: ends before text ${i}`);
      got += n;
    }
    out.push(buf.toString('utf8'));
  }
  return out;
}

/** Every text of a shard (compaction, repairs): one asynchronous read of the file. */
export async function readAllShardTexts(shard: ShardTexts, slice?: TimeSlice): Promise<string[]> {
  const file = await fs.readFile(shard.textsPath);
  const count = shard.textOffsets.length - 1;
  if (file.length < shard.textStart + shard.textOffsets[count]!) throw new CorruptShardError(`${shard.textsPath}: truncated`);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(file.toString('utf8', shard.textStart + shard.textOffsets[i]!, shard.textStart + shard.textOffsets[i + 1]!));
    if (i % 256 === 255) await slice?.check();
  }
  return out;
}

/** Closes the descriptor `readShardTexts` keeps (before the shard is deleted, and on close). */
export function closeShardTexts(shard: ShardTexts): void {
  closeKeptDescriptor(shard);
}
