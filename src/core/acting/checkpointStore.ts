import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_MAX_COUNT, CHECKPOINT_MAX_FILE_BYTES, CHECKPOINT_MAX_FILES_PER_TURN, CHECKPOINT_MAX_TOTAL_BYTES } from '../limits';
import { atomicWriteFile, atomicWriteJson, CorruptFileError, readJsonFile } from '../storage/atomicFile';
import { ActingError } from './actingError';
import { SerialQueue } from '../base/serialQueue';

/**
 * Checkpoints: what the files a turn changes looked like before the turn, so the user can take the
 * turn back. Kept in a shadow store of our own (a folder under the extension's storage), never in
 * the user's git: no commits, no stash, no index the user did not ask for.
 *
 * Layout: blobs/<2 hex>/<sha256> holds file contents by hash (a file saved by ten turns unchanged
 * is stored once); checkpoints/<id>.json holds one record per turn: {id, seq, time, turnId, files}.
 * A turn's record is created on its first change and grows as the turn touches more files; the
 * first snapshot of a file in a turn wins, because that is the content before the turn. Blobs are
 * written before the record that names them, each atomically, so a crash leaves at worst an
 * unreferenced blob (swept on the next open), never a record pointing at nothing.
 *
 * Bounded: a file over maxFileBytes, a turn over maxFilesPerTurn, and a turn whose snapshots alone
 * exceed maxTotalBytes are refused with an error saying so (the caller then does not make the
 * change); otherwise the oldest checkpoints are dropped to make room, as are those beyond maxCount.
 *
 * One writer per store (the workspace lock decides which window that is); calls on one instance
 * are queued so they never interleave.
 */

export type CheckpointErrorCode =
  'file-too-large' | 'store-full' | 'too-many-files' | 'not-a-file' | 'unknown-checkpoint' | 'corrupt-blob' | 'refused-path';

export class CheckpointError extends ActingError<CheckpointErrorCode> {
  constructor(code: CheckpointErrorCode, message: string) {
    super(code, message);
    this.name = 'CheckpointError';
  }
}

export interface CheckpointFile {
  /** Workspace path, as confinement names it. */
  path: string;
  /** False when the turn created the file: restoring deletes it. */
  existed: boolean;
  /** sha256 of the content before the turn; null when the file did not exist. */
  blob: string | null;
  bytes: number;
  /** Permission bits before the turn (an executable script stays executable), null when it did not exist. */
  mode: number | null;
}

export interface Checkpoint {
  id: string;
  /** Order of creation (times can tie and clocks can step back). */
  seq: number;
  /** ISO time of the turn's first change. */
  time: string;
  turnId: string;
  files: CheckpointFile[];
}

export interface FileToSnapshot {
  /** Workspace path (recorded, and resolved again through confinement at restore time). */
  path: string;
  /** Real absolute path now. */
  abs: string;
}

export interface RestoreReport {
  /** Checkpoints rolled back, newest first (the chosen one last). */
  checkpoints: string[];
  /** Files written back with their content before the turn. */
  restored: string[];
  /** Files the turns created, now deleted. */
  deleted: string[];
}

export interface CheckpointStoreOptions {
  maxTotalBytes?: number;
  maxFileBytes?: number;
  maxFilesPerTurn?: number;
  maxCount?: number;
}

const SCHEMA_VERSION = 1;

export class CheckpointStore {
  private readonly records = new Map<string, Checkpoint>();
  private readonly queue = new SerialQueue();
  private readonly limits: Required<CheckpointStoreOptions>;

  private constructor(
    readonly dir: string,
    options: CheckpointStoreOptions,
  ) {
    this.limits = {
      maxTotalBytes: options.maxTotalBytes ?? CHECKPOINT_MAX_TOTAL_BYTES,
      maxFileBytes: options.maxFileBytes ?? CHECKPOINT_MAX_FILE_BYTES,
      maxFilesPerTurn: options.maxFilesPerTurn ?? CHECKPOINT_MAX_FILES_PER_TURN,
      maxCount: options.maxCount ?? CHECKPOINT_MAX_COUNT,
    };
  }

