/**
 * Ranking for the shared PostgreSQL store and the overlay: the same reciprocal-rank fusion, named-symbol boost, prose discount,
 * merging of adjacent chunks and page cut as the local ArchivalIndex, over plain candidate rows
 * (the local index works on its own chunk references). The constants come from limits.ts, so
 * both stores rank alike by construction.
 */
import type { ArchivalHit, ArchivalSearchResult, ArchivalSource } from '../interfaces/archivalStore';
import { mergeAdjacent, type MergedSpan } from '../index/hitMerge';
import { PROSE_SCORE_FACTOR, RRF_K, SEARCH_HIT_MAX_CHARS, SEARCH_MAX_RESULTS, SEARCH_PAGE_SIZE, SYMBOL_QUERY_BOOST } from '../limits';

const PROSE_LANGUAGES: ReadonlySet<string> = new Set(['markdown', 'mdx', 'plaintext', 'restructuredtext']);

/** One chunk as a retriever returns it, with that retriever's score. */
export interface Candidate {
  id: string;
  source: ArchivalSource;
  path: string;
  startLine: number;
  endLine: number;
  language: string;
  text: string;
  time?: string;
  /** The names the chunk defines (and its scope), space-separated, when known. */
  symbols?: string;
  score: number;
}

interface Fused {
  c: Candidate;
  score: number;
}

/**
 * RRF over ranked lists, scaled so a chunk first in two lists scores 1 (as the local store). A
 * chunk that defines a name the query spells as an identifier (`named`, codeTokens.ts
 * identifierWordsOf) is raised as the local store raises it.
 */
export function rrfFuse(lists: readonly (readonly Candidate[])[], named: ReadonlySet<string> = new Set()): Fused[] {
  const scale = (RRF_K + 1) / 2;
  const byId = new Map<string, Fused>();
  for (const list of lists) {
    list.forEach((c, rank) => {
      const cur = byId.get(c.id) ?? { c, score: 0 };
      cur.score += scale / (RRF_K + rank + 1);
      byId.set(c.id, cur);
    });
  }
  for (const f of byId.values()) {
    if (named.size > 0 && f.c.symbols && f.c.symbols.split(' ').some((n) => named.has(n))) f.score *= SYMBOL_QUERY_BOOST;
    if (PROSE_LANGUAGES.has(f.c.language)) f.score *= PROSE_SCORE_FACTOR;
  }
  return [...byId.values()].sort((a, b) => b.score - a.score);
}

/**
 * One ranked list from two of the same retriever (shared and local), best `k` kept. With
 * `normalize`, scores are divided by their own list's best first: BM25 scores of the publish and
 * of the local index come from different document frequencies (and older publishes rank by
 * PostgreSQL's ts_rank), cosine similarities are on one scale.
 */
export function mergeRanked(a: readonly Candidate[], b: readonly Candidate[], k: number, normalize: boolean): Candidate[] {
  const scaled = (list: readonly Candidate[]): Candidate[] => {
    if (!normalize) return [...list];
    const best = list[0]?.score || 1;
    return list.map((c) => ({ ...c, score: c.score / best }));
  };
  return [...scaled(a), ...scaled(b)].sort((x, y) => y.score - x.score).slice(0, k);
}

type Merged = MergedSpan<Candidate>;

/** Overlapping or adjacent chunks of one file become one hit spanning them (as the local store). */
function merge(fused: readonly Fused[]): Merged[] {
  return mergeAdjacent(
    fused.map(({ c, score }) => ({ item: c, score })),
    (c) => c,
  );
}

function toHit(m: Merged): ArchivalHit {
  const parts = [...m.items].sort((a, b) => a.startLine - b.startLine);
  let text = parts[0]!.text;
  let end = parts[0]!.endLine;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.endLine <= end) continue;
    text +=
      '\n' +
      p.text
        .split('\n')
        .slice(Math.max(0, end - p.startLine + 1))
        .join('\n');
    end = p.endLine;
  }
  if (text.length > SEARCH_HIT_MAX_CHARS) {
    text = `${text.slice(0, SEARCH_HIT_MAX_CHARS)}\n[… ${text.length - SEARCH_HIT_MAX_CHARS} more characters; read the file for the rest]`;
  }
  const r = m.first;
  const hit: ArchivalHit = { id: r.id, source: r.source, text, score: Math.round(m.score * 1000) / 1000 };
  if (r.path !== '') hit.path = r.path;
  if (m.startLine > 0) {
    hit.startLine = m.startLine;
    hit.endLine = m.endLine;
  }
  if (r.source === 'memory' && r.time) hit.time = r.time;
  return hit;
}

/** Fused candidates as one page of search results. */
export function pageOfHits(fused: readonly Fused[], options: { page?: number; pageSize?: number }): ArchivalSearchResult {
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? SEARCH_PAGE_SIZE));
  const page = Math.max(0, Math.floor(options.page ?? 0));
  const merged = merge(fused).slice(0, SEARCH_MAX_RESULTS);
  const total = merged.length;
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  const hits = merged.slice(page * pageSize, (page + 1) * pageSize).map(toHit);
  return { hits, total, page, pageCount };
}
