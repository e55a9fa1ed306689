/**
 * The shared index with this machine's changes laid over it. The local ArchivalIndex keeps the
 * workspace as it is on disk (and the user's memories); a file whose content hash differs from
 * the published one (uncommitted work, a newer or older commit) is answered from the local
 * index only, a published file that is gone locally never shows, and the rest comes from the
 * shared store. Vector candidates of both sides are merged by cosine (same embedder, same
 * scale), full-text candidates by their share of each side's best, then fused as everywhere.
 *
 * The local indexer leaves to the shared store the files whose content equals the published
 * (it only catalogues them: `covered`), and is told through `onDidChange` when the publish in
 * use is lost or replaced, so that it indexes them here again.
 *
 * The shared store is a bonus, never a dependency: connecting is bounded by a time-out, any
 * failure answers from the local index with one notice, and the server is not tried again for
 * a while, so an unreachable server never holds up chat.
 */
import picomatch from 'picomatch';
import type { ArchivalIndex } from '../index/archivalIndex';
import type { ChunkRecord, ScoredRef } from '../index/chunkStore';
import type {
  ArchivalSearchOptions,
  ArchivalSearchResult,
  ArchivalSource,
  RememberedItem,
  ArchivalStore,
} from '../interfaces/archivalStore';
import type { SymbolLookup } from '../interfaces/symbols';
import { SEARCH_CANDIDATES_PER_RETRIEVER, TEAM_RETRY_AFTER_MS } from '../limits';
import { mergeRanked, pageOfHits, rrfFuse, type Candidate } from './fusion';
import { identifierWordsOf } from '../index/codeTokens';
import type { PgArchivalStore } from './pgArchivalStore';
import { isTeamStoreError, TeamStoreError } from './teamError';
import { errorMessage } from '../base/errors';
import { Emitter } from '../base/emitter';
import type { FilesLeftToShared, PublishedFiles } from '../interfaces/publishedFiles';
import { SymbolTable } from '../index/symbolIndex';
import { OverlaySymbols } from './overlaySymbols';

export interface OverlayOptions {
  local: ArchivalIndex;
  /** Opens the shared store (bounded connect time-out); called again after a failure, at most every `retryAfterMs`. */
  openShared: () => Promise<PgArchivalStore>;
  /** Said to the user once per change: shared store in use, or not (and why). */
  notice?: (message: string) => void;
  log?: (message: string) => void;
  retryAfterMs?: number;
  now?: () => number;
  /**
   * Whether a workspace-relative path exists on disk. Used while the local index holds no
   * workspace files yet (never indexed here): then a published file is hidden when it is gone
   * from disk, since the index cannot tell.
   */
  exists?: (path: string) => Promise<boolean>;
  /**
   * Files on disk that the local indexer left to the shared store (path → content hash): not in
   * the local index, yet present. A published file counts as present when it is here or here
   * with a different hash (then it is hidden until indexed locally).
   */
  covered?: FilesLeftToShared;
}

export interface OverlayStatus {
  shared: 'connected' | 'unavailable' | 'not_tried';
  /** The publish read, when connected. */
  publish?: { repoId: string; commit: string; exactCommit: boolean };
  /** Why the shared store is not used, when unavailable. */
  reason?: string;
}

export class OverlayArchivalStore implements ArchivalStore, PublishedFiles {
  private shared: PgArchivalStore | null = null;
  private opening: Promise<PgArchivalStore | null> | null = null;
  private failedAt = -Infinity;
  private lastReason: string | undefined;
  private publishedFiles: { publishId: number; files: Map<string, string> } | null = null;
  private readonly retryAfterMs: number;
  private readonly now: () => number;
  private closed = false;
  /** The publish the indexer may rely on; a change away from it (lost or replaced) is announced. */
  private usablePublish: number | null = null;
  private readonly changes = new Emitter<void>();
  /** The publish's code symbols, loaded in the background once connected. */
  private sharedSymbols: { publishId: number; table: SymbolTable } | null = null;
  private readonly overlaySymbols: OverlaySymbols;

