import { promises as fsp } from 'node:fs';
import { Emitter } from '../base/emitter';
import { errorMessage } from '../base/errors';
import { describeEmbedder } from '../embed/embedderInfo';
import { LocalHashEmbedder } from '../embed/localEmbedder';
import { Model2VecEmbedder } from '../embed/model2vec';
import { OpenAIEmbedder } from '../embed/openaiEmbedder';
import { ArchivalIndex, type StoredMemory } from '../index/archivalIndex';
import { WorkspaceIndexer, type IndexProgress } from '../index/workspaceIndexer';
import type { ArchivalHit, ArchivalStore } from '../interfaces/archivalStore';
import type { Embedder } from '../interfaces/embedder';
import type { SymbolDefinition, SymbolLookup } from '../interfaces/symbols';
import { archivalPublishSource } from '../team/archivalSource';
import type { OverlayArchivalStore } from '../team/overlayStore';
import type { PublishSource } from '../team/publisher';
import { openSharedOverlay } from '../team/runtimeShared';
import { NodeWorkspace } from '../workspace/nodeWorkspace';
import { effectiveBaseUrl, embeddingsApiKey, requestTimeoutMs, type RuntimeConfig, type RuntimeFolder } from './runtimeConfig';
import { RuntimeUnavailableError, type RuntimeGuard } from './runtimeGuard';
import type { RuntimeLog } from './runtimeLog';
import type { ArchivalSearchOptions, IndexPort, IndexProgressView, IndexRunSummary, PortDisposable } from './runtimePort';
import type { WorkspaceStorage } from './workspaceStorage';

export interface ArchivalServiceOptions {
  /** Where the index lives and where damage is reported; the recall log is not needed. */
  storage: Pick<WorkspaceStorage, 'layout' | 'readOnly' | 'notices'>;
  folders: readonly RuntimeFolder[];
  /** Extra exclude globs from the editor (`files.exclude`, `search.exclude`). */
  editorExcludes: readonly string[];
  config: () => RuntimeConfig;
  trusted: () => boolean;
  guard: RuntimeGuard;
  log: RuntimeLog;
  /** Runs work that replaces the index between turns (the runtime's one rebuild queue). */
  rebuild: <T>(work: () => Promise<T>) => Promise<T>;
  /** Waits until no turn runs, before the index a turn may read is closed. */
  settleTurns: () => Promise<void>;
  /** The index object changed: agents built over the old one must be rebuilt. */
  replaced: () => void;
  /** Archival memory changed (the view's counters). */
  changed: () => void;
  /** Archival memory with remembered items' citations followed (marked stale when the cited code changes). */
  cite?: (store: ArchivalStore) => ArchivalStore;
}

/** Whether a full index pass runs, and how far it got: what the status bar shows. */
export interface IndexingState {
  filesDone: number;
  filesTotal: number;
  paused: boolean;
}

/**
 * Archival memory and the workspace index of one runtime: the embedder the settings name, the
 * local index (with the shared index laid over it when one is configured), the indexer that keeps
 * it current, and the agent's read-only view of the files, all built from the same rules.
 */
export class ArchivalService implements IndexPort {
  private embedder!: Embedder;
  private archival!: ArchivalIndex;
  /** The shared index with local changes laid over it (memgpt.index.sharedStore), else null. */
  private shared: OverlayArchivalStore | null = null;
  private indexer: WorkspaceIndexer | null = null;
  private indexerProgress: PortDisposable | null = null;
  private sharedChanges: PortDisposable | null = null;
  /** The agent's read-only view of the files; its cached listing is dropped when files come and go. */
  private workspace: NodeWorkspace | null = null;
  private indexing: { controller: AbortController; run: Promise<IndexRunSummary> } | null = null;
  private lastProgress: IndexProgress | null = null;
  private readonly progressEvents = new Emitter<IndexProgressView>();
  private readonly indexingEvents = new Emitter<void>();

  constructor(private readonly options: ArchivalServiceOptions) {}

  /** Opens the embedder and the index, then builds the indexer. */
  async open(): Promise<void> {
    await this.openIndex();
    this.buildIndexer();
  }

  get embedderId(): string {
    return this.embedder.id;
  }

