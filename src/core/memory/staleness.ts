/**
 * Stale memories: a remembered item that cites code (`src/a.ts:10-20` in its text, or the
 * provenance of "Remember Selection") keeps a fingerprint of the cited lines (one short hash per
 * line). When the file changes (a save, a change on disk), the range is checked again:
 *   - the same lines at the same place: fresh;
 *   - the same lines elsewhere in the file (code added above them): moved, with where they are now;
 *   - otherwise (or the file is gone): stale, until the lines come back or the memory is refreshed.
 * Search results carry a note saying so. Refreshing: storing a new memory that cites an
 * overlapping range of the same file replaces the stale one, which then leaves search results
 * (it stays in the memory log; the insert's result says what it replaced). A memory merged from
 * others keeps their citations as they were: merging does not refresh anything.
 *
 * Kept in one JSON file beside the rest of the workspace's memory (written atomically). Only the
 * fingerprints are kept, never the cited text.
 */
import { createHash } from 'node:crypto';
import { atomicWriteJson, CorruptFileError, readJsonFile, UnreadableFileError } from '../storage/atomicFile';
import { CITATION_MAX_LINES, CITATION_MAX_PER_MEMORY, CITATION_MAX_TRACKED_MEMORIES } from '../limits';
import { SerialQueue } from '../base/serialQueue';

export interface CitedRange {
  path: string;
  startLine: number;
  endLine: number;
}

export type CitationState = 'fresh' | 'moved' | 'stale';

interface TrackedCitation extends CitedRange {
  /** One short hash per cited line, at the time the memory was stored. */
  hashes: string[];
  state: CitationState;
  /** Where the lines are now, when moved. */
  now?: { startLine: number; endLine: number };
  /** Why stale: the lines changed, or the file is gone. */
  why?: 'changed' | 'deleted';
}

interface TrackedMemory {
  id: string;
  time: string;
  citations: TrackedCitation[];
  /** The memory that replaced this stale one (it no longer shows in search results). */
  replacedBy?: string;
}

interface CitationFile {
  version: 1;
  memories: TrackedMemory[];
}

/** The lines of a workspace file, or undefined when it cannot be read now (untrusted, refused); null when it does not exist. */
export type LineReader = (relPath: string) => Promise<string[] | null | undefined>;

export interface CitationTrackerOptions {
  file: string;
  read: LineReader;
  readOnly?: boolean;
  now?: () => Date;
  /** Told when the file was damaged and kept aside. */
  notice?: (message: string) => void;
}

/** What storing a memory did beyond storing it. */
export interface TrackResult {
  followed: CitedRange[];
  /** Stale memories this one replaces, with their citations. */
  replaced: { id: string; citation: CitedRange }[];
}

const CITATION = /(?<![\w/.-])`?((?:[\w.@-]+\/)*[\w.@-]*\.[A-Za-z0-9]+):(\d+)(?:-(\d+))?`?/g;

