/**
 * The shared store's lexical half ranks like the local store: BM25 over the same BM25F term
 * counts (lexical.ts countChunkTerms: path, names and comments weighted, identifiers split), with
 * the same constants and the same query terms (question phrasing dropped). PostgreSQL's ts_rank
 * has no inverse document frequency, so a word in every chunk counted as much as a rare name;
 * here each publish carries what BM25 needs, computed while it is staged: every chunk's weighted
 * term counts and length, every term's document frequency, and the total length.
 */
import { queryTerms } from '../index/codeTokens';
import { countChunkTerms, TermDictionary, type ChunkFields } from '../index/lexical';
import { TEAM_QUERY_MAX_TERMS } from '../limits';

/** What a chunk's row holds for BM25: its weighted term counts (JSON object) and its length in terms. */
export interface ChunkLexicalRow {
  /** `{"term": weighted count, …}`, stored as jsonb and read per query term. */
  counts: string;
  /** The distinct terms, space-separated: a tsvector literal for the full-text index that finds candidates. */
  terms: string;
  length: number;
}

/** Document frequencies and total length of a publish, gathered chunk by chunk while it is staged. */
export class PublishLexicalStats {
  private readonly dict = new TermDictionary();
  private readonly df = new Map<number, number>();
  totalLength = 0;
  chunks = 0;

  /** Counts one chunk into the statistics and returns what its row stores. */
  add(fields: ChunkFields): ChunkLexicalRow {
    const { counts, length } = countChunkTerms(fields, this.dict);
    const entries: [string, number][] = [];
    for (const [id, tf] of counts) {
      this.df.set(id, (this.df.get(id) ?? 0) + 1);
      entries.push([this.dict.terms[id]!, tf]);
    }
    this.totalLength += length;
    this.chunks++;
    return {
      counts: JSON.stringify(Object.fromEntries(entries)),
      terms: entries.map(([t]) => t).join(' '),
      length,
    };
  }

  /** Every term with its document frequency. */
  *terms(): Iterable<[string, number]> {
    for (const [id, df] of this.df) yield [this.dict.terms[id]!, df];
  }
}

/**
 * The terms a query is scored on: the local store's query terms (phrasing words such as "where
 * is" dropped), each once, at most TEAM_QUERY_MAX_TERMS of them so a pasted stack trace stays a
 * bounded query. Terms are letters and digits only (codeTokens splits at everything else), so
 * they are safe inside a tsquery literal; anything else is left out rather than trusted.
 */
export function bm25QueryTerms(query: string): string[] {
  return [...new Set(queryTerms(query))].filter((t) => /^[\p{L}\p{N}]+$/u.test(t)).slice(0, TEAM_QUERY_MAX_TERMS);
}

/** The terms as an OR tsquery literal (lexemes as they are, no parser in between). */
export function orTsQuery(terms: readonly string[]): string {
  return terms.map((t) => `'${t}'`).join(' | ');
}
