/**
 * Archival memory: the indexed workspace and what the agent chose to remember,
 * in one store searched by words (BM25) and by meaning (vectors), fused.
 *
 * One index folder per embedder id under `dir`, so changing the embedding model
 * builds a new index and never mixes vector sizes. Memories are also kept in a
 * small text log beside those folders (`memories.jsonl`), from which a new or
 * repaired index re-embeds them: switching models does not forget them. That log is primary
 * data (what the user asked to remember): a checksummed append log of src/core/storage, synced
 * per item, migrated from its old plain-JSON format, never reset. The index folders are derived
 * data: damaged ones are rebuilt, one written by a newer version is kept aside, and the user is
 * told either way (`notice`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import type { Embedder } from '../interfaces/embedder';
import type {
  ArchivalHit,
  ArchivalSearchOptions,
  ArchivalSearchResult,
  ArchivalSource,
  ArchivalStore,
  RememberedItem,
} from '../interfaces/archivalStore';
import {
  PROSE_SCORE_FACTOR,
  RRF_K,
  SYMBOL_QUERY_BOOST,
  SEARCH_CANDIDATES_PER_RETRIEVER,
  SEARCH_HIT_MAX_CHARS,
  SEARCH_MAX_RESULTS,
  SEARCH_PAGE_SIZE,
} from '../limits';
import { AppendLog, type AppendLogOpenReport } from '../storage/appendLog';
import { keepAside } from '../storage/atomicFile';
import { maskSecrets } from '../security/redact';
import { ChunkStore, IndexTooNewError, type ChunkRecord, type ChunkRef, type NewChunk, type Notice, type ScoredRef } from './chunkStore';
import { mergeAdjacent } from './hitMerge';
import { identifierWordsOf } from './codeTokens';
import { SymbolIndex } from './symbolIndex';
import type { Outline } from './syntax/outline';

const PROSE_LANGUAGES: ReadonlySet<string> = new Set(['markdown', 'mdx', 'plaintext', 'restructuredtext']);

/** How candidates are ranked: fused (default), or one retriever alone (for measurement). */
export type SearchMode = 'rrf' | 'blend' | 'lexical' | 'vector';

export interface ArchivalIndexSearchOptions extends ArchivalSearchOptions {
  mode?: SearchMode;
}

export interface ArchivalIndexOptions {
  /** Parent folder; the index lives in a sub-folder named after the embedder. */
  dir: string;
  embedder: Embedder;
  /** Everything worth a line in a log: routine repairs, restored memories, and every notice. */
  log?: Notice;
  /** What the user must be told: damaged index data rebuilt or dropped, damaged lines in memories.jsonl. */
  notice?: Notice;
  /** A window without the workspace lock: nothing is written, moved or deleted; inserts throw. */
  readOnly?: boolean;
  /** Default ranking; 'rrf' unless measured otherwise (bench/retrieval.bench.ts). */
  mode?: SearchMode;
}

/** One chunk of a file, as the indexer hands it over. */
export interface FileChunk {
  startLine: number;
  endLine: number;
  language: string;
  text: string;
  hash: string;
  /** Structure-aware chunks: scope and defined names. */
  symbols?: string[];
}

interface MemoryLogEntry {
  id: string;
  /** The agent that remembered it; absent for items remembered before items had owners. */
  agentId?: string;
  text: string;
  path?: string;
  startLine?: number;
  endLine?: number;
  time: string;
  /** A line saying the item was forgotten (merged away by reflection); the same line without it brings it back. */
  forgotten?: true;
}

/** A remembered item with its id: what reflection merges and an undo restores exactly. */
export type StoredMemory = Omit<MemoryLogEntry, 'forgotten'> & { id: string };

export const MEMORY_LOG_FILE = 'memories.jsonl';

function validateMemoryEntry(v: unknown): MemoryLogEntry {
  const o = v as Partial<Record<keyof MemoryLogEntry, unknown>> | null;
  if (!o || typeof o !== 'object' || typeof o.id !== 'string' || typeof o.text !== 'string' || typeof o.time !== 'string') {
    throw new Error('not a remembered item (needs id, text, time)');
  }
  const entry: MemoryLogEntry = { id: o.id, text: o.text, time: o.time };
  if (typeof o.agentId === 'string' && o.agentId !== '') entry.agentId = o.agentId;
  if (typeof o.path === 'string') entry.path = o.path;
  if (Number.isInteger(o.startLine)) entry.startLine = o.startLine as number;
  if (Number.isInteger(o.endLine)) entry.endLine = o.endLine as number;
  if (o.forgotten === true) entry.forgotten = true;
  return entry;
}

