import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { atomicWriteFile, fsyncDirectory, type Validator } from './atomicFile';
import { MemgptError } from '../base/errors';

/**
 * An append-only JSON-lines file that survives crashes.
 *
 * Line format: `<crc32 of the JSON as 8 hex digits> <JSON>\n`. An append is
 * acknowledged only after write + fdatasync, so every acknowledged entry is on
 * disk. A crash mid-write can only leave an unfinished (torn) tail; `open`
 * detects it by checksum and truncates the file back to the last good line,
 * reporting what it dropped. Complete lines that fail their checksum are
 * corruption, not a torn write: those bytes are kept aside next to the log.
 *
 * One writer per file: the WorkspaceLock keeps a second process out.
 */

export interface AppendLogOpenReport {
  /** Entries read and accepted. */
  entries: number;
  /** Bytes cut from the end of the file to get back to the last good line. */
  droppedTailBytes: number;
  /** Complete lines (ending in a newline) in the dropped tail: checksum or JSON failures. */
  droppedTailLines: number;
  /** The tail ended in an unfinished line: a write cut short by a crash (never acknowledged). */
  tornPartialLine: boolean;
  /** Where the dropped tail was kept when it held complete lines (possible data, not just a torn write). */
  tailKeptAs?: string;
  /** Bad lines followed by good ones: left in the file untouched and skipped. */
  corruptLinesSkipped: number;
  /** Lines with a good checksum that the validator rejected: left in the file and skipped. */
  invalidEntriesSkipped: number;
  /** A last line whose only damage was a missing newline: the newline was added. */
  repairedMissingNewline: boolean;
  /** Lines of the old unchecksummed format (plain JSON) accepted; rewritten with checksums unless read-only. */
  legacyLines: number;
}

export interface AppendLogOptions<T> {
  /** Checks each parsed entry; a throw skips the entry (counted in the report). */
  validate?: Validator<T>;
  /**
   * Read without repairing or appending: for a window that does not hold the
   * workspace lock. The other window may be mid-write, so an unfinished tail is
   * skipped, never cut. append() rejects.
   */
  readOnly?: boolean;
  /**
   * Default true: an append resolves once it is on disk (fdatasync). False for data that can be
   * rebuilt (the workspace index journal), where a sync per saved file costs more than it saves.
   */
  durable?: boolean;
  /**
   * Also accept lines of the old format, plain JSON without a checksum (the index's former
   * journal writer). A writable open migrates the file to checksummed lines in one atomic write.
   */
  legacyJsonLines?: boolean;
  /**
   * Read and repair only the bytes from this offset on (a line start): for an owner that keeps
   * its own record of everything before it (the recall index), so opening a large log costs the
   * unindexed tail, not the whole file. The report counts that region only.
   */
  from?: number;
  /**
   * Receive each good entry with its byte offset and line length (newline included) instead of
   * collecting them: `entries` comes back empty, so a large log never sits in memory at once.
   */
  onEntry?: (entry: T, offset: number, bytes: number) => void | Promise<void>;
}

/** Bytes read per step when scanning a log at open (a whole large log is never one buffer). */
const OPEN_READ_CHUNK_BYTES = 2 * 1024 * 1024;
/** Buffers per gathered write: the common system limit on one writev (IOV_MAX on Linux and macOS). */
const WRITEV_MAX_BUFFERS = 1024;

export class ReadOnlyLogError extends MemgptError {
  constructor(readonly file: string) {
    super(
      'read_only',
      `${file} is open read-only: another window holds this workspace's memory. Close that window (or use it) to save new messages.`,
    );
  }
}

const CHECKSUM_HEX = 8;
const NEWLINE = 0x0a;
const SPACE = 0x20;

const crc32: (data: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data) => (zlib as unknown as { crc32(d: Uint8Array): number }).crc32(data)
    : crc32Fallback;