  /** Opens (or creates) the store in `dir`; unreadable records are moved aside and skipped, orphan blobs removed. */
  static async open(dir: string, options: CheckpointStoreOptions = {}): Promise<CheckpointStore> {
    const store = new CheckpointStore(dir, options);
    await fs.mkdir(path.join(dir, 'checkpoints'), { recursive: true });
    await fs.mkdir(path.join(dir, 'blobs'), { recursive: true });
    for (const name of await fs.readdir(path.join(dir, 'checkpoints'))) {
      if (!name.endsWith('.json')) continue;
      try {
        const record = await readJsonFile(path.join(dir, 'checkpoints', name), validateCheckpoint);
        if (record) store.records.set(record.id, record);
      } catch (err) {
        if (!(err instanceof CorruptFileError)) throw err;
        // Kept aside by readJsonFile; the other checkpoints stay usable.
      }
    }
    await store.sweepBlobs();
    return store;
  }

  /**
   * Records the content of `files` before the turn changes them: creates the turn's checkpoint on
   * its first change, adds files it has not recorded yet afterwards. Call before every write.
   */
  snapshot(turnId: string, files: readonly FileToSnapshot[]): Promise<Checkpoint> {
    return this.serial(() => this.snapshotNow(turnId, files));
  }

  /** Every checkpoint, newest first. */
  list(): Promise<Checkpoint[]> {
    return this.serial(async () => this.ordered().map(copy));
  }

  /** The checkpoint of a turn, if the turn changed anything. */
  forTurn(turnId: string): Checkpoint | undefined {
    const found = [...this.records.values()].find((r) => r.turnId === turnId);
    return found && copy(found);
  }

  /**
   * Brings back the files as they were before checkpoint `id`'s turn. With `alsoLater` (the
   * default) later turns are rolled back too, newest first, so every file any of them touched is
   * as it was before that turn; without it only that turn's files are. `resolve` maps a recorded
   * path to a real path through confinement, again, because the workspace may have changed since
   * (a folder replaced by a link out of it). Every path is resolved and every blob verified before
   * the first file is written.
   */
  restore(id: string, resolve: (workspacePath: string) => Promise<string>, options: { alsoLater?: boolean } = {}): Promise<RestoreReport> {
    return this.serial(async () => {
      const target = this.records.get(id);
      if (!target) throw new CheckpointError('unknown-checkpoint', `There is no checkpoint ${id}. List them with \`memgpt checkpoints\`.`);
      const chain = (options.alsoLater ?? true) ? this.ordered().filter((r) => r.seq >= target.seq) : [target];
      // Newest first, older entries overwrite: each file ends as the oldest of these turns found it.
      const plan = new Map<string, CheckpointFile>();
      for (const record of chain) for (const f of record.files) plan.set(f.path, f);
      const steps: { file: CheckpointFile; abs: string; data: Buffer | null }[] = [];
      for (const file of plan.values()) {
        let abs: string;
        try {
          abs = await resolve(file.path);
        } catch (err) {
          throw new CheckpointError(
            'refused-path',
            `Checkpoint ${id} cannot be restored: ${file.path} is refused now (${(err as Error).message}). Nothing was changed.`,
          );
        }
        steps.push({ file, abs, data: file.blob ? await this.readBlob(file.blob) : null });
      }
      const report: RestoreReport = { checkpoints: chain.map((r) => r.id), restored: [], deleted: [] };
      for (const { file, abs, data } of steps) {
        if (data) {
          await atomicWriteFile(abs, data);
          if (file.mode !== null) await fs.chmod(abs, file.mode & 0o7777);
          report.restored.push(file.path);
        } else {
          await fs.rm(abs, { force: true });
          report.deleted.push(file.path);
        }
      }
      report.restored.sort();
      report.deleted.sort();
      return report;
    });
  }