  constructor(private readonly options: OverlayOptions) {
    this.retryAfterMs = options.retryAfterMs ?? TEAM_RETRY_AFTER_MS;
    this.now = options.now ?? (() => Date.now());
    this.overlaySymbols = new OverlaySymbols(options.local.symbols, () => {
      const shared = this.sharedSymbols;
      const files = this.publishedFiles;
      if (!shared || !this.shared || shared.publishId !== this.shared.publish.id || files?.publishId !== shared.publishId) return null;
      return { table: shared.table, visible: (p) => this.publishAnswers(p, files.files) };
    });
  }

  /** Whether the publish answers for a file (see overlaySearch): not indexed here, and present here with the published content. */
  private publishAnswers(p: string, published: ReadonlyMap<string, string>): boolean {
    const local = this.options.local;
    if (local.hasPath(p) || local.symbols.has(p)) return false;
    const mine = this.options.covered?.hashOf(p);
    if (mine !== undefined) return mine === published.get(p);
    // Nothing indexed here at all: the publish is all there is (as for search before the first pass).
    return (this.options.covered?.count() ?? 0) === 0 && local.indexedPaths().length === 0;
  }

  private async refreshCovered(): Promise<ReadonlyMap<string, string>> {
    return (await this.options.covered?.all()) ?? new Map<string, string>();
  }

  /** Loads the publish's symbols once per publish; a failure leaves find_symbol to the local index. */
  private async loadSymbols(store: PgArchivalStore): Promise<void> {
    try {
      await this.filesOf(store);
      await this.refreshCovered();
      const { files, damaged } = await store.publishedSymbols();
      const table = new SymbolTable();
      for (const [p, f] of files) table.set(p, f);
      if (this.shared === store) this.sharedSymbols = { publishId: store.publish.id, table };
      if (damaged > 0) this.options.log?.(`Shared index: ${damaged} published symbol row(s) did not parse and were left out.`);
    } catch (err) {
      this.options.log?.(`Shared index: its code symbols could not be read (${errorMessage(err)}); find_symbol uses the local index.`);
    }
  }

  /** Resolves once the publish's symbols are loaded (or failed to); for callers that must not race it. */
  async symbolsReady(): Promise<void> {
    const store = await this.sharedStore();
    if (store && this.sharedSymbols?.publishId !== store.publish.id) await (this.symbolsLoading ?? this.loadSymbols(store));
  }

  private symbolsLoading: Promise<void> | null = null;

  get local(): ArchivalIndex {
    return this.options.local;
  }

  /** Code symbols: the local index's, with the publish's for the files left to it. */
  get symbols(): SymbolLookup {
    return this.overlaySymbols;
  }

  status(): OverlayStatus {
    if (this.shared) {
      const p = this.shared.publish;
      return { shared: 'connected', publish: { repoId: p.repoId, commit: p.commit, exactCommit: this.shared.exactCommit } };
    }
    if (this.lastReason !== undefined) return { shared: 'unavailable', reason: this.lastReason };
    return { shared: 'not_tried' };
  }

  async hashes(): Promise<ReadonlyMap<string, string> | null> {
    const shared = await this.sharedStore();
    if (!shared) return null;
    try {
      return await this.filesOf(shared);
    } catch (err) {
      if (!isTeamStoreError(err)) throw err;
      await this.drop(err);
      return null;
    }
  }

  onDidChange(listener: () => void): { dispose(): void } {
    return this.changes.on(listener);
  }

  /** Announces losing or replacing the publish the indexer relied on (gaining one needs no work: local files stay valid). */
  private settle(publishId: number | null): void {
    const before = this.usablePublish;
    this.usablePublish = publishId;
    if (before !== null && before !== publishId) this.changes.fire(undefined);
  }

  /** Starts connecting now (activation) so the first search does not pay for it. */
  warm(): void {
    void this.sharedStore();
  }

  insertMemory(text: string, provenance?: { path?: string; startLine?: number; endLine?: number; agentId?: string }): Promise<string> {
    return this.options.local.insertMemory(text, provenance);
  }

