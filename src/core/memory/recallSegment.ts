import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { atomicWriteFile } from '../storage/atomicFile';
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
 * File: MAGIC | u32 header length | header JSON | body. Only the header is read at open (the
 * manifest holds its checksum); the body is checked against `bodyCrc` in the background.
 */

const MAGIC = Buffer.from('MGRSEG01', 'latin1');
export const SEGMENT_FORMAT = 1;

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
  /** Dictionary blocks: first key, body offset, byte length. */
  blocks: [string, number, number][];
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
  const slicer = new Slicer();
  // One pass: postings go to the body, dictionary entries to their own buffer, appended after.
  const body = new ByteWriter();
  const dict = new ByteWriter();
  const dictBlocks: [string, number, number][] = [];
  let inBlock = 0;
  let terms = 0;
  for (const [key, list] of data.entries()) {
    const at = body.length;
    body.deltas(list);
    if (inBlock === RECALL_DICT_BLOCK_TERMS) {
      const last = dictBlocks[dictBlocks.length - 1]!;
      last[2] = dict.length - last[1];
      inBlock = 0;
    }
    if (inBlock === 0) dictBlocks.push([key, dict.length, 0]);
    const k = Buffer.from(key, 'utf8');
    dict.varint(k.length);
    dict.bytes(k);
    dict.varint(at);
    dict.varint(body.length - at);
    dict.varint(list.length);
    inBlock++;
    if ((++terms & 255) === 0) await slicer.maybeYield();
  }
  if (dictBlocks.length > 0) {
    const last = dictBlocks[dictBlocks.length - 1]!;
    last[2] = dict.length - last[1];
  }
  const dictAt = body.length;
  body.bytes(dict.result());
  const blocks: [string, number, number][] = dictBlocks.map(([key, at, len]) => [key, dictAt + at, len]);
  const agents: SegmentHeader['agents'] = {};
  for (const [agent, part] of data.agents) {
    const docsAt = body.length;
    body.deltas(part.docs);
    const docsLen = body.length - docsAt;
    const timesAt = body.length;
    for (let i = 0; i < part.dateTimes.length; i++) body.f64(part.dateTimes[i]!);
    const dateDocsAt = body.length;
    for (let i = 0; i < part.dateDocs.length; i++) body.u32(part.dateDocs[i]!);
    agents[agent.toString(36)] = { count: part.docs.length, docsAt, docsLen, timesAt, dateDocsAt };
    await slicer.maybeYield();
  }
  const bodyBuf = body.result();
  const header: SegmentHeader = {
    format: SEGMENT_FORMAT,
    docStart: data.docStart,
    docEnd: data.docEnd,
    bodyBytes: bodyBuf.length,
    bodyCrc: crc32(bodyBuf),
    terms,
    agents,
    blocks,
  };
  const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headerBuf.length);
  const all = Buffer.concat([MAGIC, len, headerBuf, bodyBuf]);
  await atomicWriteFile(file, all);
  return { bytes: all.length, headerCrc: crc32(headerBuf) };
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
  private readonly blockKeys: string[];
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
    this.blockKeys = header.blocks.map((b) => b[0]);
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
      const head = Buffer.alloc(12);
      readSync(fd, head, 0, 12, 0);
      if (!head.subarray(0, 8).equals(MAGIC)) throw new RecallIndexDamagedError(file, 'not a recall segment');
      const hlen = head.readUInt32LE(8);
      if (12 + hlen > size) throw new RecallIndexDamagedError(file, 'header runs past the end');
      const hbuf = Buffer.alloc(hlen);
      readSync(fd, hbuf, 0, hlen, 12);
      if (crc32(hbuf) !== expect.headerCrc) throw new RecallIndexDamagedError(file, 'header checksum mismatch');
      const header = JSON.parse(hbuf.toString('utf8')) as SegmentHeader;
      if (
        header.format !== SEGMENT_FORMAT ||
        header.docStart !== expect.docStart ||
        header.docEnd !== expect.docEnd ||
        12 + hlen + header.bodyBytes !== size
      ) {
        throw new RecallIndexDamagedError(file, 'header does not match the manifest');
      }
      return new SegmentReader(file, fd, 12 + hlen, header);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
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
    const [, at, len] = this.header.blocks[i]!;
    const buf = this.read(at, len);
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
    let lo = 0;
    let hi = this.blockKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.blockKeys[mid]! <= key) lo = mid + 1;
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
    scan: for (let b = Math.max(0, this.blockFor(key)); b < this.blockKeys.length; b++) {
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
    scan: for (let b = Math.max(0, this.blockFor(prefix)); b < this.blockKeys.length; b++) {
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
    for (let b = 0; b < this.blockKeys.length; b++) {
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

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