  private async snapshotNow(turnId: string, files: readonly FileToSnapshot[]): Promise<Checkpoint> {
    let record = [...this.records.values()].find((r) => r.turnId === turnId);
    const known = new Set(record?.files.map((f) => f.path));
    const fresh = dedupe(files).filter((f) => !known.has(f.path));
    if (record && fresh.length === 0) return copy(record);
    const fileCount = (record?.files.length ?? 0) + fresh.length;
    if (fileCount > this.limits.maxFilesPerTurn) {
      throw new CheckpointError(
        'too-many-files',
        `This turn would change ${fileCount} files; a checkpoint holds at most ${this.limits.maxFilesPerTurn}. Split the work over several turns.`,
      );
    }
    // Read everything first: nothing is stored unless the whole snapshot fits.
    const taken: { entry: CheckpointFile; data: Buffer | null }[] = [];
    for (const f of fresh) taken.push(await this.read(f));
    const incoming = new Map<string, number>();
    for (const t of taken) if (t.entry.blob) incoming.set(t.entry.blob, t.entry.bytes);
    const everyOther = new Set([...this.records.keys()].filter((id) => id !== record?.id));
    const least = this.bytesWithout(everyOther, incoming);
    if (least > this.limits.maxTotalBytes) {
      throw new CheckpointError(
        'store-full',
        `The files this turn changes need ${least} bytes of checkpoint space; the store holds at most ${this.limits.maxTotalBytes}. The change was not made. Change fewer or smaller files in one turn.`,
      );
    }
    // Drop the oldest checkpoints (never this turn's) until the new snapshot fits.
    const victims = new Set<string>();
    for (const r of this.ordered().reverse()) {
      if (this.bytesWithout(victims, incoming) <= this.limits.maxTotalBytes) break;
      if (r.id !== record?.id) victims.add(r.id);
    }
    await this.drop([...victims]);
    // After the drop: a blob shared with a dropped checkpoint was swept and must be written again.
    for (const t of taken) if (t.data && t.entry.blob) await this.writeBlob(t.entry.blob, t.data);
    if (!record) {
      const seq = Math.max(0, ...[...this.records.values()].map((r) => r.seq)) + 1;
      const time = new Date().toISOString();
      record = { id: `${time.replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`, seq, time, turnId, files: [] };
    }
    const next: Checkpoint = { ...record, files: [...record.files, ...taken.map((t) => t.entry)] };
    await atomicWriteJson(this.recordPath(next.id), { schemaVersion: SCHEMA_VERSION, ...next });
    this.records.set(next.id, next);
    if (this.records.size > this.limits.maxCount)
      await this.drop(
        this.ordered()
          .slice(this.limits.maxCount)
          .map((r) => r.id),
      );
    return copy(next);
  }

