import { close as closeFd, closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { atomicWriteWith } from '../storage/atomicFile';
import { RECALL_DICT_BLOCK_TERMS, RECALL_INDEX_SLICE_MS } from '../limits';
import { MemgptError } from '../base/errors';

/**
 * The on-disk pieces of the recall index (see recallIndex.ts for how they fit together).
 *
 * A segment holds, for a contiguous range of documents (recall records numbered in log order),
 * the postings of every (agent, token) key — ascending document numbers, delta + varint
 * encoded — a sorted dictionary of those keys in blocks read on demand, and per agent the list
 * of its documents and a date index (times ascending, with their document numbers). Segments are
 * written once (temp file + rename) and never changed; merging writes a new one.
 *
 * File: MAGIC | body | header JSON | u32 header length. The body is written in pieces as it is
 * made (a full-size segment runs to a hundred megabytes: built whole in memory, its copies and
 * checksum held the event loop), so the header, which describes it, comes last. Each dictionary
 * block follows its keys' postings; a block index (each block's place and first key) closes the
 * body and is read only when a query first needs the segment. Only the header is read at open
 * (the manifest holds its checksum); the body is checked against `bodyCrc` in the background.
 *
 * Format 1 (MAGIC_V1 | u32 header length | header JSON with the block index | body) is still
 * read: its segments are replaced as merges and rebuilds write new ones.
 */

const MAGIC_V1 = Buffer.from('MGRSEG01', 'latin1');
const MAGIC = Buffer.from('MGRSEG02', 'latin1');
export const SEGMENT_FORMAT = 2;
/** Body bytes a segment writer collects before writing them out (and yielding). */
const WRITE_CHUNK_BYTES = 1 << 20;
/** Bytes per block-index entry: body offset, byte length, end of its first key (u32 each). */
const BLOCK_ENTRY_BYTES = 12;

export class RecallIndexDamagedError extends MemgptError {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super('corrupt_file', `The recall index file ${path.basename(file)} is damaged (${detail}).`);
  }
}

