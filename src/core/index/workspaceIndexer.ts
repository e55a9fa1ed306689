/**
 * Keeps the archival index in step with the workspace files.
 *
 * A catalog of content hashes (saved atomically beside the index, so a new
 * embedder starts a new catalog) lets `indexAll` re-index only files that
 * changed while the editor was closed (size and mtime first, then the hash), and
 * drop files that disappeared. Single-file events (save, create, delete, rename)
 * touch only that file. Work is sliced with setImmediate so the host's event
 * loop is never held long; runs are cancellable, pausable, and never concurrent.
 *
 * With a shared index (published from CI) in reach, a file whose content hash equals the
 * published one is only catalogued, not chunked or embedded: searches answer it from the shared
 * index, so a laptop indexes just what differs from the publish. Such a file is indexed here as
 * soon as that stops being true (it changes, or the publish is lost or replaced).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CATALOG_SAVE_INTERVAL_MS } from '../limits';
import type { ArchivalIndex } from './archivalIndex';
import type { PublishedFiles } from '../interfaces/publishedFiles';
import { atomicWriteFile } from '../storage/atomicFile';
import { chunkTextSliced, type Chunk } from './chunker';
import { chunkStructured, parsesAsCode } from './syntax/structuredChunker';
import type { Outline } from './syntax/outline';
import { TimeSlice, yieldToEventLoop } from './slice';
import {
  discoverFiles,
  readIndexableFile,
  WorkspaceFileFilter,
  type DiscoveredFile,
  type DiscoveryOptions,
  type SkipReason,
} from './discovery';
import { Emitter } from '../base/emitter';
import { SerialQueue } from '../base/serialQueue';

export interface IndexProgress {
  phase: 'discovering' | 'indexing' | 'done' | 'cancelled' | 'failed';
  filesDone: number;
  filesTotal: number;
  /** Workspace-relative path being indexed. */
  currentFile?: string;
  /** Estimated milliseconds left, once a few files are done. */
  etaMs?: number;
  chunksIndexed: number;
  error?: string;
}

export interface IndexRunResult {
  indexed: number;
  unchanged: number;
  removed: number;
  skipped: number;
  /** Files left to the shared index this pass (same content as published): catalogued, not chunked here. */
  shared: number;
  chunks: number;
  ms: number;
  cancelled: boolean;
}

interface CatalogEntry {
  hash: string;
  size: number;
  mtimeMs: number;
  chunks: number;
  /** True: not indexed here, the shared index holds this exact content (`hash`). */
  shared?: true;
}

interface CatalogFile {
  schema: 1;
  /** How files were cut into chunks; a catalog from another chunker is dropped, so every file is cut again. */
  chunker?: number;
  files: Record<string, CatalogEntry>;
}

/** 2: code files follow their syntax (functions, classes, methods) and carry symbols; 3: term counts over fields (BM25F). */
export const CHUNKER_VERSION = 3;

export interface WorkspaceIndexerOptions extends DiscoveryOptions {
  archival: ArchivalIndex;
  /** Where the catalog is kept; default `catalog.json` inside the archival index folder. */
  catalogPath?: string;
  log?: (message: string) => void;
  /** The shared index's files: those it holds with the same content are not indexed here. */
  published?: PublishedFiles;
}

export type ProgressListener = (progress: IndexProgress) => void;

const sha1 = (b: Buffer | string): string => createHash('sha1').update(b).digest('hex');

export class WorkspaceIndexer {
  readonly filter: WorkspaceFileFilter;
  private readonly archival: ArchivalIndex;
  private readonly catalogPath: string;
  private readonly log: (message: string) => void;
  private catalog = new Map<string, CatalogEntry>();
  /** Read once; callers arriving while it is read wait for the same read. */
  private catalogLoading: Promise<void> | undefined;
  private catalogDirty = false;
  private lastCatalogSave = 0;
  private readonly progress = new Emitter<IndexProgress>();
  private running: Promise<IndexRunResult> | undefined;
  private queued: Promise<IndexRunResult> | undefined;
  private paused: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Per-file operations run one after another so a save and a rename never interleave. */
  private readonly fileOps = new SerialQueue();
  /** The published files as of the last pass (null: no shared index usable then, so everything is indexed here). */
  private publishedNow: ReadonlyMap<string, string> | null = null;
  private readonly published: PublishedFiles | undefined;

