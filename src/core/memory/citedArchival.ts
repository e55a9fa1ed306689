/**
 * Archival memory with its citations followed (staleness.ts): storing a memory starts following
 * the code it cites, and search results of memories whose cited code changed carry a note; stale
 * memories replaced by a newer one leave the results. Everything else passes through unchanged.
 */
import type {
  ArchivalSearchOptions,
  ArchivalSearchResult,
  ArchivalSource,
  ArchivalStore,
  RememberedItem,
} from '../interfaces/archivalStore';
import type { SymbolLookup } from '../interfaces/symbols';
import type { CitationTracker } from './staleness';

export class CitedArchival implements ArchivalStore {
  private readonly notices = new Map<string, string>();

  constructor(
    private readonly inner: ArchivalStore,
    private readonly tracker: CitationTracker,
  ) {}

  get symbols(): SymbolLookup | undefined {
    return this.inner.symbols;
  }

  async insertMemory(
    text: string,
    provenance?: { path?: string; startLine?: number; endLine?: number; agentId?: string },
  ): Promise<string> {
    const id = await this.inner.insertMemory(text, provenance);
    const tracked = await this.tracker.track(id, text, provenance);
    if (tracked.replaced.length > 0) {
      const list = tracked.replaced
        .map((r) => `${r.id} (citing ${r.citation.path}:${r.citation.startLine}-${r.citation.endLine})`)
        .join(', ');
      const one = tracked.replaced.length === 1;
      this.notices.set(
        id,
        `It replaces ${tracked.replaced.length} stale memor${one ? 'y' : 'ies'}: ${list}, which no longer show${one ? 's' : ''} in search results.`,
      );
    }
    return id;
  }

  insertNotice(id: string): string | undefined {
    const notice = this.notices.get(id);
    this.notices.delete(id);
    return notice;
  }

  async search(query: string, options?: ArchivalSearchOptions): Promise<ArchivalSearchResult> {
    const result = await this.inner.search(query, options);
    const hits = result.hits
      .filter((h) => h.source !== 'memory' || !this.tracker.isReplaced(h.id))
      .map((h) => {
        const note = h.source === 'memory' ? this.tracker.noteFor(h.id) : undefined;
        return note ? { ...h, note } : h;
      });
    return { ...result, hits };
  }

  count(source?: ArchivalSource, agentId?: string): number {
    return this.inner.count(source, agentId);
  }

  // Which agent owns an item is the inner store's business: export, import and migration pass through.
  memoriesOf(agentId: string): RememberedItem[] {
    return this.inner.memoriesOf?.(agentId) ?? [];
  }

  importMemories(items: readonly RememberedItem[], agentId: string): Promise<number> {
    if (!this.inner.importMemories) return Promise.reject(new Error('This archival memory cannot import remembered items.'));
    return this.inner.importMemories(items, agentId);
  }

  claimUnowned(agentId: string): Promise<number> {
    return this.inner.claimUnowned?.(agentId) ?? Promise.resolve(0);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