/** A filesystem-safe folder name for an embedder id, unique per id. */
export function indexFolderName(embedderId: string): string {
  const safe = embedderId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${safe}-${createHash('sha1').update(embedderId).digest('hex').slice(0, 8)}`;
}

/** What the embedder sees of a chunk: the path, and for code the scope and names it defines, give the text its context. */
function embeddingText(filePath: string, text: string, symbols?: readonly string[]): string {
  const head = symbols && symbols.length > 0 ? `${filePath}\n${symbols.join(' ')}` : filePath;
  return head === '' ? text : `${head}\n${text}`;
}

interface MergedHit {
  refs: ChunkRef[];
  record: ChunkRecord;
  startLine: number;
  endLine: number;
  score: number;
}

export class ArchivalIndex implements ArchivalStore {
  private mode: SearchMode;
  /**
   * Every remembered item by id, as the log last says (a later line for the same id, written when
   * an item was given to an agent, wins). Owners decide which agent's search finds an item.
   */
  private readonly memories = new Map<string, MemoryLogEntry>();
  /** Ids the log says were forgotten: never found again, even while their chunk is still being removed. */
  private readonly forgotten = new Set<string>();

  private constructor(
    readonly folder: string,
    /** The underlying store (benchmarks and diagnostics read its vectors). */
    readonly store: ChunkStore,
    readonly embedder: Embedder,
    private readonly memoryLog: AppendLog<MemoryLogEntry>,
    mode: SearchMode,
    /** Definitions and references of the indexed code files, kept in step with their chunks. */
    readonly symbols: SymbolIndex,
  ) {
    this.mode = mode;
  }

  static async open(options: ArchivalIndexOptions): Promise<ArchivalIndex> {
    const { dir, embedder } = options;
    const log = options.log ?? (() => undefined);
    const notice: Notice = (m) => {
      log(m);
      options.notice?.(m);
    };
    const readOnly = options.readOnly === true;
    if (!Number.isInteger(embedder.dimensions) || embedder.dimensions <= 0) {
      throw new Error(`The embedder "${embedder.id}" reports ${embedder.dimensions} dimensions; an index needs a positive whole number.`);
    }
    if (!readOnly) await fs.mkdir(dir, { recursive: true });
    // The memory log first: it is what a new or rebuilt index is filled from.
    const memoryLogPath = path.join(dir, MEMORY_LOG_FILE);
    const memories = await AppendLog.open<MemoryLogEntry>(memoryLogPath, {
      validate: validateMemoryEntry,
      legacyJsonLines: true,
      readOnly,
    });
    reportMemoryLog(memories.report, readOnly, log, notice);
    const folder = path.join(dir, indexFolderName(embedder.id));
    let store: ChunkStore;
    try {
      store = await ArchivalIndex.openStore(folder, embedder, readOnly, log, notice);
    } catch (err) {
      await memories.log.close();
      throw err;
    }
    let symbols: SymbolIndex;
    try {
      symbols = await SymbolIndex.open(folder, { readOnly, log });
    } catch (err) {
      await memories.log.close();
      await store.close();
      throw err;
    }
    const index = new ArchivalIndex(folder, store, embedder, memories.log, options.mode ?? 'rrf', symbols);
    for (const e of memories.entries) index.readLogEntry(e);
    try {
      await index.restoreMemories([...index.memories.values()], log);
      await index.dropForgottenChunks();
    } catch (err) {
      await index.close();
      throw err;
    }
    return index;
  }

  /**
   * The chunk store in `folder`. One written by a newer version is derived data this version
   * cannot read: it is kept aside (a downgrade must not destroy it) and a fresh one is built.
   */
  private static async openStore(folder: string, embedder: Embedder, readOnly: boolean, log: Notice, notice: Notice): Promise<ChunkStore> {
    const open = (dir: string): Promise<ChunkStore> =>
      ChunkStore.open({ dir, embedderId: embedder.id, dimensions: embedder.dimensions, notice, log, readOnly });
    try {
      return await open(folder);
    } catch (err) {
      if (!(err instanceof IndexTooNewError)) throw err;
      if (readOnly) {
        notice(
          `${err.message} This read-only window searches remembered items only; the window that holds the memory builds a fresh index.`,
        );
        // A folder that does not exist opens as an empty store and, read-only, is never created.
        return open(`${folder}.unavailable`);
      }
      const keptAs = await keepAside(folder, 'newer');
      notice(
        `${err.message} It was kept aside as ${path.basename(keptAs)} (the newer version can still use it) and a fresh index is built: ` +
          'remembered items are restored from memories.jsonl; the workspace files are re-indexed on the next index run (in VS Code when the window opens, on the command line with `memgpt index`).',
      );
      return open(folder);
    }
  }

  /** One line of the memory log, read in order: the last line for an id says what it is. */
  private readLogEntry(e: MemoryLogEntry): void {
    if (e.forgotten) {
      this.memories.delete(e.id);
      this.forgotten.add(e.id);
    } else {
      this.memories.set(e.id, e);
      this.forgotten.delete(e.id);
    }
  }

  /** Chunks of forgotten items left in the index (a removal cut short) leave it now. */
  private async dropForgottenChunks(): Promise<void> {
    if (this.store.readOnly) return;
    const left = [...this.forgotten].filter((id) => this.store.get(id));
    if (left.length > 0) await this.store.remove(left);
  }

  /** Memories in the log but not in this index (new embedder, dropped shard) are embedded again. */
  private async restoreMemories(entries: readonly MemoryLogEntry[], log: Notice): Promise<void> {
    const missing = entries.filter((e) => !this.store.get(e.id));
    if (missing.length === 0) return;
    const vectors = await this.embedder.embed(missing.map((m) => embeddingText(m.path ?? '', m.text)));
    const chunks = missing.map((m, i) => this.memoryChunk(m, vectors[i]!));
    // Read-only: searchable here, written by the window that holds the lock when it opens.
    if (this.store.readOnly) this.store.addInMemory(chunks);
    else await this.store.add(chunks);
    log(`Archival memory: ${missing.length} remembered item(s) were embedded into the index for "${this.embedder.id}".`);
  }

  private memoryChunk(m: MemoryLogEntry, vector: Float32Array): NewChunk {
    return {
      record: {
        id: m.id,
        source: 'memory',
        path: m.path ?? '',
        startLine: m.startLine ?? 0,
        endLine: m.endLine ?? 0,
        language: '',
        hash: '',
        fileHash: '',
        time: m.time,
      },
      text: m.text,
      vector,
    };
  }

  async insertMemory(
    text: string,
    provenance?: { path?: string; startLine?: number; endLine?: number; agentId?: string },
  ): Promise<string> {
    if (typeof text !== 'string' || text.trim() === '') {
      throw new Error('Nothing to remember: the text is empty. Pass the fact or code to store as `content`.');
    }
    // Defence behind the agent's own masking: "Remember selection" stores code as the user selected it,
    // and neither the memory log nor the index may hold a key in plain text.
    const entry: MemoryLogEntry = { id: `mem-${randomUUID()}`, text: maskSecrets(text), time: new Date().toISOString() };
    if (provenance?.agentId) entry.agentId = provenance.agentId;
    if (provenance?.path) entry.path = provenance.path;
    if (provenance?.startLine !== undefined) entry.startLine = provenance.startLine;
    if (provenance?.endLine !== undefined) entry.endLine = provenance.endLine;
    await this.addMemories([entry]);
    return entry.id;
  }

  private async addMemories(entries: MemoryLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const vectors = await this.embedder.embed(entries.map((e) => embeddingText(e.path ?? '', e.text)));
    // the log first: if the index write fails, the next open restores the memory from it
    await this.memoryLog.append(entries);
    for (const e of entries) this.readLogEntry(e);
    await this.store.add(entries.map((e, i) => this.memoryChunk(e, vectors[i]!)));
  }

  count(source?: ArchivalSource, agentId?: string): number {
    if (agentId === undefined || source === 'workspace') return this.store.count(source);
    const own = this.memoriesOf(agentId).length + this.unownedCount();
    return source === 'memory' ? own : this.store.count('workspace') + own;
  }

  /** The remembered items of one agent, oldest first. */
  memoriesOf(agentId: string): RememberedItem[] {
    const items: RememberedItem[] = [];
    for (const e of this.memories.values()) {
      if (e.agentId !== agentId) continue;
      const item: RememberedItem = { text: e.text, time: e.time };
      if (e.path !== undefined) item.path = e.path;
      if (e.startLine !== undefined) item.startLine = e.startLine;
      if (e.endLine !== undefined) item.endLine = e.endLine;
      items.push(item);
    }
    return items.sort((a, b) => a.time.localeCompare(b.time));
  }

  /** The remembered items of one agent with their ids, oldest first (reflection reads them). */
  storedMemories(agentId: string): StoredMemory[] {
    return [...this.memories.values()]
      .filter((e) => e.agentId === agentId)
      .map((e) => ({ ...e }))
      .sort((a, b) => a.time.localeCompare(b.time));
  }

  /**
   * Forgets items of `agentId` (a merge replaced them): a line per item in the log, then out of
   * the index. Returns the items as they were, for an exact undo; ids not the agent's are skipped.
   */
  async forgetMemories(ids: readonly string[], agentId: string): Promise<StoredMemory[]> {
    const items = ids.map((id) => this.memories.get(id)).filter((e): e is MemoryLogEntry => e !== undefined && e.agentId === agentId);
    if (items.length === 0) return [];
    await this.memoryLog.append(items.map((e) => ({ ...e, forgotten: true as const })));
    for (const e of items) this.readLogEntry({ ...e, forgotten: true });
    await this.store.remove(items.map((e) => e.id));
    return items.map((e) => ({ ...e }));
  }

  /** Brings forgotten items back as they were: same ids, text, time and provenance. */
  async restoreForgotten(items: readonly StoredMemory[]): Promise<void> {
    await this.addMemories(items.map((m): MemoryLogEntry => ({ ...m })));
  }

  /** Stores imported items for `agentId`, with new ids (their time and provenance kept). */
  async importMemories(items: readonly RememberedItem[], agentId: string): Promise<number> {
    const entries = items.map((m): MemoryLogEntry => {
      const e: MemoryLogEntry = { id: `mem-${randomUUID()}`, agentId, text: maskSecrets(m.text), time: m.time };
      if (m.path !== undefined) e.path = m.path;
      if (m.startLine !== undefined) e.startLine = m.startLine;
      if (m.endLine !== undefined) e.endLine = m.endLine;
      return e;
    });
    await this.addMemories(entries);
    return entries.length;
  }

  /**
   * Whether agent `agentId` sees remembered item `id`: its own, or one with no owner yet (stored
   * with no agent in the workspace; the next agent to run claims it, see claimUnowned).
   */
  visibleTo(id: string, agentId: string): boolean {
    if (this.forgotten.has(id)) return false;
    const owner = this.memories.get(id)?.agentId;
    return owner === undefined || owner === agentId;
  }

  /** How many remembered items have no owner (stored before items belonged to agents). */
  unownedCount(): number {
    let n = 0;
    for (const e of this.memories.values()) if (e.agentId === undefined) n++;
    return n;
  }

  /**
   * Gives every item without an owner to `agentId`: the same line again with the owner, which
   * wins when the log is read (nothing is rewritten or removed). Returns how many.
   */
  async claimUnowned(agentId: string): Promise<number> {
    const claimed = [...this.memories.values()].filter((e) => e.agentId === undefined).map((e) => ({ ...e, agentId }));
    if (claimed.length === 0) return 0;
    await this.memoryLog.append(claimed);
    for (const e of claimed) this.memories.set(e.id, e);
    return claimed.length;
  }

  /** Workspace paths that have chunks in the index. */
  indexedPaths(): string[] {
    return this.store.paths().filter((p) => this.hasPath(p));
  }

  hasPath(filePath: string): boolean {
    return this.store.pathHas(filePath, (r) => r.source === 'workspace');
  }

  /** The file hash the chunks of `filePath` were made from, if indexed. */
  fileHashOf(filePath: string): string | undefined {
    const id = this.workspaceIds(filePath)[0];
    const ref = id ? this.store.get(id) : undefined;
    return ref ? this.store.record(ref).fileHash : undefined;
  }

  private workspaceIds(filePath: string): string[] {
    return this.store.idsOfPath(filePath).filter((id) => {
      const ref = this.store.get(id);
      return ref !== undefined && this.store.record(ref).source === 'workspace';
    });
  }

  /**
   * Replaces every chunk of `filePath` with `chunks` (embedded here) in one durable step, then
   * its symbols with `outline` (none: the file is not parsed, and loses any symbols it had).
   */
  async replaceFile(
    filePath: string,
    fileHash: string,
    chunks: readonly FileChunk[],
    signal?: AbortSignal,
    outline?: Outline,
  ): Promise<void> {
    const vectors =
      chunks.length > 0
        ? await this.embedder.embed(
            chunks.map((c) => embeddingText(filePath, c.text, c.symbols)),
            signal,
          )
        : [];
    signal?.throwIfAborted();
    const time = new Date().toISOString();
    const news: NewChunk[] = chunks.map((c, i) => ({
      record: {
        id: randomUUID(),
        source: 'workspace',
        path: filePath,
        startLine: c.startLine,
        endLine: c.endLine,
        language: c.language,
        hash: c.hash,
        fileHash,
        time,
        ...(c.symbols && c.symbols.length > 0 ? { symbols: c.symbols.join(' ') } : {}),
      },
      text: c.text,
      vector: vectors[i]!,
    }));
    await this.store.replace(() => this.workspaceIds(filePath), news);
    if (outline) await this.symbols.put(filePath, fileHash, outline);
    else await this.symbols.remove([filePath]);
  }

  /** Removes the chunks of a file, or of every file under a folder. Returns the chunks removed. */
  async removePath(fileOrFolder: string): Promise<number> {
    const ids = this.pathsUnder(fileOrFolder).flatMap((p) => this.workspaceIds(p));
    const removed = await this.store.remove(ids);
    await this.symbols.remove(this.symbols.pathsUnder(fileOrFolder));
    return removed;
  }

  /**
   * Moves the chunks of a renamed file (or of every file under a renamed folder)
   * to the new path without embedding them again. Returns the chunks moved.
   */
  async renamePath(oldPath: string, newPath: string): Promise<number> {
    let moved = 0;
    for (const p of this.pathsUnder(oldPath)) {
      const target = p === oldPath ? newPath : newPath + p.slice(oldPath.length);
      const ids = this.workspaceIds(p);
      const refs = ids.map((id) => this.store.get(id)!);
      const texts = await this.store.texts(refs);
      const news: NewChunk[] = refs.map((ref, i) => {
        const r = this.store.record(ref);
        return {
          record: {
            id: randomUUID(),
            source: 'workspace',
            path: target,
            startLine: r.startLine,
            endLine: r.endLine,
            language: r.language,
            hash: r.hash,
            fileHash: r.fileHash,
            time: r.time,
            ...(r.symbols ? { symbols: r.symbols } : {}),
          },
          text: texts[i]!,
          vector: Float32Array.from(this.store.vector(ref)),
        };
      });
      await this.store.replace(() => [...ids, ...this.workspaceIds(target)], news);
      moved += news.length;
    }
    for (const p of this.symbols.pathsUnder(oldPath))
      await this.symbols.rename(p, p === oldPath ? newPath : newPath + p.slice(oldPath.length));
    return moved;
  }

  private pathsUnder(fileOrFolder: string): string[] {
    if (this.store.idsOfPath(fileOrFolder).length > 0) return [fileOrFolder]; // a file: no folder scan
    const prefix = fileOrFolder.endsWith('/') ? fileOrFolder : fileOrFolder + '/';
    return this.store.paths().filter((p) => p === fileOrFolder || p.startsWith(prefix));
  }

  async search(query: string, options: ArchivalIndexSearchOptions = {}): Promise<ArchivalSearchResult> {
    const pageSize = Math.max(1, Math.floor(options.pageSize ?? SEARCH_PAGE_SIZE));
    const page = Math.max(0, Math.floor(options.page ?? 0));
    if (typeof query !== 'string' || query.trim() === '') {
      throw new Error('The search query is empty. Pass a few words describing what to find.');
    }
    const mode = options.mode ?? this.mode;
    const accept = this.filterFor(options);
    const k = SEARCH_CANDIDATES_PER_RETRIEVER;
    const lexical = mode === 'vector' ? [] : this.store.lexicalSearch(query, k, accept);
    let vector: ScoredRef[] = [];
    if (mode !== 'lexical') {
      const [qv] = await this.embedder.embed([query], options.signal);
      vector = this.store.vectorSearch(qv!, k, accept);
    }
    options.signal?.throwIfAborted();
    const fused = fuse(mode, lexical, vector);
    // A query word that is exactly a name the workspace defines points at its definition.
    const named = this.namedSymbols(query);
    if (named.size > 0) {
      for (const f of fused) {
        const symbols = this.store.record(f.ref).symbols;
        if (symbols && symbols.split(' ').some((n) => named.has(n))) f.score *= SYMBOL_QUERY_BOOST;
      }
    }
    // Prose about the code (READMEs, changelogs) mentions everything; the code answers.
    for (const f of fused) if (PROSE_LANGUAGES.has(this.store.record(f.ref).language)) f.score *= PROSE_SCORE_FACTOR;
    fused.sort((a, b) => b.score - a.score);
    const merged = this.merge(fused).slice(0, SEARCH_MAX_RESULTS);
    const total = merged.length;
    const pageCount = Math.max(1, Math.ceil(total / pageSize));
    const slice = merged.slice(page * pageSize, (page + 1) * pageSize);
    const pageRefs = slice.flatMap((m) => m.refs);
    const pageTexts = this.store.textsNow(pageRefs);
    const textOf = new Map(pageRefs.map((ref, i) => [ref, pageTexts[i]!]));
    const hits = slice.map((m) => this.toHit(m, textOf));
    return { hits, total, page, pageCount };
  }

  /** Words of the query written as identifiers that name a definition in the workspace. */
  private namedSymbols(query: string): Set<string> {
    return new Set([...identifierWordsOf(query)].filter((w) => this.symbols.defines(w)));
  }

  /** Sets the default ranking (the retrieval bench compares them). */
  setMode(mode: SearchMode): void {
    this.mode = mode;
  }

  private filterFor(options: ArchivalSearchOptions): ((r: ChunkRecord) => boolean) | undefined {
    const source = options.source;
    const agentId = options.agentId;
    let glob: ((p: string) => boolean) | undefined;
    if (options.pathGlob && options.pathGlob.trim() !== '') {
      const matcher = picomatch(options.pathGlob.trim(), { dot: true });
      const cache = new Map<string, boolean>();
      glob = (p) => {
        let v = cache.get(p);
        if (v === undefined) cache.set(p, (v = p !== '' && matcher(p)));
        return v;
      };
    }
    if (!source && !glob && agentId === undefined) return undefined;
    const owned = (r: ChunkRecord): boolean => agentId === undefined || r.source !== 'memory' || this.visibleTo(r.id, agentId);
    return (r) => (!source || r.source === source) && (!glob || glob(r.path)) && owned(r);
  }

  /** Overlapping or adjacent chunks of one file become one hit spanning them. */
  private merge(fused: { ref: ChunkRef; score: number }[]): MergedHit[] {
    return mergeAdjacent(
      fused.map((f) => ({ item: f.ref, score: f.score })),
      (ref) => this.store.record(ref),
    ).map((m) => ({ refs: m.items, record: this.store.record(m.first), startLine: m.startLine, endLine: m.endLine, score: m.score }));
  }

  private toHit(m: MergedHit, textOf: ReadonlyMap<ChunkRef, string>): ArchivalHit {
    const refs = [...m.refs].sort((a, b) => this.store.record(a).startLine - this.store.record(b).startLine);
    const texts = refs.map((ref) => textOf.get(ref)!);
    let text = texts[0]!;
    let end = this.store.record(refs[0]!).endLine;
    for (let i = 1; i < refs.length; i++) {
      const r = this.store.record(refs[i]!);
      if (r.endLine <= end) continue;
      const lines = texts[i]!.split('\n');
      text += '\n' + lines.slice(Math.max(0, end - r.startLine + 1)).join('\n');
      end = r.endLine;
    }
    if (text.length > SEARCH_HIT_MAX_CHARS) {
      text = `${text.slice(0, SEARCH_HIT_MAX_CHARS)}\n[… ${text.length - SEARCH_HIT_MAX_CHARS} more characters; read the file for the rest]`;
    }
    const r = m.record;
    const hit: ArchivalHit = { id: r.id, source: r.source, text, score: Math.round(m.score * 1000) / 1000 };
    if (r.path !== '') hit.path = r.path;
    if (m.startLine > 0) {
      hit.startLine = m.startLine;
      hit.endLine = m.endLine;
    }
    if (r.source === 'memory') hit.time = r.time;
    return hit;
  }

  /** Writes pending chunks as shards now (normally done in the background). */
  flush(): Promise<void> {
    return this.store.flush();
  }

  async close(): Promise<void> {
    await this.memoryLog.close();
    await this.symbols.close();
    await this.store.close();
  }
}

/** What opening memories.jsonl found: damage is the user's business, a torn or migrated tail is routine. */
function reportMemoryLog(report: AppendLogOpenReport, readOnly: boolean, log: Notice, notice: Notice): void {
  if (report.tornPartialLine && report.droppedTailLines === 0 && report.entries > 0) {
    log(
      `Archival memory: the last ${report.droppedTailBytes} bytes of ${MEMORY_LOG_FILE} were a torn write (never acknowledged) and were ${readOnly ? 'skipped' : 'dropped'}.`,
    );
  }
  const damaged = report.droppedTailLines + report.corruptLinesSkipped + report.invalidEntriesSkipped;
  if (damaged > 0 || (report.entries === 0 && report.droppedTailBytes > 0)) {
    notice(
      `Archival memory: ${MEMORY_LOG_FILE} (what you asked to remember) has ${damaged || 'only'} damaged line(s); ${report.entries} remembered item(s) were read. ` +
        (report.tailKeptAs
          ? `The damaged end was kept as ${path.basename(report.tailKeptAs)}.`
          : readOnly
            ? 'Nothing was changed: this window is read-only.'
            : 'Damaged lines between good ones stay in the file untouched.'),
    );
  }
  if (report.legacyLines > 0 && !readOnly)
    log(`Archival memory: ${MEMORY_LOG_FILE} was converted to checksummed lines (${report.legacyLines} items).`);
}

/**
 * Ranks the union of both candidate lists. RRF sums 1/(k + rank) per list,
 * scaled so that a chunk first in both lists scores 1; 'blend' averages each
 * list's scores divided by that list's best.
 */
function fuse(mode: SearchMode, lexical: ScoredRef[], vector: ScoredRef[]): { ref: ChunkRef; score: number }[] {
  const scores = new Map<string, { ref: ChunkRef; score: number }>();
  const key = (r: ChunkRef): string => r.segment.records[r.index]!.id;
  const add = (list: ScoredRef[], weight: (rank: number, s: ScoredRef) => number): void => {
    list.forEach((s, rank) => {
      const k = key(s);
      const cur = scores.get(k) ?? { ref: s, score: 0 };
      cur.score += weight(rank, s);
      scores.set(k, cur);
    });
  };
  if (mode === 'lexical' || mode === 'vector') {
    const list = mode === 'lexical' ? lexical : vector;
    const best = list[0]?.score ?? 1;
    add(list, (_, s) => s.score / (best || 1));
  } else if (mode === 'rrf') {
    const scale = (RRF_K + 1) / 2;
    add(lexical, (rank) => scale / (RRF_K + rank + 1));
    add(vector, (rank) => scale / (RRF_K + rank + 1));
  } else {
    const bestL = lexical[0]?.score || 1;
    const bestV = vector[0]?.score || 1;
    add(lexical, (_, s) => (0.5 * s.score) / bestL);
    add(vector, (_, s) => (0.5 * Math.max(0, s.score)) / bestV);
  }
  return [...scores.values()].sort((a, b) => b.score - a.score);
}