  constructor(options: WorkspaceIndexerOptions) {
    this.filter = new WorkspaceFileFilter(options);
    this.archival = options.archival;
    this.catalogPath = options.catalogPath ?? path.join(options.archival.folder, 'catalog.json');
    this.log = options.log ?? (() => undefined);
    this.published = options.published;
  }

  onProgress(listener: ProgressListener): { dispose(): void } {
    return this.progress.on(listener);
  }

  private emit(p: IndexProgress): void {
    this.progress.fire(p);
  }

  /** Holds an `indexAll` run between files until `resume()`. */
  pause(): void {
    if (this.paused) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.paused = { promise, resolve };
  }

  resume(): void {
    const p = this.paused;
    this.paused = undefined;
    p?.resolve();
  }

  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Files in the catalog (indexed, possibly with zero chunks). */
  get catalogSize(): number {
    return this.catalog.size;
  }

  /** Files left to the shared index (path → content hash): on disk, known, but holding no chunks here. */
  async sharedFiles(): Promise<ReadonlyMap<string, string>> {
    await this.loadCatalog();
    const out = new Map<string, string>();
    for (const [p, e] of this.catalog) if (e.shared) out.set(p, e.hash);
    return out;
  }

  /** The same, synchronously, as far as the catalog is loaded (symbol look-ups cannot wait). */
  sharedHashOf(filePath: string): string | undefined {
    const e = this.catalog.get(filePath);
    return e?.shared ? e.hash : undefined;
  }

  sharedCount(): number {
    let n = 0;
    for (const e of this.catalog.values()) if (e.shared) n++;
    return n;
  }

  /** The shared index's files now; any failure means none (the local index must then hold everything). */
  private async refreshPublished(): Promise<void> {
    if (!this.published) return;
    try {
      this.publishedNow = await this.published.hashes();
    } catch (err) {
      this.publishedNow = null;
      this.log(`Workspace index: the shared index's file list could not be read (${(err as Error).message}); every file is indexed here.`);
    }
  }