let crcTable: Uint32Array | undefined;
function crc32Fallback(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Encodes one entry as a checksummed line. Exported for tests that forge damage. */
export function encodeLogLine(entry: unknown): Buffer {
  const json = JSON.stringify(entry);
  if (json === undefined) throw new TypeError('AppendLog entries must be JSON values (got undefined or a function).');
  const body = Buffer.from(json, 'utf8');
  const head = Buffer.from(`${crc32(body).toString(16).padStart(CHECKSUM_HEX, '0')} `, 'latin1');
  return Buffer.concat([head, body, Buffer.from('\n')]);
}

/**
 * Decodes one line as `encodeLogLine` wrote it (without its newline), checking the checksum;
 * throws when the bytes are not such a line. For readers that fetch single entries by offset.
 */
export function decodeLogLine(line: Uint8Array): unknown {
  const buf = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  const verdict = decodeLine<unknown>(buf, 0, buf.length);
  if (!verdict.ok || !verdict.valid) throw new Error('not a checksummed log line');
  return verdict.entry;
}

type LineVerdict<T> = ({ ok: true; entry: T; valid: true } | { ok: true; valid: false } | { ok: false }) & { legacy?: unknown };

const OPEN_BRACE = 0x7b;
const HEX_DIGIT = /^[0-9a-f]{8}$/;

function decodeLine<T>(buf: Buffer, start: number, end: number, validate?: Validator<T>, legacy = false): LineVerdict<T> {
  const checksummed =
    end - start >= CHECKSUM_HEX + 2 &&
    buf[start + CHECKSUM_HEX] === SPACE &&
    HEX_DIGIT.test(buf.toString('latin1', start, start + CHECKSUM_HEX));
  let value: unknown;
  let legacyValue: unknown;
  if (checksummed) {
    const expected = Number.parseInt(buf.toString('latin1', start, start + CHECKSUM_HEX), 16);
    const body = buf.subarray(start + CHECKSUM_HEX + 1, end);
    if (crc32(body) !== expected) return { ok: false };
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return { ok: false };
    }
  } else if (legacy && buf[start] === OPEN_BRACE) {
    // The old format: one JSON object per line and nothing to check it against but JSON itself.
    try {
      value = legacyValue = JSON.parse(buf.toString('utf8', start, end));
    } catch {
      return { ok: false };
    }
  } else {
    return { ok: false };
  }
  const mark = legacyValue === undefined ? {} : { legacy: legacyValue };
  if (!validate) return { ok: true, entry: value as T, valid: true, ...mark };
  try {
    return { ok: true, entry: validate(value), valid: true, ...mark };
  } catch {
    return { ok: true, valid: false, ...mark };
  }
}

/** What writePieces needs of a file: a FileHandle opened for appending. */
export interface GatheredWriter {
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
}

/**
 * Writes buffers back to back at the file's end with gathered writes, without joining them first:
 * concatenating a batch of a few MB (an archival batch's journal lines) held the loop for tens of
 * ms. Returns the bytes written.
 */
export async function writePieces(handle: GatheredWriter, pieces: readonly Buffer[]): Promise<number> {
  let total = 0;
  for (let at = 0; at < pieces.length;) {
    let group = pieces.slice(at, at + WRITEV_MAX_BUFFERS);
    at += group.length;
    for (const p of group) total += p.length;
    // a short write (a full disk, a signal) leaves the rest of the group: write what remains
    for (;;) {
      let want = 0;
      for (const p of group) want += p.length;
      if (want === 0) break;
      const { bytesWritten } = await handle.writev(group);
      if (bytesWritten >= want) break;
      if (bytesWritten === 0) throw new Error('the disk accepted no bytes');
      let skip = bytesWritten;
      while (skip >= group[0]!.length) skip -= group.shift()!.length;
      group = [group[0]!.subarray(skip), ...group.slice(1)];
    }
  }
  return total;
}

interface PendingBatch {
  lines: Buffer[];
  /** Called with the file offset where the batch's first line was written. */
  resolve: (start: number) => void;
  reject: (err: Error) => void;
}

export class AppendLog<T> {
  private queue: PendingBatch[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly handle: fsp.FileHandle | null,
    private bytes: number,
    private readonly durable = true,
  ) {}