let crcTable: Uint32Array | undefined;
function crc32Fallback(data: Uint8Array, value = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32, continuing from `value` (zlib's when this Node has it: Node 20.15+, 22.2+). */
export const crc32: (data: Uint8Array, value?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data, value) => (zlib as unknown as { crc32(d: Uint8Array, v?: number): number }).crc32(data, value)
    : crc32Fallback;

/** The key of a token in one agent's part of the dictionary; agents never see each other's keys. */
export function termKey(agent: number, token: string): string {
  return `${agent.toString(36)}\u0001${token}`;
}

/**
 * The key of 2 or 3 consecutive word parts (`parse config`, `parse widget manifest`): an
 * identifier of up to three parts is answered from these keys alone, without reading records.
 * Each length has its own namespace, so a prefix lookup never runs into longer runs or tokens.
 */
export function runKey(agent: number, parts: readonly string[]): string {
  return `${agent.toString(36)}${parts.length === 2 ? '\u0003' : '\u0004'}${parts.join('\u0002')}`;
}

/**
 * The key of two words that follow each other (whole words, lower-cased: `settings panel`). A
 * quoted phrase's consecutive words must be consecutive words of any text it is found in, so
 * these narrow a phrase to nearly its matches before any text is read, where its words alone
 * leave every record holding both (`"cache timeout"`: thousands). Its own namespace, like runs.
 */
export function pairKey(agent: number, first: string, second: string): string {
  return `${agent.toString(36)}\u0005${first}\u0002${second}`;
}

// --- varints -----------------------------------------------------------------------------

export class ByteWriter {
  buf: Buffer = Buffer.allocUnsafe(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  varint(n: number): void {
    this.ensure(5);
    let v = n >>> 0;
    while (v >= 0x80) {
      this.buf[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.length++] = v;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  f64(n: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(n, this.length);
    this.length += 8;
  }
  u32(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(n >>> 0, this.length);
    this.length += 4;
  }
  /** Ascending numbers as deltas (the first from 0). */
  deltas(list: ArrayLike<number>): void {
    let prev = 0;
    for (let i = 0; i < list.length; i++) {
      const v = list[i]!;
      this.varint(v - prev);
      prev = v;
    }
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Decodes `count` delta-encoded ascending numbers; throws on bytes that cannot be such a list. */
export function readDeltas(buf: Uint8Array, start: number, end: number, count: number, file: string, maxDoc: number): Uint32Array {
  const out = new Uint32Array(count);
  let pos = start;
  let prev = 0;
  for (let i = 0; i < count; i++) {
    // Bit operations, not float arithmetic: this loop is most of a common word's query time.
    if (pos >= end) throw new RecallIndexDamagedError(file, 'a postings list ends early');
    let b = buf[pos++]!;
    let v = b & 0x7f;
    let shift = 7;
    while (b & 0x80) {
      if (pos >= end || shift > 28) throw new RecallIndexDamagedError(file, 'a postings list ends early');
      b = buf[pos++]!;
      v |= (b & 0x7f) << shift;
      shift += 7;
    }
    v >>>= 0;
    prev += v;
    if (prev >= maxDoc || (i > 0 && v === 0)) throw new RecallIndexDamagedError(file, 'a postings list is out of order');
    out[i] = prev;
  }
  return out;
}

// --- what a segment holds ---------------------------------------------------------------

export interface AgentPart {
  /** The agent's documents, ascending. */
  docs: ArrayLike<number>;
  /** The date index: times ascending (ties by document), and the document of each. */
  dateTimes: ArrayLike<number>;
  dateDocs: ArrayLike<number>;
}

export interface SegmentData {
  docStart: number;
  docEnd: number;
  /** Every key with its ascending documents, keys in sorted order (JavaScript string order: the order lookups compare in). */
  entries: () => Iterable<[string, ArrayLike<number>]>;
  agents: Map<number, AgentPart>;
  /** True when the keys include every pair of consecutive words (pairKey); segments written before them do not. */
  wordPairs: boolean;
}

interface SegmentHeader {
  format: number;
  docStart: number;
  docEnd: number;
  bodyBytes: number;
  bodyCrc: number;
  terms: number;
  /** Per agent (base-36 number): where its document list and date index lie in the body. */
  agents: Record<string, { count: number; docsAt: number; docsLen: number; timesAt: number; dateDocsAt: number }>;
  /** Format 1: dictionary blocks (first key, body offset, byte length). Format 2: the number of blocks. */
  blocks: [string, number, number][] | number;
  /** Format 2: where the block index lies in the body, and the bytes of its first keys. */
  blocksAt?: number;
  blockKeysBytes?: number;
  /** Set when the keys include word pairs (absent in segments written before them: those are read without). */
  wordPairs?: boolean;
}

/** Where each dictionary block lies and the first key of each, in key order. */
interface BlockIndex {
  readonly count: number;
  key(i: number): string;
  at(i: number): number;
  len(i: number): number;
}

function arrayBlockIndex(blocks: [string, number, number][]): BlockIndex {
  return { count: blocks.length, key: (i) => blocks[i]![0], at: (i) => blocks[i]![1], len: (i) => blocks[i]![2] };
}

/** The block index as written (format 2), from one read: keys are decoded when a lookup compares them. */
function bufferBlockIndex(buf: Buffer, count: number): BlockIndex {
  const keysAt = count * BLOCK_ENTRY_BYTES;
  const keys: (string | undefined)[] = new Array<string | undefined>(count);
  const keyEnd = (i: number): number => (i < 0 ? 0 : buf.readUInt32LE(i * BLOCK_ENTRY_BYTES + 8));
  return {
    count,
    key: (i) => (keys[i] ??= buf.toString('utf8', keysAt + keyEnd(i - 1), keysAt + keyEnd(i))),
    at: (i) => buf.readUInt32LE(i * BLOCK_ENTRY_BYTES),
    len: (i) => buf.readUInt32LE(i * BLOCK_ENTRY_BYTES + 4),
  };
}

/**
 * A segment body written to a file in pieces as it is made: positions are body offsets, the
 * checksum runs over each piece as it goes out, and the event loop gets a turn between pieces.
 */
class BodyWriter {
  private readonly w = new ByteWriter();
  private written = 0;
  crc = 0;

  constructor(
    private readonly handle: fsp.FileHandle,
    private readonly slicer: Slicer,
  ) {}

  get out(): ByteWriter {
    return this.w;
  }
  /** The body offset of the next byte. */
  get pos(): number {
    return this.written + this.w.length;
  }

  /** Writes out what was collected once it is a piece's worth (or everything, with `all`). */
  async drain(all = false): Promise<void> {
    if (this.w.length >= WRITE_CHUNK_BYTES || (all && this.w.length > 0)) {
      const piece = this.w.result();
      this.crc = crc32(piece, this.crc);
      let done = 0;
      while (done < piece.length) done += (await this.handle.write(piece, done, piece.length - done, 8 + this.written + done)).bytesWritten;
      this.written += piece.length;
      this.w.length = 0;
    }
    await this.slicer.maybeYield();
  }
}

/** Time slices for long loops in the background: yields to the event loop between slices. */
export class Slicer {
  private deadline = performance.now() + RECALL_INDEX_SLICE_MS;
  /** True when this slice is used up (the caller then awaits yieldNow()). */
  get due(): boolean {
    return performance.now() >= this.deadline;
  }
  async yieldNow(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.deadline = performance.now() + RECALL_INDEX_SLICE_MS;
  }
  async maybeYield(): Promise<void> {
    if (this.due) await this.yieldNow();
  }
}

/** Sorts strings without blocking the event loop: sorted runs, then merges, yielding between slices. */
export async function sortSliced(items: string[]): Promise<string[]> {
  const RUN = 8192;
  const slicer = new Slicer();
  let runs: string[][] = [];
  for (let i = 0; i < items.length; i += RUN) {
    runs.push(items.slice(i, i + RUN).sort());
    await slicer.maybeYield();
  }
  while (runs.length > 1) {
    const next: string[][] = [];
    for (let r = 0; r < runs.length; r += 2) {
      const a = runs[r]!;
      const b = runs[r + 1];
      if (!b) {
        next.push(a);
        continue;
      }
      const out: string[] = new Array<string>(a.length + b.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < a.length || j < b.length) {
        out[k++] = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
        if ((k & 4095) === 0) await slicer.maybeYield();
      }
      next.push(out);
    }
    runs = next;
  }
  return runs[0] ?? [];
}

/** Writes a segment file (temp + fsync + rename); returns its size and header checksum for the manifest. */
export async function writeSegment(file: string, data: SegmentData): Promise<{ bytes: number; headerCrc: number }> {
  let result = { bytes: 0, headerCrc: 0 };
  await atomicWriteWith(file, async (handle) => {
    await handle.write(MAGIC, 0, MAGIC.length, 0);
    const body = new BodyWriter(handle, new Slicer());
    const w = body.out;
    // Per block: its keys' postings, then its dictionary entries. The block index is kept here (one small entry per block).
    const blockAt: number[] = [];
    const blockLen: number[] = [];
    const firstKeys: Buffer[] = [];
    let pending: { key: Buffer; at: number; len: number; count: number }[] = [];
    const endBlock = async (): Promise<void> => {
      if (pending.length === 0) return;
      const at = body.pos;
      for (const e of pending) {
        w.varint(e.key.length);
        w.bytes(e.key);
        w.varint(e.at);
        w.varint(e.len);
        w.varint(e.count);
      }
      blockAt.push(at);
      blockLen.push(body.pos - at);
      firstKeys.push(pending[0]!.key);
      pending = [];
      await body.drain();
    };
    let terms = 0;
    for (const [key, list] of data.entries()) {
      const at = body.pos;
      w.deltas(list);
      pending.push({ key: Buffer.from(key, 'utf8'), at, len: body.pos - at, count: list.length });
      terms++;
      if (pending.length === RECALL_DICT_BLOCK_TERMS) await endBlock();
    }
    await endBlock();
    const agents: SegmentHeader['agents'] = {};
    for (const [agent, part] of data.agents) {
      const docsAt = body.pos;
      w.deltas(part.docs);
      const docsLen = body.pos - docsAt;
      await body.drain();
      const timesAt = body.pos;
      for (let i = 0; i < part.dateTimes.length; i++) {
        w.f64(part.dateTimes[i]!);
        if ((i & 65535) === 65535) await body.drain();
      }
      const dateDocsAt = body.pos;
      for (let i = 0; i < part.dateDocs.length; i++) {
        w.u32(part.dateDocs[i]!);
        if ((i & 65535) === 65535) await body.drain();
      }
      agents[agent.toString(36)] = { count: part.docs.length, docsAt, docsLen, timesAt, dateDocsAt };
      await body.drain();
    }
    const blocksAt = body.pos;
    let keyEnd = 0;
    for (let i = 0; i < blockAt.length; i++) {
      keyEnd += firstKeys[i]!.length;
      w.u32(blockAt[i]!);
      w.u32(blockLen[i]!);
      w.u32(keyEnd);
    }
    for (const k of firstKeys) w.bytes(k);
    await body.drain(true);
    const header: SegmentHeader = {
      format: SEGMENT_FORMAT,
      docStart: data.docStart,
      docEnd: data.docEnd,
      bodyBytes: body.pos,
      bodyCrc: body.crc,
      terms,
      agents,
      blocks: blockAt.length,
      blocksAt,
      blockKeysBytes: keyEnd,
      ...(data.wordPairs ? { wordPairs: true } : {}),
    };
    const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
    const tail = Buffer.alloc(headerBuf.length + 4);
    headerBuf.copy(tail);
    tail.writeUInt32LE(headerBuf.length, headerBuf.length);
    await handle.write(tail, 0, tail.length, 8 + body.pos);
    result = { bytes: 8 + body.pos + tail.length, headerCrc: crc32(headerBuf) };
  });
  return result;
}

interface DictEntry {
  key: string;
  at: number;
  len: number;
  count: number;
}

/** A segment file opened for queries: the header in memory, everything else read on demand. */
export class SegmentReader {
  private fd: number | null;
  private readonly bodyAt: number;
  private readonly header: SegmentHeader;
  private blockIndex: BlockIndex | undefined;
  /** The last dictionary blocks read (a query reads the same block for each segment pass). */
  private readonly blockCache = new Map<number, DictEntry[]>();

  private constructor(
    readonly file: string,
    fd: number,
    bodyAt: number,
    header: SegmentHeader,
  ) {
    this.fd = fd;
    this.bodyAt = bodyAt;
    this.header = header;
    if (Array.isArray(header.blocks)) this.blockIndex = arrayBlockIndex(header.blocks);
  }

  /** Opens and checks size and header checksum; throws RecallIndexDamagedError on any mismatch. */
  static open(file: string, expect: { bytes: number; headerCrc: number; docStart: number; docEnd: number }): SegmentReader {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new RecallIndexDamagedError(file, `cannot open: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      if (size !== expect.bytes) throw new RecallIndexDamagedError(file, `${size} bytes, expected ${expect.bytes}`);
      if (size < 12) throw new RecallIndexDamagedError(file, 'not a recall segment');
      const head = Buffer.alloc(12);
      readSync(fd, head, 0, 12, 0);
      const magic = head.subarray(0, 8);
      const v1 = magic.equals(MAGIC_V1);
      if (!v1 && !magic.equals(MAGIC)) throw new RecallIndexDamagedError(file, 'not a recall segment');
      let hlen: number;
      let headerAt: number;
      if (v1) {
        hlen = head.readUInt32LE(8);
        headerAt = 12;
      } else {
        const end = Buffer.alloc(4);
        readSync(fd, end, 0, 4, size - 4);
        hlen = end.readUInt32LE(0);
        headerAt = size - 4 - hlen;
      }
      if (hlen > size - 12 || headerAt < 8) throw new RecallIndexDamagedError(file, 'header runs past the end');
      const hbuf = Buffer.alloc(hlen);
      readSync(fd, hbuf, 0, hlen, headerAt);
      if (crc32(hbuf) !== expect.headerCrc) throw new RecallIndexDamagedError(file, 'header checksum mismatch');
      const header = JSON.parse(hbuf.toString('utf8')) as SegmentHeader;
      const bodyAt = v1 ? 12 + hlen : 8;
      const fits = v1
        ? header.format === 1 && Array.isArray(header.blocks) && 12 + hlen + header.bodyBytes === size
        : header.format === SEGMENT_FORMAT &&
          Number.isInteger(header.blocks) &&
          Number.isInteger(header.blocksAt) &&
          Number.isInteger(header.blockKeysBytes) &&
          header.blocksAt! + (header.blocks as number) * BLOCK_ENTRY_BYTES + header.blockKeysBytes! <= header.bodyBytes &&
          8 + header.bodyBytes + hlen + 4 === size;
      if (!fits || header.docStart !== expect.docStart || header.docEnd !== expect.docEnd) {
        throw new RecallIndexDamagedError(file, 'header does not match the manifest');
      }
      return new SegmentReader(file, fd, bodyAt, header);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The block index, read on first use (one read; keys are decoded as lookups compare them). */
  private blocks(): BlockIndex {
    if (this.blockIndex) return this.blockIndex;
    const count = this.header.blocks as number;
    const buf = this.read(this.header.blocksAt!, count * BLOCK_ENTRY_BYTES + this.header.blockKeysBytes!);
    this.blockIndex = bufferBlockIndex(buf, count);
    return this.blockIndex;
  }

  get docStart(): number {
    return this.header.docStart;
  }
  get docEnd(): number {
    return this.header.docEnd;
  }
  get docs(): number {
    return this.header.docEnd - this.header.docStart;
  }
  /** True when the keys include word pairs (pairKey). */
  get wordPairs(): boolean {
    return this.header.wordPairs === true;
  }

  private read(at: number, len: number): Buffer {
    if (this.fd === null) throw new RecallIndexDamagedError(this.file, 'read after close');
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, this.bodyAt + at + got);
      if (n === 0) throw new RecallIndexDamagedError(this.file, 'ends early');
      got += n;
    }
    return buf;
  }

  private block(i: number): DictEntry[] {
    const cached = this.blockCache.get(i);
    if (cached) return cached;
    const blocks = this.blocks();
    const buf = this.read(blocks.at(i), blocks.len(i));
    const out: DictEntry[] = [];
    let pos = 0;
    const varint = (): number => {
      let v = 0;
      let shift = 0;
      let b: number;
      do {
        if (pos >= buf.length) throw new RecallIndexDamagedError(this.file, 'a dictionary block ends early');
        b = buf[pos++]!;
        v += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      return v;
    };
    while (pos < buf.length) {
      const klen = varint();
      const key = buf.toString('utf8', pos, pos + klen);
      pos += klen;
      out.push({ key, at: varint(), len: varint(), count: varint() });
    }
    if (this.blockCache.size >= 8) this.blockCache.delete(this.blockCache.keys().next().value!);
    this.blockCache.set(i, out);
    return out;
  }

  /** The index of the last block whose first key is <= key (-1 when key sorts before them all). */
  private blockFor(key: string): number {
    const blocks = this.blocks();
    let lo = 0;
    let hi = blocks.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (blocks.key(mid) <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private postings(e: DictEntry): Uint32Array {
    return readDeltas(this.read(e.at, e.len), 0, e.len, e.count, this.file, this.header.docEnd);
  }

  /** How many documents hold `key` (with `prefix`: the sum over the keys it starts; an upper bound of their union). */
  count(key: string, prefix: boolean): number {
    let n = 0;
    scan: for (let b = Math.max(0, this.blockFor(key)); b < this.blocks().count; b++) {
      for (const e of this.block(b)) {
        if (e.key < key) continue;
        if (prefix ? !e.key.startsWith(key) : e.key !== key) break scan;
        n += e.count;
      }
    }
    return n;
  }

  /** Documents holding exactly `key`. */
  lookup(key: string): Uint32Array | null {
    const b = this.blockFor(key);
    if (b < 0) return null;
    for (const e of this.block(b)) if (e.key === key) return this.postings(e);
    return null;
  }

  /** The postings of every key that starts with `prefix` (the key itself included). */
  prefix(prefix: string): Uint32Array[] {
    const found: DictEntry[] = [];
    scan: for (let b = Math.max(0, this.blockFor(prefix)); b < this.blocks().count; b++) {
      for (const e of this.block(b)) {
        if (e.key < prefix) continue;
        if (!e.key.startsWith(prefix)) break scan;
        found.push(e);
      }
    }
    if (found.length <= 1) return found.map((e) => this.postings(e));
    // Keys in order have their postings back to back: one read for all of them.
    const first = found[0]!.at;
    const last = found[found.length - 1]!;
    const buf = this.read(first, last.at + last.len - first);
    return found.map((e) => readDeltas(buf, e.at - first, e.at - first + e.len, e.count, this.file, this.header.docEnd));
  }

  /** Every key with its postings, in order (for merging). */
  *entries(): Generator<[string, Uint32Array]> {
    for (let b = 0; b < this.blocks().count; b++) {
      const block = this.block(b);
      if (block.length === 0) continue;
      // A block's postings lie back to back: one read per block, not per key.
      const first = block[0]!.at;
      const last = block[block.length - 1]!;
      const buf = this.read(first, last.at + last.len - first);
      for (const e of block) yield [e.key, readDeltas(buf, e.at - first, e.at - first + e.len, e.count, this.file, this.header.docEnd)];
    }
  }

  agentIds(): number[] {
    return Object.keys(this.header.agents).map((k) => Number.parseInt(k, 36));
  }

  agentCount(agent: number): number {
    return this.header.agents[agent.toString(36)]?.count ?? 0;
  }

  /** The agent's documents in this segment, ascending. */
  agentDocs(agent: number): Uint32Array {
    const a = this.header.agents[agent.toString(36)];
    if (!a) return new Uint32Array(0);
    return readDeltas(this.read(a.docsAt, a.docsLen), 0, a.docsLen, a.count, this.file, this.header.docEnd);
  }

  private timeAt(a: SegmentHeader['agents'][string], i: number): number {
    return this.read(a.timesAt + i * 8, 8).readDoubleLE(0);
  }

  /** Date index positions [lo, hi) of the agent's entries with from <= time <= to. */
  dateRange(agent: number, from: number, to: number): [number, number] {
    const a = this.header.agents[agent.toString(36)];
    if (!a) return [0, 0];
    const bound = (pred: (t: number) => boolean): number => {
      let lo = 0;
      let hi = a.count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (pred(this.timeAt(a, mid))) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return [bound((t) => t < from), bound((t) => t <= to)];
  }

  /** Date index entries [lo, hi): times and documents. */
  dateEntries(agent: number, lo: number, hi: number): { times: Float64Array; docs: Uint32Array } {
    const a = this.header.agents[agent.toString(36)];
    const n = Math.max(0, hi - lo);
    if (!a || n === 0) return { times: new Float64Array(0), docs: new Uint32Array(0) };
    const tb = this.read(a.timesAt + lo * 8, n * 8);
    const db = this.read(a.dateDocsAt + lo * 4, n * 4);
    const times = new Float64Array(n);
    const docs = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      times[i] = tb.readDoubleLE(i * 8);
      docs[i] = db.readUInt32LE(i * 4);
    }
    return { times, docs };
  }

  /** Reads the whole body in slices and compares its checksum: damage a header check cannot see. */
  async verifyBody(): Promise<boolean> {
    if (this.fd === null) return true;
    const fh = await fsp.open(this.file, 'r');
    try {
      let crc = 0;
      const chunk = Buffer.allocUnsafe(1 << 20);
      for (let at = 0; at < this.header.bodyBytes;) {
        const want = Math.min(chunk.length, this.header.bodyBytes - at);
        const { bytesRead } = await fh.read(chunk, 0, want, this.bodyAt + at);
        if (bytesRead === 0) return false;
        crc = crc32(chunk.subarray(0, bytesRead), crc);
        at += bytesRead;
      }
      return crc === this.header.bodyCrc;
    } finally {
      await fh.close();
    }
  }

  /**
   * Closes the file. The descriptor is released on the thread pool: the last close of a merged-away
   * segment (already unlinked) frees its blocks, which took 30 ms on this thread for a large one.
   */
  close(): void {
    if (this.fd !== null) closeFd(this.fd, () => undefined);
    this.fd = null;
  }
}