  /**
   * Reconciles the index with the workspace. A call while a run is active
   * queues one more run after it (calls made meanwhile share that queued run).
   */
  indexAll(options: { signal?: AbortSignal } = {}): Promise<IndexRunResult> {
    if (!this.running) {
      this.running = this.reconcile(options.signal).finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    if (!this.queued) {
      const after = this.running.catch(() => undefined);
      this.queued = after.then(() => {
        this.queued = undefined;
        return this.indexAll(options);
      });
    }
    return this.queued;
  }

  private loadCatalog(): Promise<void> {
    this.catalogLoading ??= this.readCatalog();
    return this.catalogLoading;
  }

  private async readCatalog(): Promise<void> {
    try {
      const raw = JSON.parse(await fs.readFile(this.catalogPath, 'utf8')) as CatalogFile;
      if (raw && raw.schema === 1 && raw.files && typeof raw.files === 'object') {
        if (raw.chunker === CHUNKER_VERSION) this.catalog = new Map(Object.entries(raw.files));
        else this.log('Workspace index: files were chunked by an older chunker; every file is indexed again.');
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log(
          `Workspace index: the catalog at ${this.catalogPath} was unreadable (${(err as Error).message}); every file is checked again.`,
        );
      }
    }
  }

  private async saveCatalog(force = false): Promise<void> {
    if (!this.catalogDirty) return;
    if (!force && Date.now() - this.lastCatalogSave < CATALOG_SAVE_INTERVAL_MS) return;
    this.catalogDirty = false;
    this.lastCatalogSave = Date.now();
    const file: CatalogFile = { schema: 1, chunker: CHUNKER_VERSION, files: Object.fromEntries(this.catalog) };
    await fs.mkdir(path.dirname(this.catalogPath), { recursive: true });
    await atomicWriteFile(this.catalogPath, JSON.stringify(file));
  }

  private async waitIfPaused(signal?: AbortSignal): Promise<void> {
    while (this.paused) {
      signal?.throwIfAborted();
      const abort = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([this.paused.promise, abort]);
    }
    signal?.throwIfAborted();
  }

  private async reconcile(signal?: AbortSignal): Promise<IndexRunResult> {
    const started = performance.now();
    const result: IndexRunResult = { indexed: 0, unchanged: 0, removed: 0, skipped: 0, shared: 0, chunks: 0, ms: 0, cancelled: false };
    let filesTotal = 0;
    let filesDone = 0;
    try {
      await this.loadCatalog();
      await this.refreshPublished();
      this.emit({ phase: 'discovering', filesDone: 0, filesTotal: 0, chunksIndexed: 0 });
      const seen = new Set<string>();
      const toIndex: DiscoveredFile[] = [];
      const slice = new TimeSlice();
      for await (const file of discoverFiles(this.filter, signal)) {
        seen.add(file.path);
        const known = this.catalog.get(file.path);
        // unchanged by size and mtime, and its chunks are really in the index
        if (known && known.size === file.size && known.mtimeMs === file.mtimeMs && this.complete(file.path, file.size, known)) {
          if (known.shared) result.shared++;
          else result.unchanged++;
        } else toIndex.push(file);
        await slice.check();
      }
      // Gone while we were away (or no longer indexable): drop them.
      const gone = new Set([...this.catalog.keys(), ...this.archival.indexedPaths()].filter((p) => !seen.has(p)));
      for (const p of gone) {
        await slice.check();
        await this.archival.removePath(p);
        this.catalog.delete(p);
        this.catalogDirty = true;
        result.removed++;
      }
      filesTotal = toIndex.length;
      let bytesDone = 0;
      const bytesTotal = toIndex.reduce((s, f) => s + f.size, 0);
      const indexStart = performance.now();
      for (const file of toIndex) {
        await this.waitIfPaused(signal);
        const elapsed = performance.now() - indexStart;
        const etaMs = bytesDone > 0 && elapsed > 500 ? Math.round((elapsed / bytesDone) * (bytesTotal - bytesDone)) : undefined;
        this.emit({
          phase: 'indexing',
          filesDone,
          filesTotal,
          currentFile: file.path,
          chunksIndexed: result.chunks,
          ...(etaMs !== undefined ? { etaMs } : {}),
        });
        const outcome = await this.indexOne(file, signal);
        if (outcome === 'unchanged') result.unchanged++;
        else if (outcome === 'shared') result.shared++;
        else if (typeof outcome === 'number') {
          result.indexed++;
          result.chunks += outcome;
        } else result.skipped++;
        filesDone++;
        bytesDone += file.size;
        await this.saveCatalog();
        await yieldToEventLoop();
      }
      await this.saveCatalog(true);
      result.ms = Math.round(performance.now() - started);
      this.emit({ phase: 'done', filesDone, filesTotal, chunksIndexed: result.chunks });
      return result;
    } catch (err) {
      await this.saveCatalog(true).catch(() => undefined);
      result.ms = Math.round(performance.now() - started);
      if (signal?.aborted) {
        result.cancelled = true;
        this.emit({ phase: 'cancelled', filesDone, filesTotal, chunksIndexed: result.chunks });
        return result;
      }
      this.emit({ phase: 'failed', filesDone, filesTotal, chunksIndexed: result.chunks, error: (err as Error).message });
      throw err;
    }
  }

  /**
   * Reads, hashes, chunks and stores one file. Returns its chunk count, 'unchanged', 'shared'
   * (the shared index holds this content: catalogued only), or why it was skipped.
   */
  private async indexOne(file: DiscoveredFile, signal?: AbortSignal): Promise<number | 'unchanged' | 'shared' | SkipReason> {
    const read = await readIndexableFile(file.absPath, this.filter.maxFileBytes);
    if (!read.ok) {
      if (this.catalog.has(file.path) || this.archival.hasPath(file.path)) {
        await this.archival.removePath(file.path);
        this.catalog.delete(file.path);
        this.catalogDirty = true;
      }
      return read.reason;
    }
    const hash = sha1(read.bytes);
    if (this.publishedNow?.get(file.path) === hash) {
      // Chunks of an earlier version (say, an edit since reverted) would answer instead of the publish: they go.
      if (this.archival.hasPath(file.path) || this.archival.symbols.has(file.path)) await this.archival.removePath(file.path);
      this.catalog.set(file.path, { hash, size: file.size, mtimeMs: file.mtimeMs, chunks: 0, shared: true });
      this.catalogDirty = true;
      return 'shared';
    }
    const known = this.catalog.get(file.path);
    if (known && known.hash === hash && this.complete(file.path, read.bytes.length, known)) {
      // touched but not changed: remember the new mtime so the next open skips the read
      this.catalog.set(file.path, { ...known, size: file.size, mtimeMs: file.mtimeMs });
      this.catalogDirty = true;
      return 'unchanged';
    }
    const { chunks, outline } = await this.chunk(file.path, read.text);
    signal?.throwIfAborted();
    await this.archival.replaceFile(file.path, hash, chunks, signal, outline);
    this.catalog.set(file.path, { hash, size: file.size, mtimeMs: file.mtimeMs, chunks: chunks.length });
    this.catalogDirty = true;
    return chunks.length;
  }

  /** The file's chunks and symbols are really in the index (a dropped shard or symbol log line means parse again). */
  private complete(filePath: string, size: number, known: CatalogEntry): boolean {
    // Left to the shared index: complete while the publish in reach still holds this content.
    if (known.shared) return this.publishedNow?.get(filePath) === known.hash;
    if (known.chunks > 0 && !this.archival.hasPath(filePath)) return false;
    return known.chunks === 0 || !parsesAsCode(filePath, size) || this.archival.symbols.has(filePath);
  }

  /** Code by its syntax; anything else, a file too large to parse, or a parser failure: by lines. */
  private async chunk(filePath: string, text: string): Promise<{ chunks: Chunk[]; outline?: Outline }> {
    const slice = new TimeSlice();
    try {
      const structured = await chunkStructured(filePath, text, slice);
      if (structured) return structured;
    } catch (err) {
      this.log(`Workspace index: ${filePath} could not be parsed (${(err as Error).message}); it is chunked by lines.`);
    }
    return { chunks: await chunkTextSliced(filePath, text, {}, slice) };
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    return this.fileOps.run(op);
  }

  /**
   * Indexes one file after a save or create (absolute path). Returns its chunk
   * count, or why it is not indexed (then any old chunks of it are removed).
   */
  indexFile(absPath: string, signal?: AbortSignal): Promise<number | 'unchanged' | 'shared' | SkipReason> {
    return this.serial(async () => {
      await this.loadCatalog();
      if (/(^|[\\/])\.(git|memgpt)ignore$/.test(absPath)) {
        this.filter.invalidate();
        this.log('Workspace index: an ignore file changed; run a reconcile (indexAll) to apply it to existing files.');
      }
      const checked = await this.filter.check(absPath);
      if (!checked.ok) {
        const rel = this.filter.relativePath(absPath);
        if (rel && (this.catalog.has(rel) || this.archival.hasPath(rel))) {
          await this.archival.removePath(rel);
          this.catalog.delete(rel);
          this.catalogDirty = true;
          await this.saveCatalog(true);
        }
        return checked.reason;
      }
      const outcome = await this.indexOne(checked.file, signal);
      await this.saveCatalog(true);
      return outcome;
    });
  }

  /** Drops a deleted file, or every file under a deleted folder (absolute path). */
  removeFile(absPath: string): Promise<number> {
    return this.serial(async () => {
      await this.loadCatalog();
      const rel = this.filter.relativePath(absPath);
      if (!rel) return 0;
      const removed = await this.archival.removePath(rel);
      const prefix = rel + '/';
      for (const p of [...this.catalog.keys()]) {
        if (p === rel || p.startsWith(prefix)) {
          this.catalog.delete(p);
          this.catalogDirty = true;
        }
      }
      await this.saveCatalog(true);
      return removed;
    });
  }

  /**
   * Follows a rename of a file or folder (absolute paths) without embedding
   * again; a destination that is excluded is dropped, an unknown source indexed.
   */
  renameFile(oldAbs: string, newAbs: string): Promise<number> {
    return this.serial(async () => {
      await this.loadCatalog();
      const oldRel = this.filter.relativePath(oldAbs);
      const newRel = this.filter.relativePath(newAbs);
      if (!oldRel || !newRel) return 0;
      const moved = await this.archival.renamePath(oldRel, newRel);
      const prefix = oldRel + '/';
      for (const [p, entry] of [...this.catalog]) {
        if (p === oldRel || p.startsWith(prefix)) {
          this.catalog.delete(p);
          // The publish holds a file under its old name only: under the new one it is checked (and indexed) afresh.
          if (!entry.shared) this.catalog.set(p === oldRel ? newRel : newRel + p.slice(oldRel.length), entry);
          this.catalogDirty = true;
        }
      }
      await this.saveCatalog(true);
      return moved;
    }).then(async (moved) => {
      // the new name may be excluded (or a file we never indexed): settle it like a save
      let stat;
      try {
        stat = await fs.stat(newAbs);
      } catch {
        return moved;
      }
      if (stat.isFile()) {
        const outcome = await this.indexFile(newAbs);
        return typeof outcome === 'number' ? Math.max(moved, outcome) : moved;
      }
      return moved;
    });
  }

  /** Saves the catalog and waits for running work. */
  async dispose(): Promise<void> {
    await this.running?.catch(() => undefined);
    await this.fileOps.idle();
    await this.saveCatalog(true);
  }
}
