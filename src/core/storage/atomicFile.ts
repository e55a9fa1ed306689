import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isProcessAlive } from './processes';
import { MemgptError } from '../base/errors';

/**
 * Whole-file writes that a crash cannot tear: the new content goes to a temp
 * file in the same directory (same file system, so rename is atomic), is
 * fsynced, renamed over the target, and the directory entry is fsynced too.
 * A reader sees the old content or the new one, never a mix.
 */

const TEMP_MARK = '.tmp-';

function tempPrefix(target: string): string {
  return `.${path.basename(target)}${TEMP_MARK}`;
}

/** fsync a directory so a rename or create inside it survives power loss. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Windows cannot open or fsync a directory; rename there is already durable enough.
    if (process.platform !== 'win32') throw err;
  } finally {
    await handle?.close();
  }
}

const sweptDirs = new Set<string>();

/**
 * A process killed between writing its temp file and renaming it leaves the
 * temp file behind. Remove those of dead processes, once per directory per run.
 */
async function sweepOrphanTemps(target: string): Promise<void> {
  const dir = path.dirname(target);
  const key = `${dir}\0${path.basename(target)}`;
  if (sweptDirs.has(key)) return;
  sweptDirs.add(key);
  const prefix = tempPrefix(target);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid)) {
      await fsp.rm(path.join(dir, name), { force: true });
    }
  }
}

export async function atomicWriteFile(target: string, data: string | Uint8Array): Promise<void> {
  await atomicWriteWith(target, (handle) => handle.writeFile(data));
}

/** atomicWriteFile for content written in pieces (a file too large to build in memory first). */
export async function atomicWriteWith(target: string, write: (handle: fsp.FileHandle) => Promise<void>): Promise<void> {
  const dir = path.dirname(target);
  await fsp.mkdir(dir, { recursive: true });
  await sweepOrphanTemps(target);
  const temp = path.join(dir, `${tempPrefix(target)}${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await fsp.open(temp, 'w');
  try {
    await write(handle);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fsp.rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fsp.rename(temp, target);
  } catch (err) {
    await fsp.rm(temp, { force: true });
    throw err;
  }
  await fsyncDirectory(dir);
}

export async function atomicWriteJson(target: string, value: unknown): Promise<void> {
  await atomicWriteFile(target, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A file exists but cannot be used. Thrown as is by a read-only reader (the file is left where
 * it is: the window holding the lock moves it aside when it reads it).
 */
export class UnreadableFileError extends MemgptError {
  constructor(
    readonly file: string,
    readonly reason: string,
    message = `${file} is unreadable (${reason}). It was left in place because this window is read-only.`,
  ) {
    super('unreadable_file', message);
  }
}

/** A file exists but cannot be used; it was moved aside to `keptAs` so nothing is lost. */
export class CorruptFileError extends UnreadableFileError {
  override readonly code = 'corrupt_file';
  constructor(
    file: string,
    readonly keptAs: string,
    reason: string,
  ) {
    super(
      file,
      reason,
      `${file} is unreadable (${reason}). It was moved aside to ${keptAs} so nothing is lost; ` +
        `a fresh file will be used instead. Inspect or delete the kept copy by hand.`,
    );
    this.name = 'CorruptFileError';
  }
}

/**
 * Thrown by a validator for a file that is intact but must not be used by this
 * version (e.g. written by a newer schema). Such a file is left exactly where it is.
 */
export class UnsupportedFileError extends MemgptError {
  constructor(message: string) {
    super('schema_too_new', message);
  }
}

/**
 * Checks a parsed value and returns it typed, or throws an Error saying which
 * field is wrong. Used at every storage boundary: files are input like any other.
 */
export type Validator<T> = (value: unknown) => T;

function timeStamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** Moves a file to `<file>.corrupt-<time>` and returns the new path. */
export async function keepAside(file: string, label = 'corrupt'): Promise<string> {
  let kept = `${file}.${label}-${timeStamp()}`;
  for (let i = 1; await exists(kept); i++) kept = `${file}.${label}-${timeStamp()}-${i}`;
  await fsp.rename(file, kept);
  await fsyncDirectory(path.dirname(file));
  return kept;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads and validates a JSON file. Returns `undefined` when the file does not
 * exist. A validator's `UnsupportedFileError` passes through untouched. A file that is not valid JSON, or fails `validate`, is moved aside as
 * `*.corrupt-<time>` and a `CorruptFileError` is thrown: the caller decides
 * whether to start fresh, and the user's data is still on disk. With
 * `readOnly` (a window without the workspace lock) nothing is moved.
 */
export async function readJsonFile<T>(file: string, validate: Validator<T>, options: { readOnly?: boolean } = {}): Promise<T | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let reason: string;
  try {
    return validate(JSON.parse(text) as unknown);
  } catch (err) {
    if (err instanceof UnsupportedFileError) throw err;
    reason = text.trim() === '' ? 'the file is empty' : (err as Error).message;
  }
  if (options.readOnly) {
    // Not ours to move: the window holding the lock will keep it aside when it reads it.
    throw new UnreadableFileError(file, reason);
  }
  const keptAs = await keepAside(file);
  throw new CorruptFileError(file, keptAs, reason);
}