  count(source?: ArchivalSource, agentId?: string): number {
    return this.options.local.count(source, agentId);
  }

  memoriesOf(agentId: string): RememberedItem[] {
    return this.options.local.memoriesOf(agentId);
  }

  importMemories(items: readonly RememberedItem[], agentId: string): Promise<number> {
    return this.options.local.importMemories(items, agentId);
  }

  claimUnowned(agentId: string): Promise<number> {
    return this.options.local.claimUnowned(agentId);
  }

  async search(query: string, options: ArchivalSearchOptions = {}): Promise<ArchivalSearchResult> {
    if (options.source === 'memory') return this.options.local.search(query, options);
    if (typeof query !== 'string' || query.trim() === '') {
      throw new Error('The search query is empty. Pass a few words describing what to find.');
    }
    const shared = await this.sharedStore();
    if (!shared) return this.options.local.search(query, options);
    try {
      return await this.overlaySearch(shared, query, options);
    } catch (err) {
      if (!isTeamStoreError(err)) throw err;
      await this.drop(err);
      // A replaced publish: the next one is picked at once rather than after the retry pause.
      if (err.code === 'not_published') {
        this.failedAt = -Infinity;
        const again = await this.sharedStore();
        if (again) {
          try {
            return await this.overlaySearch(again, query, options);
          } catch (e) {
            if (!isTeamStoreError(e)) throw e;
            await this.drop(e);
          }
        }
      }
      return this.options.local.search(query, options);
    }
  }

  private async overlaySearch(shared: PgArchivalStore, query: string, options: ArchivalSearchOptions): Promise<ArchivalSearchResult> {
    const local = this.options.local;
    const store = local.store;
    const k = SEARCH_CANDIDATES_PER_RETRIEVER;
    const published = await this.filesOf(shared);
    // Local files that differ from the publish win; published files not here are hidden.
    const localHash = this.localFileHashes();
    const localWins = new Set<string>();
    for (const [p, h] of localHash) if (published.get(p) !== h) localWins.add(p);
    // Files the indexer left to the shared store: present, with this content.
    const covered = await this.refreshCovered();
    // Once the workspace is indexed here, a published file neither indexed nor left to us is deleted (or excluded) here.
    const indexedHere = localHash.size > 0 || covered.size > 0;
    const hidden: string[] = [];
    for (const [p, h] of published) {
      if (localHash.has(p)) {
        if (localWins.has(p)) hidden.push(p);
      } else if (covered.has(p)) {
        // Left to an earlier publish and different in this one: hidden until the indexer indexes it here.
        if (covered.get(p) !== h) hidden.push(p);
      } else if (indexedHere) hidden.push(p);
    }

    const [qv] = await local.embedder.embed([query], options.signal);
    options.signal?.throwIfAborted();
    const sharedPart = shared.candidates({
      query,
      vector: qv!,
      k,
      excludePaths: hidden,
      ...(options.pathGlob ? { pathGlob: options.pathGlob } : {}),
    });

    const glob = options.pathGlob && options.pathGlob.trim() !== '' ? picomatch(options.pathGlob.trim(), { dot: true }) : undefined;
    const accept = (r: ChunkRecord): boolean => {
      if (r.source === 'memory') {
        const owned = options.agentId === undefined || local.visibleTo(r.id, options.agentId);
        return owned && options.source !== 'workspace' && (!glob || (r.path !== '' && glob(r.path)));
      }
      return localWins.has(r.path) && (!glob || glob(r.path));
    };
    const toCandidates = (list: ScoredRef[]): Candidate[] => {
      const texts = store.textsNow(list);
      return list.map((s, i) => {
        const r = store.record(s);
        const c: Candidate = {
          id: r.id,
          source: r.source,
          path: r.path,
          startLine: r.startLine,
          endLine: r.endLine,
          language: r.language,
          text: texts[i]!,
          score: s.score,
        };
        if (r.symbols) c.symbols = r.symbols;
        if (r.source === 'memory') c.time = r.time;
        return c;
      });
    };
    const localLexical = toCandidates(store.lexicalSearch(query, k, accept));
    const localVector = toCandidates(store.vectorSearch(qv!, k, accept));
    const remote = await sharedPart;
    options.signal?.throwIfAborted();
    if (!indexedHere && this.options.exists) {
      const exists = this.options.exists;
      const paths = [...new Set([...remote.lexical, ...remote.vector].map((c) => c.path))];
      const present = new Set((await Promise.all(paths.map(async (p) => ((await exists(p)) ? p : '')))).filter((p) => p !== ''));
      remote.lexical = remote.lexical.filter((c) => present.has(c.path));
      remote.vector = remote.vector.filter((c) => present.has(c.path));
    }
    const lexical = mergeRanked(remote.lexical, localLexical, k, true);
    const vector = mergeRanked(remote.vector, localVector, k, false);
    // Names the query spells as identifiers: a chunk defining one is raised, as in the local store,
    // whichever side it comes from (its names were published with it, or are in the local index).
    return pageOfHits(rrfFuse([lexical, vector], identifierWordsOf(query)), options);
  }

