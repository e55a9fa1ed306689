/**
 * Crash-safe file primitives of the index: whole-file writes that land atomically
 * (temp file, fsync, rename) and an append-only journal whose torn last line (a
 * crash mid-append) is dropped and cut off on open instead of failing the open.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function writeFileAtomic(filePath: string, data: Buffer | string): Promise<void> {
  const tmp = path.join(path.dirname(filePath), `.${path.basename(filePath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, filePath);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Reads a JSON file, or undefined when it does not exist. Throws on unparsable content. */
export async function readJsonFile<T>(filePath: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(filePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

/**
 * Reads every complete JSON line of an append-only log. A torn tail (no final
 * newline, or a last line that does not parse) is reported and truncated away.
 */
export async function readJournal<T>(filePath: string): Promise<{ entries: T[]; tornBytes: number }> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(filePath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], tornBytes: 0 };
    throw err;
  }
  const entries: T[] = [];
  let start = 0;
  let good = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break;
    const line = buf.toString('utf8', start, nl);
    if (line.trim() !== '') {
      try {
        entries.push(JSON.parse(line) as T);
      } catch {
        break; // a damaged line: everything after it is suspect
      }
    }
    start = nl + 1;
    good = start;
  }
  const tornBytes = buf.length - good;
  if (tornBytes > 0) await fs.truncate(filePath, good);
  return { entries, tornBytes };
}

/** One journal line: the JSON of `entry` and its newline, as UTF-8 bytes. */
export function encodeJournalLine(entry: unknown): Buffer {
  return Buffer.from(JSON.stringify(entry) + '\n', 'utf8');
}

/** An append-only JSON-lines file; appends are serialised and each lands as one write. */
export class JournalWriter {
  private handle: fs.FileHandle | undefined;
  private chain: Promise<void> = Promise.resolve();

  /**
   * `durable`: every append is fsynced before it resolves (what the user or the agent chose to
   * remember must survive a power loss; the index journal can be rebuilt from the files).
   */
  constructor(
    readonly filePath: string,
    private readonly options: { durable?: boolean } = {},
  ) {}

  append(entries: readonly unknown[]): Promise<void> {
    return this.appendEncoded(entries.map((e) => encodeJournalLine(e)));
  }

  /**
   * Appends lines already encoded by `encodeJournalLine` (callers that encode big
   * batches in slices; as bytes, the JSON strings die young instead of being
   * copied by every garbage collection until the write).
   */
  appendEncoded(lines: readonly Buffer[]): Promise<void> {
    if (lines.length === 0) return this.chain;
    const data = Buffer.concat(lines);
    const next = this.chain.then(async () => {
      this.handle ??= await fs.open(this.filePath, 'a');
      await this.handle.write(data);
      if (this.options.durable) await this.handle.sync();
    });
    // a failed append must not wedge the ones after it; the caller sees its own error
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}
