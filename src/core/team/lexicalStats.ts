/**
 * The shared store's lexical half ranks like the local store: BM25 over the same BM25F term
 * counts (lexical.ts countChunkTerms: path, names and comments weighted, identifiers split), with
 * the same constants and the same query terms (question phrasing dropped). PostgreSQL's ts_rank
 * has no inverse document frequency, so a word in every chunk counted as much as a rare name;
 * here each publish carries what BM25 needs, computed while it is staged: postings (term, chunk,
 * weighted count, chunk length) in a table of its own, read through an index on the term as the
 * local store reads its posting lists, every term's document frequency, and the total length.
 */
import { queryTerms } from '../index/codeTokens';
import { BM25_B, BM25_K1, countChunkTerms, TermDictionary, type ChunkFields } from '../index/lexical';
import { TEAM_QUERY_MAX_TERMS } from '../limits';

/** Postings of a batch of chunks, column by column (one INSERT of unnest arrays). */
export interface PostingRows {
  terms: string[];
  /** The chunk's number within the publish. */
  chunks: number[];
  /** Weighted term counts (BM25F). */
  tfs: number[];
  /** The chunk's length in terms, repeated on each of its postings so scoring reads no other table. */
  lengths: number[];
}

/** Document frequencies and total length of a publish, gathered chunk by chunk while it is staged. */
export class PublishLexicalStats {
  private readonly dict = new TermDictionary();
  private readonly df = new Map<number, number>();
  totalLength = 0;
  chunks = 0;

  /** Counts chunk number `chunk` into the statistics and appends its postings to `out`. */
  add(chunk: number, fields: ChunkFields, out: PostingRows): void {
    const { counts, length } = countChunkTerms(fields, this.dict);
    for (const [id, tf] of counts) {
      this.df.set(id, (this.df.get(id) ?? 0) + 1);
      out.terms.push(this.dict.terms[id]!);
      out.chunks.push(chunk);
      out.tfs.push(tf);
      out.lengths.push(length);
    }
    this.totalLength += length;
    this.chunks++;
  }

  /** Every term with its document frequency. */
  *terms(): Iterable<[string, number]> {
    for (const [id, df] of this.df) yield [this.dict.terms[id]!, df];
  }
}

/**
 * The terms a query is scored on: the local store's query terms (phrasing words such as "where
 * is" dropped), each once, at most TEAM_QUERY_MAX_TERMS of them so a pasted stack trace stays a
 * bounded query.
 */
export function bm25QueryTerms(query: string): string[] {
  return [...new Set(queryTerms(query))].slice(0, TEAM_QUERY_MAX_TERMS);
}

/** The postings table of a publish, named after its chunk table (which is checked before use). */
export function postingsTableOf(chunkTable: string): string {
  return chunkTable.replace(/^memgpt_chunks_/, 'memgpt_postings_');
}

/**
 * A posting's impact, its share of its term's BM25 weight: tf / (tf + k1 · (1 − b + b · len / avgdl)),
 * as SQL over the postings table's columns (`prefix` names the table in a query). The publisher
 * indexes this expression per term, highest first, once the publish's total length is known; the
 * store orders by it to read a term's best postings first. PostgreSQL uses an index on an
 * expression only for the same expression, constants included, so both build it here from the
 * same two numbers of the publish.
 */
export function impactSql(totalLength: number, chunks: number, prefix = ''): string {
  const avgdl = Math.max(1, totalLength / Math.max(1, chunks));
  const lengthFree = BM25_K1 * (1 - BM25_B);
  const perLength = (BM25_K1 * BM25_B) / avgdl;
  if (!Number.isFinite(perLength)) throw new Error(`The publish's length statistics are not numbers (${totalLength}, ${chunks}).`);
  const tf = `${prefix}tf::float8`;
  return `(${tf} / (${tf} + ${lengthFree}::float8 + ${perLength}::float8 * ${prefix}len))`;
}

/** The index a publish's postings are read through highest impact first (absent on publishes made before it). */
export function impactIndexOf(chunkTable: string): string {
  return `${postingsTableOf(chunkTable)}_impact`;
}