  /** Opens (creating if needed) and reads the log, repairing a torn or corrupt tail. */
  static async open<T>(
    file: string,
    options: AppendLogOptions<T> = {},
  ): Promise<{ log: AppendLog<T>; entries: T[]; report: AppendLogOpenReport }> {
    if (!options.readOnly) await fsp.mkdir(path.dirname(file), { recursive: true });
    const from = options.from ?? 0;
    let size = 0;
    let created = false;
    let reader: fsp.FileHandle | null = null;
    try {
      reader = await fsp.open(file, 'r');
      size = (await reader.stat()).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      created = true;
    }
    if (from > size) {
      await reader?.close();
      throw new Error(`${file} is ${size} bytes, shorter than the ${from} bytes its reader expected.`);
    }

    const report: AppendLogOpenReport = {
      entries: 0,
      droppedTailBytes: 0,
      droppedTailLines: 0,
      tornPartialLine: false,
      corruptLinesSkipped: 0,
      invalidEntriesSkipped: 0,
      repairedMissingNewline: false,
      legacyLines: 0,
    };
    const entries: T[] = [];
    let accepted = 0;
    let goodEnd = from; // byte offset just after the last good line
    let badSinceGood = 0; // bad complete lines after the last good one
    // The region is read in chunks; a line cut by a chunk boundary is carried into the next one.
    let carry: Buffer = Buffer.alloc(0);
    let carryAt = from; // file offset of carry[0]
    let readAt = from;
    try {
      while (readAt < size || carry.length > 0) {
        let buf: Buffer;
        const atEof = readAt >= size;
        if (!atEof) {
          const chunk = Buffer.allocUnsafe(Math.min(OPEN_READ_CHUNK_BYTES, size - readAt));
          let got = 0;
          while (got < chunk.length) {
            const r = await reader!.read(chunk, got, chunk.length - got, readAt + got);
            if (r.bytesRead === 0) break;
            got += r.bytesRead;
          }
          readAt += got;
          buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got);
          if (got === 0) size = readAt; // the file shrank under us: what is there is all there is
        } else {
          buf = carry;
        }
        const last = readAt >= size; // this buffer holds the end of the file
        let pos = 0;
        while (pos < buf.length) {
          const nl = buf.indexOf(NEWLINE, pos);
          if (nl === -1 && !last) break; // an unfinished line: wait for the next chunk
          const end = nl === -1 ? buf.length : nl;
          const verdict = decodeLine(buf, pos, end, options.validate, options.legacyJsonLines === true);
          if (verdict.ok) {
            if (verdict.legacy !== undefined) report.legacyLines++;
            if (verdict.valid) {
              accepted++;
              if (options.onEntry) {
                // A receiver may return a promise (to write what it built): the scan waits for it.
                const pending = options.onEntry(verdict.entry, carryAt + pos, (nl === -1 ? end : nl + 1) - pos);
                if (pending) await pending;
              } else entries.push(verdict.entry);
            } else report.invalidEntriesSkipped++;
            report.corruptLinesSkipped += badSinceGood;
            badSinceGood = 0;
            if (nl === -1) report.repairedMissingNewline = true;
            goodEnd = carryAt + (nl === -1 ? buf.length : nl + 1);
          } else if (nl === -1) {
            report.tornPartialLine = true;
          } else {
            badSinceGood++;
          }
          pos = nl === -1 ? buf.length : nl + 1;
        }
        carry = buf.subarray(pos);
        carryAt += pos;
        if (last) break;
      }
    } finally {
      await reader?.close();
    }
    // For the legacy migration and for keeping a damaged tail: the bytes themselves.
    const bytesOf = async (start: number, end: number): Promise<Buffer> => {
      const h = await fsp.open(file, 'r');
      try {
        const out = Buffer.alloc(end - start);
        await h.read(out, 0, out.length, start);
        return out;
      } finally {
        await h.close();
      }
    };
    report.entries = accepted;
    report.droppedTailLines = badSinceGood;
    report.droppedTailBytes = size - goodEnd;

    if (options.readOnly) {
      const log = new AppendLog<T>(file, null, goodEnd);
      log.validate = options.validate;
      return { log, entries, report };
    }
    if (report.legacyLines > 0) {
      if (from > 0 || options.onEntry) throw new Error(`${file} holds lines of the old format; open it whole to migrate them.`);
      return AppendLog.migrateLegacy(file, await bytesOf(0, size), goodEnd, entries, report, options);
    }
    if (report.droppedTailBytes > 0) {
      // A torn write is one unfinished line after good ones; a file without a single good line
      // (random bytes, another format) is not a torn write, and must not vanish either.
      if (report.droppedTailLines > 0 || goodEnd === 0) {
        // Complete lines that fail their checksum were once finished writes: keep the bytes.
        const keptAs = `${file}.tail-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        await fsp.writeFile(keptAs, await bytesOf(goodEnd, size));
        report.tailKeptAs = keptAs;
      }
      const h = await fsp.open(file, 'r+');
      try {
        await h.truncate(goodEnd);
        await h.sync();
      } finally {
        await h.close();
      }
    }
    let bytes = goodEnd;
    const handle = await fsp.open(file, 'a');
    if (report.repairedMissingNewline && report.droppedTailBytes === 0) {
      await handle.write(Buffer.from('\n'));
      await handle.sync();
      bytes += 1;
    }
    if (created) await fsyncDirectory(path.dirname(file));
    return { log: new AppendLog<T>(file, handle, bytes, options.durable !== false), entries, report };
  }

  /**
   * Rewrites a file holding old-format lines with checksums, in one atomic write: a crash leaves
   * the old file or the new one. Bad lines between good ones stay as they were (skipped again on
   * every open, never deleted); a damaged tail is kept aside as in `open`.
   */
  private static async migrateLegacy<T>(
    file: string,
    buf: Buffer,
    goodEnd: number,
    entries: T[],
    report: AppendLogOpenReport,
    options: AppendLogOptions<T>,
  ): Promise<{ log: AppendLog<T>; entries: T[]; report: AppendLogOpenReport }> {
    if (report.droppedTailLines > 0) {
      const keptAs = `${file}.tail-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await fsp.writeFile(keptAs, buf.subarray(goodEnd));
      report.tailKeptAs = keptAs;
    }
    const pieces: Buffer[] = [];
    for (let pos = 0; pos < goodEnd;) {
      const nl = buf.indexOf(NEWLINE, pos);
      const end = nl === -1 || nl >= goodEnd ? goodEnd : nl;
      const verdict = decodeLine(buf, pos, end, undefined, true);
      if (verdict.legacy !== undefined) pieces.push(encodeLogLine(verdict.legacy));
      else if (end > pos) pieces.push(buf.subarray(pos, end), Buffer.from('\n'));
      pos = end + 1;
    }
    const migrated = Buffer.concat(pieces);
    await atomicWriteFile(file, migrated);
    report.repairedMissingNewline = false;
    const handle = await fsp.open(file, 'a');
    return { log: new AppendLog<T>(file, handle, migrated.length, options.durable !== false), entries, report };
  }