  private async read(f: FileToSnapshot): Promise<{ entry: CheckpointFile; data: Buffer | null }> {
    let st;
    try {
      st = await fs.lstat(f.abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { entry: { path: f.path, existed: false, blob: null, bytes: 0, mode: null }, data: null };
      throw err;
    }
    if (!st.isFile())
      throw new CheckpointError('not-a-file', `${f.path} is not a regular file, so it cannot be checkpointed (or changed).`);
    if (st.size > this.limits.maxFileBytes) {
      throw new CheckpointError(
        'file-too-large',
        `${f.path} is ${st.size} bytes; checkpoints copy files of at most ${this.limits.maxFileBytes} bytes, so it is not changed.`,
      );
    }
    const data = await fs.readFile(f.abs);
    if (data.length > this.limits.maxFileBytes)
      throw new CheckpointError('file-too-large', `${f.path} grew past ${this.limits.maxFileBytes} bytes while being read.`);
    return { entry: { path: f.path, existed: true, blob: sha256(data), bytes: data.length, mode: st.mode & 0o7777 }, data };
  }

  /** Bytes the store would hold without the `excluded` checkpoints and with the `incoming` blobs. */
  private bytesWithout(excluded: ReadonlySet<string>, incoming: ReadonlyMap<string, number>): number {
    const sizes = new Map(incoming);
    for (const r of this.records.values()) if (!excluded.has(r.id)) for (const f of r.files) if (f.blob) sizes.set(f.blob, f.bytes);
    let total = 0;
    for (const n of sizes.values()) total += n;
    return total;
  }

  private async drop(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    for (const id of ids) {
      await fs.rm(this.recordPath(id), { force: true });
      this.records.delete(id);
    }
    await this.sweepBlobs();
  }

  /** Deletes blobs no record names (dropped checkpoints, or a crash between blob and record). */
  private async sweepBlobs(): Promise<void> {
    const live = this.blobSizes();
    const root = path.join(this.dir, 'blobs');
    for (const shard of await fs.readdir(root)) {
      const shardDir = path.join(root, shard);
      let names: string[];
      try {
        names = await fs.readdir(shardDir);
      } catch {
        continue;
      }
      for (const name of names) if (!live.has(name)) await fs.rm(path.join(shardDir, name), { force: true });
    }
  }

  private blobSizes(): Map<string, number> {
    const sizes = new Map<string, number>();
    for (const r of this.records.values()) for (const f of r.files) if (f.blob) sizes.set(f.blob, f.bytes);
    return sizes;
  }

  private async writeBlob(hash: string, data: Buffer): Promise<void> {
    const file = this.blobPath(hash);
    try {
      const st = await fs.stat(file);
      if (st.size === data.length) return; // content-addressed: already there
    } catch {
      // not there yet
    }
    await atomicWriteFile(file, data);
  }

  private async readBlob(hash: string): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await fs.readFile(this.blobPath(hash));
    } catch {
      throw new CheckpointError(
        'corrupt-blob',
        `A file of this checkpoint is missing from the store (${hash.slice(0, 12)}…); nothing was restored.`,
      );
    }
    if (sha256(data) !== hash)
      throw new CheckpointError(
        'corrupt-blob',
        `A file of this checkpoint is damaged in the store (${hash.slice(0, 12)}…); nothing was restored.`,
      );
    return data;
  }

  private ordered(): Checkpoint[] {
    return [...this.records.values()].sort((a, b) => b.seq - a.seq);
  }

  private recordPath(id: string): string {
    return path.join(this.dir, 'checkpoints', `${id}.json`);
  }

  private blobPath(hash: string): string {
    return path.join(this.dir, 'blobs', hash.slice(0, 2), hash);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function copy(r: Checkpoint): Checkpoint {
  return { ...r, files: r.files.map((f) => ({ ...f })) };
}

function dedupe(files: readonly FileToSnapshot[]): FileToSnapshot[] {
  const seen = new Set<string>();
  return files.filter((f) => !seen.has(f.path) && (seen.add(f.path), true));
}

/** Checks a record read from disk (files are input like any other). */
function validateCheckpoint(value: unknown): Checkpoint {
  const v = value as Record<string, unknown> | null;
  const fail = (what: string): never => {
    throw new Error(`checkpoint record: ${what}`);
  };
  if (typeof v !== 'object' || v === null) fail('not an object');
  if (v!.schemaVersion !== SCHEMA_VERSION) fail(`unknown schema version ${String(v!.schemaVersion)}`);
  const { id, seq, time, turnId, files } = v!;
  if (typeof id !== 'string' || !/^[\w-]+$/.test(id)) fail('bad id');
  if (typeof seq !== 'number' || !Number.isInteger(seq)) fail('bad seq');
  if (typeof time !== 'string' || typeof turnId !== 'string') fail('bad time or turnId');
  if (!Array.isArray(files)) fail('files is not a list');
  const out: CheckpointFile[] = (files as unknown[]).map((f) => {
    const e = f as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.path !== 'string' || typeof e.existed !== 'boolean' || typeof e.bytes !== 'number')
      fail('bad file entry');
    const blob = e!.blob;
    if (e!.existed ? typeof blob !== 'string' || !/^[0-9a-f]{64}$/.test(blob) : blob !== null) fail('bad blob');
    const mode = e!.mode;
    if (mode !== null && typeof mode !== 'number') fail('bad mode');
    return {
      path: e!.path as string,
      existed: e!.existed as boolean,
      blob: blob as string | null,
      bytes: e!.bytes as number,
      mode: mode as number | null,
    };
  });
  return { id: id as string, seq: seq as number, time: time as string, turnId: turnId as string, files: out };
}