  /** What the agent searches: the shared overlay when configured, else the local index. */
  get store(): ArchivalStore {
    return this.cited(this.shared ?? this.archival);
  }

  private cited(store: ArchivalStore): ArchivalStore {
    return this.options.cite ? this.options.cite(store) : store;
  }

  /** With the shared index in use, its symbols answer for the files left to it. */
  get symbols(): SymbolLookup {
    return this.shared?.symbols ?? this.archival.symbols;
  }

  matchSymbols(text: string, limit: number): SymbolDefinition[] {
    return this.symbols.match(text, limit);
  }

  /** With `agentId`, remembered items count only that agent's (each agent has its own). */
  count(agentId?: string): number {
    return this.archival.count(undefined, agentId);
  }

  counts(agentId?: string): { workspace: number; memory: number } {
    return { workspace: this.archival.count('workspace'), memory: this.archival.count('memory', agentId) };
  }

  /** The local index's workspace chunks, for publishing to the shared store (`memgpt index --store`). */
  publishSource(): PublishSource {
    return archivalPublishSource(this.archival);
  }

  /** A new view of the files for a newly built agent, with the current trust and rules. */
  workspaceView(): NodeWorkspace {
    const config = this.options.config();
    this.workspace = new NodeWorkspace(this.options.folders, {
      trusted: this.options.trusted(),
      excludeGlobs: [...config.index.exclude, ...this.options.editorExcludes],
    });
    return this.workspace;
  }

  /** Stored as `agentId`'s; with none, the first agent to run takes it (AgentDirectory). */
  async remember(text: string, provenance?: { path: string; startLine: number; endLine: number }, agentId?: string): Promise<string> {
    const id = await this.cited(this.archival).insertMemory(text, { ...provenance, ...(agentId ? { agentId } : {}) });
    await this.archival.flush();
    this.options.changed();
    return id;
  }

  /** The agent's remembered items with their ids, oldest first. */
  storedMemories(agentId: string): StoredMemory[] {
    return this.archival.storedMemories(agentId);
  }

  /** Forgets items of `agentId` (merged into another); returns them as they were, for an undo. */
  async forgetMemories(ids: readonly string[], agentId: string): Promise<StoredMemory[]> {
    const forgotten = await this.archival.forgetMemories(ids, agentId);
    await this.archival.flush();
    this.options.changed();
    return forgotten;
  }

  /** Brings forgotten items back exactly (ids, text, time, provenance). */
  async restoreForgotten(items: readonly StoredMemory[]): Promise<void> {
    await this.archival.restoreForgotten(items);
    await this.archival.flush();
    this.options.changed();
  }