  /** Content hash of every workspace file in the local index, in one pass over its paths (runs per search). */
  private localFileHashes(): Map<string, string> {
    const store = this.options.local.store;
    const out = new Map<string, string>();
    for (const p of store.paths()) {
      for (const id of store.idsOfPath(p)) {
        const ref = store.get(id);
        if (!ref) continue;
        const r = store.record(ref);
        if (r.source === 'workspace') {
          out.set(p, r.fileHash);
          break;
        }
      }
    }
    return out;
  }

  private async filesOf(shared: PgArchivalStore): Promise<Map<string, string>> {
    if (this.publishedFiles?.publishId !== shared.publish.id) {
      this.publishedFiles = { publishId: shared.publish.id, files: await shared.files() };
    }
    return this.publishedFiles.files;
  }

  /** The open shared store, or null while it is unavailable (then the local index answers). */
  private sharedStore(): Promise<PgArchivalStore | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.shared) return Promise.resolve(this.shared);
    if (this.opening) return this.opening;
    if (this.now() - this.failedAt < this.retryAfterMs) return Promise.resolve(null);
    this.opening = this.options
      .openShared()
      .then(async (store) => {
        if (this.closed) {
          await store.close();
          return null;
        }
        this.shared = store;
        const p = store.publish;
        this.settle(p.id);
        this.symbolsLoading = this.loadSymbols(store).finally(() => {
          this.symbolsLoading = null;
        });
        const which = store.exactCommit
          ? `commit ${p.commit.slice(0, 12)}`
          : `commit ${p.commit.slice(0, 12)} (the newest published; files that differ here are searched locally)`;
        const message = `Shared index: searching ${p.chunks} chunks of ${p.repoId} at ${which} from ${store.connection.display}, with this workspace's changes laid over it.`;
        if (this.lastReason !== undefined) this.options.notice?.(message);
        else this.options.log?.(message);
        this.lastReason = undefined;
        return store;
      })
      .catch(async (err: unknown) => {
        await this.fail(err);
        return null;
      })
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }

  private async fail(err: unknown): Promise<void> {
    this.failedAt = this.now();
    this.settle(null);
    const reason = errorMessage(err);
    const code = err instanceof TeamStoreError ? err.code : 'server_error';
    if (reason !== this.lastReason) {
      const left = (await this.options.covered?.all().catch(() => undefined))?.size ?? 0;
      const indexing = left > 0 ? ` The ${left} files left to the shared index are indexed here now.` : '';
      this.options.notice?.(`Shared index not used (${code}): ${reason} Searching the local index.${indexing}`);
    }
    this.lastReason = reason;
  }

  private async drop(err: unknown): Promise<void> {
    const s = this.shared;
    this.shared = null;
    this.publishedFiles = null;
    this.sharedSymbols = null;
    await s?.close();
    if (!(isTeamStoreError(err) && err.code === 'not_published')) await this.fail(err);
    else {
      this.options.log?.(err.message);
      this.settle(null);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.changes.clear();
    await this.opening?.catch(() => null);
    await this.shared?.close();
    this.shared = null;
  }
}