  get readOnly(): boolean {
    return this.handle === null;
  }

  private validate: Validator<T> | undefined;

  /**
   * Read-only logs: the entries another process appended since the last read.
   * Stops before an unfinished or bad line (the writer may still be writing it).
   */
  async readNew(): Promise<T[]> {
    return (await this.readNewAt()).map((e) => e.entry);
  }

  /** readNew, with each entry's byte offset and line length (newline included). */
  async readNewAt(): Promise<{ entry: T; offset: number; bytes: number }[]> {
    if (this.handle) throw new Error('readNew() is for read-only logs; a writable log already holds every entry.');
    let buf: Buffer;
    try {
      const h = await fsp.open(this.file, 'r');
      try {
        const { size } = await h.stat();
        if (size <= this.bytes) return [];
        buf = Buffer.alloc(size - this.bytes);
        await h.read(buf, 0, buf.length, this.bytes);
      } finally {
        await h.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: { entry: T; offset: number; bytes: number }[] = [];
    let pos = 0;
    for (let nl = buf.indexOf(NEWLINE, pos); nl !== -1; nl = buf.indexOf(NEWLINE, pos)) {
      const verdict = decodeLine(buf, pos, nl, this.validate);
      if (!verdict.ok) break;
      if (verdict.valid) out.push({ entry: verdict.entry, offset: this.bytes + pos, bytes: nl + 1 - pos });
      pos = nl + 1;
    }
    this.bytes += pos;
    return out;
  }

  /** Size of the good part of the file in bytes. */
  get size(): number {
    return this.bytes;
  }

  /**
   * Appends entries; resolves once they are durable (fdatasync). Appends made
   * while a write is in flight are batched into the next write.
   */
  append(entries: readonly T[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`Cannot append to ${this.file}: the log is closed.`));
    if (!this.handle) return Promise.reject(new ReadOnlyLogError(this.file));
    return this.appendEncoded(entries.map((e) => encodeLogLine(e)));
  }

  /**
   * Appends lines already made by `encodeLogLine` (callers that encode big batches in time
   * slices: as bytes, the JSON strings die young instead of waiting for the write).
   */
  appendEncoded(lines: readonly Buffer[]): Promise<void> {
    return this.appendEncodedAt(lines).then(() => undefined);
  }

  /**
   * appendEncoded, resolving with the file offset of the first line: the lines lie back to back
   * from there, so a reader can fetch one entry later without scanning (the recall index).
   */
  appendEncodedAt(lines: readonly Buffer[]): Promise<number> {
    if (this.closed) return Promise.reject(new Error(`Cannot append to ${this.file}: the log is closed.`));
    if (!this.handle) return Promise.reject(new ReadOnlyLogError(this.file));
    if (lines.length === 0) return Promise.resolve(this.bytes);
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ lines: [...lines], resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    const handle = this.handle!;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const pieces = batch.flatMap((b) => b.lines);
      try {
        const length = await writePieces(handle, pieces);
        if (this.durable) await handle.datasync();
        let start = this.bytes;
        this.bytes += length;
        for (const b of batch) {
          b.resolve(start);
          for (const l of b.lines) start += l.length;
        }
      } catch (err) {
        // Cut a half-written batch off again so later appends do not land after garbage.
        await handle.truncate(this.bytes).catch(() => undefined);
        const e = new Error(
          `Could not save to ${this.file}: ${(err as Error).message}. The entries were not stored; ` +
            `check free disk space and permissions, then try again.`,
        );
        for (const b of batch) b.reject(e);
      }
    }
    this.writing = null;
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing) await this.writing;
    await this.handle?.close();
  }
}