/** The `path:start-end` (or `path:line`) citations in a text, in order, without repeats. */
export function findCitations(text: string): CitedRange[] {
  const out: CitedRange[] = [];
  const seen = new Set<string>();
  for (const m of text.matchAll(CITATION)) {
    const startLine = Number(m[2]);
    const endLine = m[3] !== undefined ? Number(m[3]) : startLine;
    if (!(startLine >= 1) || endLine < startLine || endLine - startLine + 1 > CITATION_MAX_LINES) continue;
    const key = `${m[1]}:${startLine}-${endLine}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: m[1]!, startLine, endLine });
  }
  return out;
}

function lineHash(line: string): string {
  // Trailing spaces and line endings are not a change anyone means.
  return createHash('sha1').update(line.replace(/\s+$/, '')).digest('hex').slice(0, 12);
}

function validate(value: unknown): CitationFile {
  const o = value as Partial<CitationFile> | null;
  if (!o || typeof o !== 'object' || o.version !== 1 || !Array.isArray(o.memories))
    throw new Error('expected {"version": 1, "memories": [...]}');
  const memories = o.memories.filter(
    (m): m is TrackedMemory =>
      !!m &&
      typeof m.id === 'string' &&
      typeof m.time === 'string' &&
      Array.isArray(m.citations) &&
      m.citations.every(
        (c) => c && typeof c.path === 'string' && Number.isInteger(c.startLine) && Number.isInteger(c.endLine) && Array.isArray(c.hashes),
      ),
  );
  return { version: 1, memories };
}

export class CitationTracker {
  private readonly byId = new Map<string, TrackedMemory>();
  private readonly queue = new SerialQueue();
  private readonly now: () => Date;
  private closed = false;

  private constructor(private readonly options: CitationTrackerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  static async open(options: CitationTrackerOptions): Promise<CitationTracker> {
    const tracker = new CitationTracker(options);
    try {
      const file = await readJsonFile(options.file, validate, { readOnly: options.readOnly ?? false });
      for (const m of file?.memories ?? []) tracker.byId.set(m.id, m);
    } catch (error) {
      if (!(error instanceof CorruptFileError || error instanceof UnreadableFileError)) throw error;
      options.notice?.(
        `The record of which code remembered items cite (${options.file}) was damaged${error instanceof CorruptFileError ? ` and kept as ${error.keptAs}` : ''}; ` +
          'older remembered items are no longer checked for staleness. The items themselves are unharmed.',
      );
    }
    return tracker;
  }

  /** Memories followed now (for tests and the memory view). */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Starts following the citations of a memory just stored (its text, and the provenance of a
   * remembered selection). Stale memories citing an overlapping range of the same file are replaced.
   */
  track(memoryId: string, text: string, provenance?: Partial<CitedRange>): Promise<TrackResult> {
    return this.serial(async () => {
      const ranges = findCitations(text);
      if (provenance?.path && provenance.startLine !== undefined) {
        const p = { path: provenance.path, startLine: provenance.startLine, endLine: provenance.endLine ?? provenance.startLine };
        if (!ranges.some((r) => r.path === p.path && r.startLine === p.startLine && r.endLine === p.endLine)) ranges.unshift(p);
      }
      const citations: TrackedCitation[] = [];
      for (const range of ranges.slice(0, CITATION_MAX_PER_MEMORY)) {
        const lines = await this.options.read(range.path);
        if (!lines || range.endLine > lines.length) continue;
        citations.push({ ...range, hashes: lines.slice(range.startLine - 1, range.endLine).map(lineHash), state: 'fresh' });
      }
      const result: TrackResult = {
        followed: citations.map(({ path, startLine, endLine }) => ({ path, startLine, endLine })),
        replaced: [],
      };
      if (citations.length === 0) return result;
      for (const old of this.byId.values()) {
        if (old.replacedBy !== undefined) continue;
        const hit = old.citations.find((c) => c.state === 'stale' && citations.some((n) => overlaps(c, n)));
        if (!hit) continue;
        old.replacedBy = memoryId;
        result.replaced.push({ id: old.id, citation: { path: hit.path, startLine: hit.startLine, endLine: hit.endLine } });
      }
      this.byId.set(memoryId, { id: memoryId, time: this.now().toISOString(), citations });
      this.trim();
      await this.save();
      return result;
    });
  }

  /**
   * A memory just stored as the merge of others (reflection): it follows their citations as they
   * were, not as the code reads today. Fingerprinting the merged text afresh would clear an item
   * whose cited code had already changed: its old fingerprint is kept instead, so the merge stays
   * stale until those lines come back (and a moved one stays moved). The merged items are not
   * counted as refreshed by it, so an undo brings them back as they were; another stale item stays
   * replaced only where a citation of the merge matches today's code.
   */
  carryOver(mergedId: string, fromIds: readonly string[]): Promise<void> {
    return this.serial(async () => {
      const sources = fromIds
        .map((id) => this.byId.get(id))
        .filter((m): m is TrackedMemory => m !== undefined)
        // Oldest first: where two items cite the same lines, the newer fingerprint wins.
        .sort((a, b) => a.time.localeCompare(b.time));
      if (sources.length === 0) return;
      const merged = this.byId.get(mergedId) ?? { id: mergedId, time: this.now().toISOString(), citations: [] };
      const byRange = new Map(merged.citations.map((c) => [rangeKey(c), c]));
      for (const source of sources) for (const c of source.citations) byRange.set(rangeKey(c), copyCitation(c));
      const all = [...byRange.values()];
      // Over the cap, the citations that already say something (stale, moved) are the ones kept.
      merged.citations =
        all.length <= CITATION_MAX_PER_MEMORY
          ? all
          : [...all.filter((c) => c.state !== 'fresh'), ...all.filter((c) => c.state === 'fresh')].slice(0, CITATION_MAX_PER_MEMORY);
      this.byId.set(mergedId, merged);
      const current = merged.citations.filter((c) => c.state === 'fresh');
      for (const m of this.byId.values()) {
        if (m.replacedBy !== mergedId) continue;
        const refreshed = m.citations.some((c) => c.state === 'stale' && current.some((n) => overlaps(c, n)));
        if (fromIds.includes(m.id) || !refreshed) delete m.replacedBy;
      }
      this.trim();
      await this.save();
    });
  }

  /** A workspace file changed (saved, changed on disk, deleted): its cited ranges are checked again. Returns the memories whose state changed. */
  fileChanged(relPath: string): Promise<string[]> {
    return this.serial(async () => {
      const affected = [...this.byId.values()].filter((m) => m.replacedBy === undefined && m.citations.some((c) => c.path === relPath));
      if (affected.length === 0) return [];
      const lines = await this.options.read(relPath);
      if (lines === undefined) return [];
      const changed: string[] = [];
      for (const m of affected) {
        let any = false;
        for (const c of m.citations) if (c.path === relPath && recheck(c, lines)) any = true;
        if (any) changed.push(m.id);
      }
      if (changed.length > 0) await this.save();
      return changed;
    });
  }

  /** Checks every followed file once (a window opening: files may have changed while it was closed). */
  async verifyAll(): Promise<string[]> {
    const paths = new Set<string>();
    for (const m of this.byId.values()) if (m.replacedBy === undefined) for (const c of m.citations) paths.add(c.path);
    const changed: string[] = [];
    for (const p of paths) changed.push(...(await this.fileChanged(p)));
    return changed;
  }

  /** Stops checking and writing (the storage is closing) once the work under way has finished. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.idle();
  }

  /** True once a newer memory replaced this stale one: it leaves search results. */
  isReplaced(memoryId: string): boolean {
    return this.byId.get(memoryId)?.replacedBy !== undefined;
  }

  /** The note search results show after a memory whose cited code changed or moved, else undefined. */
  noteFor(memoryId: string): string | undefined {
    const m = this.byId.get(memoryId);
    if (!m || m.replacedBy !== undefined) return undefined;
    const notes: string[] = [];
    for (const c of m.citations) {
      const cite = rangeKey(c);
      if (c.state === 'stale') {
        const what = c.why === 'deleted' ? `${c.path} was deleted` : `lines ${c.startLine}-${c.endLine} of ${c.path} changed`;
        notes.push(
          `stale: ${what} since this was remembered; to refresh it, read the code and store the corrected note with archival_memory_insert citing ${cite} (it replaces this one)`,
        );
      } else if (c.state === 'moved' && c.now) {
        notes.push(`moved: the lines it cites as ${cite} are unchanged, now at ${c.path}:${c.now.startLine}-${c.now.endLine}`);
      }
    }
    return notes.length > 0 ? notes.join('; ') : undefined;
  }

  /** The state of each citation of a memory (tests, views). */
  citationsOf(memoryId: string): { range: CitedRange; state: CitationState; now?: { startLine: number; endLine: number } }[] {
    return (this.byId.get(memoryId)?.citations ?? []).map((c) => ({
      range: { path: c.path, startLine: c.startLine, endLine: c.endLine },
      state: c.state,
      ...(c.now ? { now: c.now } : {}),
    }));
  }

  /** Follows a rename: citations of the old path now name the new one. */
  renamed(oldPath: string, newPath: string): Promise<void> {
    return this.serial(async () => {
      let any = false;
      for (const m of this.byId.values()) {
        for (const c of m.citations) {
          if (c.path !== oldPath) continue;
          c.path = newPath;
          any = true;
        }
      }
      if (any) await this.save();
    });
  }

  private trim(): void {
    const over = this.byId.size - CITATION_MAX_TRACKED_MEMORIES;
    if (over <= 0) return;
    const oldest = [...this.byId.values()].sort((a, b) => a.time.localeCompare(b.time)).slice(0, over);
    for (const m of oldest) this.byId.delete(m.id);
  }

  private async save(): Promise<void> {
    if (this.options.readOnly) return;
    await atomicWriteJson(this.options.file, { version: 1, memories: [...this.byId.values()] } satisfies CitationFile);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('The memory of this workspace was closed.'));
    return this.queue.run(work);
  }
}

function rangeKey(c: CitedRange): string {
  return `${c.path}:${c.startLine}-${c.endLine}`;
}

function copyCitation(c: TrackedCitation): TrackedCitation {
  return { ...c, hashes: [...c.hashes], ...(c.now ? { now: { ...c.now } } : {}) };
}

function overlaps(a: CitedRange, b: CitedRange): boolean {
  return a.path === b.path && a.startLine <= b.endLine && b.startLine <= a.endLine;
}

/** Checks one citation against the file's lines now (null: the file is gone); true when its state changed. */
function recheck(c: TrackedCitation, lines: string[] | null): boolean {
  const before = JSON.stringify([c.state, c.now, c.why]);
  delete c.now;
  delete c.why;
  if (lines === null) {
    c.state = 'stale';
    c.why = 'deleted';
  } else {
    const hashes = lines.map(lineHash);
    const n = c.hashes.length;
    const at = (i: number) => i >= 0 && i + n <= hashes.length && c.hashes.every((h, k) => hashes[i + k] === h);
    if (at(c.startLine - 1)) c.state = 'fresh';
    else {
      // The nearest place the same lines are found: code added or removed above them moved them.
      let best = -1;
      for (let i = 0; i + n <= hashes.length; i++) {
        if (at(i) && (best < 0 || Math.abs(i - (c.startLine - 1)) < Math.abs(best - (c.startLine - 1)))) best = i;
      }
      if (best >= 0) {
        c.state = 'moved';
        c.now = { startLine: best + 1, endLine: best + n };
      } else {
        c.state = 'stale';
        c.why = 'changed';
      }
    }
  }
  return JSON.stringify([c.state, c.now, c.why]) !== before;
}
