/**
 * Search hits of one file that overlap or touch are shown as one hit spanning them (at most
 * SEARCH_MERGE_MAX_CHUNKS chunks, more would bury the match). One rule for every store that ranks
 * chunks: the local archival index and the shared store's overlay.
 */
import { SEARCH_MERGE_MAX_CHUNKS } from '../limits';

/** Where a chunk sits: enough to tell which chunks touch. */
export interface ChunkSpan {
  id: string;
  path: string;
  source: string;
  startLine: number;
  endLine: number;
}

/** One merged hit: the chunks it spans (first is the best-ranked), its lines and its best score. */
export interface MergedSpan<T> {
  items: T[];
  first: T;
  startLine: number;
  endLine: number;
  score: number;
}

/** Merges ranked chunks (best first) into hits, best first. `spanOf` says where each chunk sits. */
export function mergeAdjacent<T>(ranked: readonly { item: T; score: number }[], spanOf: (item: T) => ChunkSpan): MergedSpan<T>[] {
  const groups = new Map<string, MergedSpan<T>[]>();
  const order: MergedSpan<T>[] = [];
  for (const { item, score } of ranked) {
    const s = spanOf(item);
    // Remembered items and path-less chunks never merge: each stands alone.
    const key = s.path === '' || s.source === 'memory' ? `id:${s.id}` : `${s.source}:${s.path}`;
    const list = groups.get(key) ?? [];
    groups.set(key, list);
    const touching = list.find(
      (h) => h.items.length < SEARCH_MERGE_MAX_CHUNKS && s.startLine <= h.endLine + 1 && s.endLine >= h.startLine - 1,
    );
    if (touching) {
      touching.items.push(item);
      touching.startLine = Math.min(touching.startLine, s.startLine);
      touching.endLine = Math.max(touching.endLine, s.endLine);
      touching.score = Math.max(touching.score, score);
      continue;
    }
    const hit: MergedSpan<T> = { items: [item], first: item, startLine: s.startLine, endLine: s.endLine, score };
    list.push(hit);
    order.push(hit);
  }
  // A merge can make two earlier hits touch; one more pass joins them.
  for (const list of groups.values()) {
    list.sort((a, b) => a.startLine - b.startLine);
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!;
      const b = list[i]!;
      if (
        b.startLine <= a.endLine + 1 &&
        b.items.length > 0 &&
        a.items.length > 0 &&
        a.items.length + b.items.length <= SEARCH_MERGE_MAX_CHUNKS
      ) {
        a.items.push(...b.items);
        a.endLine = Math.max(a.endLine, b.endLine);
        a.score = Math.max(a.score, b.score);
        b.items = [];
        list[i] = a;
      }
    }
  }
  return order.filter((h) => h.items.length > 0).sort((a, b) => b.score - a.score);
}