  /** With `agentId`, remembered items are that agent's only (workspace code is everyone's). */
  search(query: string, options: ArchivalSearchOptions, agentId?: string): Promise<ArchivalHit[]> {
    return this.store
      .search(query, {
        pageSize: options.limit,
        ...(agentId ? { agentId } : {}),
        ...(options.source ? { source: options.source } : {}),
        ...(options.pathGlob ? { pathGlob: options.pathGlob } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })
      .then((r) => r.hits);
  }

  // ─── Settings and trust ───────────────────────────────────────────────────

  /** New embeddings settings: the index is reopened with the new embedder (turns settled first). */
  async reopen(): Promise<void> {
    await this.cancelIndexing();
    await this.options.settleTurns();
    await this.archival.close();
    await this.openIndex();
    this.buildIndexer();
  }

  /** New index rules or trust: the indexer is rebuilt (a running pass is cancelled first). */
  async rebuildIndexer(): Promise<void> {
    await this.cancelIndexing();
    this.buildIndexer();
  }

  // ─── IndexPort ────────────────────────────────────────────────────────────

  indexWorkspace(options: { rebuild?: boolean; signal?: AbortSignal } = {}): Promise<IndexRunSummary> {
    if (this.indexing && !options.rebuild) return this.indexing.run;
    const controller = new AbortController();
    const relay = (): void => controller.abort();
    options.signal?.addEventListener('abort', relay, { once: true });
    const run = (async (): Promise<IndexRunSummary> => {
      if (options.rebuild && this.indexing) await this.cancelIndexing();
      this.options.guard.assertWritable('index the workspace');
      if (!this.options.trusted()) {
        throw new RuntimeUnavailableError(
          'restricted',
          'This workspace is in Restricted Mode: MemGPT indexes no files until you trust the folder.',
        );
      }
      if (this.options.folders.length === 0)
        throw new RuntimeUnavailableError('no_folder', 'No folder is open, so there is nothing to index. Open a folder first.');
      if (options.rebuild) await this.options.rebuild(() => this.dropWorkspaceIndex());
      const indexer = this.indexer;
      if (!indexer) throw new RuntimeUnavailableError('unavailable', 'The workspace index is not available in this window.');
      const result = await indexer.indexAll({ signal: controller.signal });
      await this.archival.flush();
      this.options.changed();
      return result;
    })();
    const entry = { controller, run };
    this.indexing = entry;
    const done = (): void => {
      options.signal?.removeEventListener('abort', relay);
      if (this.indexing === entry) this.indexing = null;
      this.lastProgress = null;
      this.indexingEvents.fire();
    };
    run.then(done, done);
    this.indexingEvents.fire();
    return run;
  }

  pauseIndexing(): void {
    this.indexer?.pause();
    this.indexingEvents.fire();
  }

  resumeIndexing(): void {
    this.indexer?.resume();
    this.indexingEvents.fire();
  }

  async reindexFile(absPath: string): Promise<void> {
    this.workspace?.invalidate();
    if (!this.indexer || this.options.guard.readOnly) return;
    await this.indexer.indexFile(absPath);
  }

  async removeFile(absPath: string): Promise<void> {
    this.workspace?.invalidate();
    if (!this.indexer || this.options.guard.readOnly) return;
    await this.indexer.removeFile(absPath);
  }

  async renameFile(oldAbs: string, newAbs: string): Promise<void> {
    this.workspace?.invalidate();
    if (!this.indexer || this.options.guard.readOnly) return;
    await this.indexer.renameFile(oldAbs, newAbs);
  }

  onIndexProgress(listener: (progress: IndexProgressView) => void): PortDisposable {
    return this.progressEvents.on(listener);
  }

  /** A pass started, progressed, paused or ended. */
  onDidChangeIndexing(listener: () => void): PortDisposable {
    return this.indexingEvents.on(listener);
  }

  /** The running full pass, or null. */
  indexingState(): IndexingState | null {
    if (!this.indexing) return null;
    return {
      filesDone: this.lastProgress?.filesDone ?? 0,
      filesTotal: this.lastProgress?.filesTotal ?? 0,
      paused: this.indexer?.isPaused ?? false,
    };
  }

  async close(): Promise<void> {
    await this.cancelIndexing();
  }

  /** After close(): the index files are released. */
  async dispose(): Promise<void> {
    this.indexerProgress?.dispose();
    this.sharedChanges?.dispose();
    await this.indexer?.dispose();
    await this.shared?.close();
    await this.archival.close();
  }

  // ─── Building the parts ───────────────────────────────────────────────────

  private async makeEmbedder(): Promise<Embedder> {
    const config = this.options.config();
    const e = config.embeddings;
    if (e.baseUrl.trim() === '') return this.localEmbedder(e.localModelPath ?? '');
    try {
      const apiKey = embeddingsApiKey(config);
      return await OpenAIEmbedder.connect({
        baseUrl: effectiveBaseUrl(e.baseUrl),
        model: e.model,
        timeoutMs: requestTimeoutMs(config),
        ...(apiKey ? { apiKey } : {}),
      });
    } catch (error) {
      // Searching with the local embedder beats no archival memory at all; the user is told.
      this.options.log(
        'warn',
        `The embeddings endpoint ${e.baseUrl} could not be used (${errorMessage(error)}). Archival memory uses the local embedder until it can.`,
      );
      return new LocalHashEmbedder();
    }
  }

  /** The Model2Vec model in `folder`, or the hashing embedder (when none is named, or it cannot be loaded: said). */
  private async localEmbedder(folder: string): Promise<Embedder> {
    if (folder.trim() === '') return new LocalHashEmbedder();
    try {
      return await Model2VecEmbedder.load(folder);
    } catch (error) {
      const message = `The local embedding model could not be loaded: ${errorMessage(error)} Archival memory uses lexical search only until it can.`;
      this.options.log('warn', message);
      this.options.storage.notices.post(`embedder:${folder}:${errorMessage(error)}`, message);
      return new LocalHashEmbedder();
    }
  }

  private async openIndex(): Promise<void> {
    const { storage, log } = this.options;
    const previous = this.embedder as Embedder | undefined;
    this.embedder = await this.makeEmbedder();
    // Vectors of two models never mix: the new model has an index of its own, filled from the files and the memory log.
    if (previous && previous.id !== this.embedder.id) {
      const message = `Archival search now uses ${describeEmbedder(this.embedder.id).label}. Its index is built from the workspace files and remembered items are re-embedded from their log; nothing is lost.`;
      log('info', message);
      storage.notices.post(`embedder-switch:${this.embedder.id}`, message);
    }
    this.archival = await ArchivalIndex.open({
      dir: storage.layout.archivalDir,
      embedder: this.embedder,
      log: (m: string) => log('info', m),
      // Derived data rebuilt, or damaged lines in what the user asked to remember: said, never silent.
      notice: (m: string) => storage.notices.post(m, m),
      readOnly: storage.readOnly,
    });
    await this.shared?.close();
    this.shared = openSharedOverlay({
      config: this.options.config().sharedStore,
      folders: this.options.folders.map((f) => f.path),
      local: this.archival,
      notice: (m: string) => storage.notices.post(m, m),
      log: (m: string) => log('info', m),
      // The indexer is rebuilt when settings change: always ask the current one.
      covered: {
        all: async () => (await this.indexer?.sharedFiles()) ?? new Map<string, string>(),
        hashOf: (p) => this.indexer?.sharedHashOf(p),
        count: () => this.indexer?.sharedCount() ?? 0,
      },
    });
    // The publish the indexer relied on was lost or replaced: the files it left to it are checked again.
    this.sharedChanges?.dispose();
    this.sharedChanges = this.shared?.onDidChange(() => void this.reconcileAfterSharedChange()) ?? null;
  }

  private async reconcileAfterSharedChange(): Promise<void> {
    if (!this.indexer || this.options.guard.readOnly) return;
    if ((await this.indexer.sharedFiles()).size === 0 && !this.indexing) return;
    const again = (): void =>
      void this.indexWorkspace().catch((err: unknown) =>
        this.options.log('warn', `Indexing the files the shared index held failed: ${errorMessage(err)}`),
      );
    if (this.indexing) void this.indexing.run.then(again, again);
    else again();
  }

  private buildIndexer(): void {
    this.indexerProgress?.dispose();
    this.indexer = null;
    if (!this.options.trusted() || this.options.folders.length === 0) return;
    const config = this.options.config();
    this.indexer = new WorkspaceIndexer({
      roots: this.options.folders,
      archival: this.archival,
      excludeGlobs: [...config.index.exclude, ...this.options.editorExcludes],
      includeGlobs: config.index.include,
      maxFileBytes: config.index.maxFileBytes,
      log: (m) => this.options.log('info', m),
      ...(this.shared ? { published: this.shared } : {}),
    });
    this.indexerProgress = this.indexer.onProgress((p) => this.onIndexerProgress(p));
  }

  /** Rebuild: the workspace chunks and catalog go; remembered items stay (they are re-embedded from their log). */
  private async dropWorkspaceIndex(): Promise<void> {
    await this.options.settleTurns();
    const folder = this.archival.folder;
    await this.archival.close();
    await fsp.rm(folder, { recursive: true, force: true });
    await this.openIndex();
    this.buildIndexer();
    this.options.replaced();
  }

  private async cancelIndexing(): Promise<void> {
    const current = this.indexing;
    if (!current) return;
    current.controller.abort();
    this.indexer?.resume();
    await current.run.catch(() => undefined);
  }

  private onIndexerProgress(p: IndexProgress): void {
    this.lastProgress = p.phase === 'discovering' || p.phase === 'indexing' ? p : null;
    this.progressEvents.fire({
      phase: p.phase,
      filesDone: p.filesDone,
      filesTotal: p.filesTotal,
      ...(p.currentFile !== undefined ? { currentFile: p.currentFile } : {}),
      ...(p.error !== undefined ? { error: p.error } : {}),
    });
    this.indexingEvents.fire();
  }
}
