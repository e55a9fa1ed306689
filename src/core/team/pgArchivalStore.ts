/**
 * Archival search over a published index on PostgreSQL + pgvector: BM25 over the publish's own
 * postings and term statistics (the lexical half; see lexicalStats.ts; publishes made before
 * them rank by ts_rank over their tsvector column) and HNSW nearest neighbours (the vector half),
 * fused like the local store.
 * It reads one live publish of (repository id, commit, embedder); memories are personal and
 * stay in the local store, so inserting here is refused.
 */
import type { Client, ClientBase } from 'pg';
import picomatch from 'picomatch';
import type { Embedder } from '../interfaces/embedder';
import type { ArchivalSearchOptions, ArchivalSearchResult, ArchivalSource, ArchivalStore } from '../interfaces/archivalStore';
import { identifierWordsOf, searchTerms } from '../index/codeTokens';
import { BM25_K1, bm25Idf } from '../index/lexical';
import {
  SEARCH_CANDIDATES_PER_RETRIEVER,
  TEAM_GLOB_OVERFETCH,
  TEAM_HNSW_EF_SEARCH,
  TEAM_IMPACT_FIRST_READ,
  TEAM_IMPACT_READ_GROWTH,
  TEAM_PROBE_COST,
  TEAM_QUERY_MAX_TERMS,
} from '../limits';
import { connectTeamStore, teamErrorFrom, type TeamConnection } from './connection';
import { pageOfHits, rrfFuse, type Candidate } from './fusion';
import { BM25_SCHEMA_VERSION, checkSchema, SCHEMA_VERSION, SYMBOLS_SCHEMA_VERSION } from './schema';
import { bm25QueryTerms, impactIndexOf, impactSql, postingsTableOf } from './lexicalStats';
import { decodeFileSymbols, type FileSymbols } from '../index/symbolIndex';
import { TeamStoreError } from './teamError';
import { vectorLiteral } from './vectorSql';

export interface PublishInfo {
  id: number;
  repoId: string;
  commit: string;
  embedderId: string;
  dimensions: number;
  chunkTable: string;
  chunks: number;
  files: number;
  publishedAt: string;
  /** Total BM25 length of its chunks; null for a publish made before BM25 statistics (ranked by ts_rank). */
  lexicalLength: number | null;
}

interface PublishRow {
  id: string;
  repo_id: string;
  commit_sha: string;
  embedder_id: string;
  dimensions: number;
  chunk_table: string;
  chunks: number;
  files: number;
  published_at: Date | string | null;
  lexical_length?: string | null;
}

interface ChunkRow {
  chunk_id: string;
  path: string;
  start_line: number;
  end_line: number;
  language: string;
  text: string;
  symbols: string | null;
  score: number;
}

const CHUNK_TABLE = /^memgpt_chunks_\d+$/;
const CHUNK_COLUMNS = 'c.chunk_id, c.path, c.start_line, c.end_line, c.language, c.text';

function toInfo(r: PublishRow): PublishInfo {
  // The table name is interpolated into SQL: it must be one we create, nothing else.
  if (!CHUNK_TABLE.test(r.chunk_table))
    throw new TeamStoreError('server_error', `The publish ${r.id} names an unexpected chunk table; refusing to read it.`);
  return {
    id: Number(r.id),
    repoId: r.repo_id,
    commit: r.commit_sha,
    embedderId: r.embedder_id,
    dimensions: Number(r.dimensions),
    chunkTable: r.chunk_table,
    chunks: Number(r.chunks),
    files: Number(r.files),
    publishedAt: r.published_at instanceof Date ? r.published_at.toISOString() : String(r.published_at ?? ''),
    lexicalLength: r.lexical_length === null || r.lexical_length === undefined ? null : Number(r.lexical_length),
  };
}

/** For publishes made before BM25 statistics: the query's code-aware terms as an OR tsquery for ts_rank. */
export function tsQueryOf(query: string): string {
  const terms = [...new Set(searchTerms(query).filter((t) => /^[\p{L}\p{N}]+$/u.test(t)))];
  return terms.slice(0, TEAM_QUERY_MAX_TERMS).join(' | ');
}

export interface CandidateQuery {
  query: string;
  /** The query's embedding (same embedder as the publish); absent: lexical only. */
  vector?: Float32Array;
  k: number;
  /** Paths whose shared chunks must not come back (changed or deleted locally). */
  excludePaths?: readonly string[];
  pathGlob?: string;
}

export interface PgArchivalStoreOptions {
  connection: TeamConnection;
  repoId: string;
  /** The commit wanted (usually the local HEAD); the newest publish of the repository otherwise. */
  commit?: string;
  embedder: Embedder;
  connectTimeoutMs?: number;
  queryTimeoutMs?: number;
  /** Postings per term the lexical half reads first (TEAM_IMPACT_FIRST_READ; smaller in tests, to make it read again). */
  impactFirstRead?: number;
  /** TEAM_PROBE_COST; 0 in tests whose tiny corpus would otherwise always be read whole. */
  probeCost?: number;
}

/** How the last lexical query was answered: for the bench and the tests, which check the pruned path ran. */
export interface LexicalTrace {
  method: 'impact' | 'all-postings' | 'ts_rank';
  /** Queries sent: each impact round reads TEAM_IMPACT_READ_GROWTH times more postings per term. */
  rounds: number;
}

export class PgArchivalStore implements ArchivalStore {
  /** The chunk columns a query returns. */
  private readonly columns: string;

  private constructor(
    private readonly client: Client,
    readonly connection: TeamConnection,
    readonly publish: PublishInfo,
    private readonly embedder: Embedder,
    /** True when the publish is of the exact commit asked for. */
    readonly exactCommit: boolean,
    /** The schema version found (publishes before version 2 carry no symbols). */
    private readonly schema: number,
    /** Whether the publish's postings are indexed by impact (publishes made before that are read whole). */
    private readonly impactIndex: boolean,
    private readonly impactFirstRead: number,
    private readonly probeCost: number,
    /** Whether its chunks carry the names they define (publishes made before that do not). */
    hasSymbols: boolean,
  ) {
    this.columns = `${CHUNK_COLUMNS}, ${hasSymbols ? 'c.symbols' : 'NULL::text AS symbols'}`;
  }

  lastLexical: LexicalTrace | null = null;

  static async open(options: PgArchivalStoreOptions): Promise<PgArchivalStore> {
    const { connection, embedder } = options;
    const client = await connectTeamStore(connection, {
      connectTimeoutMs: options.connectTimeoutMs,
      queryTimeoutMs: options.queryTimeoutMs,
    });
    try {
      const schema = await checkSchema(client, connection.display);
      const publish = await findPublish(client, connection, options.repoId, options.commit, embedder, schema);
      // A wider search list than pgvector's 40, so the graph walk returns a full list of candidates.
      await client.query(`SET hnsw.ef_search = ${TEAM_HNSW_EF_SEARCH}`).catch(() => undefined);
      // What this publish was made with: older publishers wrote no impact index and no chunk names.
      const made = (
        await client.query<{ impact: boolean; symbols: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = $1) AS impact,
             EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = $2 AND column_name = 'symbols') AS symbols`,
          [impactIndexOf(publish.chunkTable), publish.chunkTable],
        )
      ).rows[0]!;
      return new PgArchivalStore(
        client,
        connection,
        publish,
        embedder,
        options.commit === undefined || publish.commit === options.commit,
        schema,
        publish.lexicalLength !== null && made.impact,
        Math.max(1, Math.floor(options.impactFirstRead ?? TEAM_IMPACT_FIRST_READ)),
        Math.max(0, options.probeCost ?? TEAM_PROBE_COST),
        made.symbols,
      );
    } catch (err) {
      await client.end().catch(() => undefined);
      throw teamErrorFrom(err, connection);
    }
  }

  /** Content hash of every file of the publish (what the overlay compares local files with). */
  async files(): Promise<Map<string, string>> {
    const r = await this.run<{ path: string; file_hash: string }>(
      'SELECT path, file_hash FROM memgpt_published_files WHERE publish_id = $1',
      [this.publish.id],
    );
    return new Map(r.map((row) => [row.path, row.file_hash]));
  }

  /**
   * Code symbols of the publish's files (find_symbol, file_outline for files not indexed here).
   * A row that does not parse is left out and counted, never trusted.
   */
  async publishedSymbols(): Promise<{ files: Map<string, FileSymbols>; damaged: number }> {
    const files = new Map<string, FileSymbols>();
    if (this.schema < SYMBOLS_SCHEMA_VERSION) return { files, damaged: 0 };
    const rows = await this.run<{ path: string; file_hash: string; defs: unknown; refs: unknown }>(
      'SELECT path, file_hash, defs, refs FROM memgpt_published_symbols WHERE publish_id = $1',
      [this.publish.id],
    );
    let damaged = 0;
    for (const r of rows) {
      try {
        files.set(r.path, decodeFileSymbols(r.path, r.file_hash, r.defs, r.refs));
      } catch {
        damaged++;
      }
    }
    return { files, damaged };
  }

  /** The two ranked candidate lists (full-text, nearest vectors), best first. */
  async candidates(q: CandidateQuery): Promise<{ lexical: Candidate[]; vector: Candidate[] }> {
    const table = this.publish.chunkTable;
    const glob = q.pathGlob && q.pathGlob.trim() !== '' ? picomatch(q.pathGlob.trim(), { dot: true }) : undefined;
    const limit = glob ? q.k * TEAM_GLOB_OVERFETCH : q.k;
    const exclude = [...(q.excludePaths ?? [])];
    const lexical = await this.lexicalRows(q.query, exclude, limit);
    // No WHERE here: a filter next to ORDER BY <=> can make the planner scan the whole table
    // instead of walking the HNSW graph; excluded paths are dropped from an over-fetched list.
    const excluded = new Set(exclude);
    const vector = q.vector
      ? (
          await this.run<ChunkRow>(
            `SELECT ${this.columns}, 1 - (c.embedding <=> $1::vector) AS score FROM ${table} c ORDER BY c.embedding <=> $1::vector LIMIT $2`,
            [await vectorLiteral(q.vector), limit + (excluded.size > 0 ? q.k : 0)],
          )
        ).filter((r) => !excluded.has(r.path))
      : [];
    const toCandidates = (rows: ChunkRow[]): Candidate[] =>
      rows
        .filter((r) => !glob || glob(r.path))
        .slice(0, q.k)
        .map((r) => ({
          id: r.chunk_id,
          source: 'workspace',
          path: r.path,
          startLine: r.start_line,
          endLine: r.end_line,
          language: r.language,
          text: r.text,
          ...(r.symbols ? { symbols: r.symbols } : {}),
          score: Number(r.score),
        }));
    return { lexical: toCandidates(lexical), vector: toCandidates(vector) };
  }

  /**
   * The lexical half: BM25 as the local store computes it (lexical.ts lexicalSearch), over this
   * publish's statistics; only the best `limit` chunks carry their text back.
   */
  private async lexicalRows(query: string, exclude: readonly string[], limit: number): Promise<ChunkRow[]> {
    const table = this.publish.chunkTable;
    const { lexicalLength, chunks } = this.publish;
    if (lexicalLength === null) {
      const tsq = tsQueryOf(query);
      if (!tsq) return [];
      this.lastLexical = { method: 'ts_rank', rounds: 1 };
      return this.run<ChunkRow>(
        `SELECT ${this.columns}, ts_rank(c.tsv, q, 1) AS score FROM ${table} c, to_tsquery('simple', $1) q
         WHERE c.tsv @@ q AND NOT (c.path = ANY($2::text[])) ORDER BY score DESC, c.chunk_id LIMIT $3`,
        [tsq, exclude, limit],
      );
    }
    if (chunks === 0) return [];
    const asked = bm25QueryTerms(query);
    if (asked.length === 0) return [];
    // Document frequencies of the query's terms in this publish; a term it lacks scores nothing.
    const df = new Map(
      (
        await this.run<{ term: string; df: number }>(
          'SELECT term, df FROM memgpt_published_terms WHERE publish_id = $1 AND term = ANY($2::text[])',
          [this.publish.id, asked],
        )
      ).map((r) => [r.term, Number(r.df)]),
    );
    const terms = asked.filter((t) => df.has(t));
    if (terms.length === 0) return [];
    // Per posting: idf · (k1 + 1) · impact, summed per chunk, as lexical.ts lexicalSearch computes it
    // over its posting lists (weights from the same bm25Idf).
    const weights = terms.map((t) => bm25Idf(chunks, df.get(t)!) * (BM25_K1 + 1));
    const impact = impactSql(lexicalLength, chunks, 'p.');
    const postings = postingsTableOf(table);
    const longest = Math.max(...terms.map((t) => df.get(t)!));
    const postingsOfTerms = terms.reduce((sum, t) => sum + df.get(t)!, 0);
    let read = this.impactIndex ? this.impactFirstRead : longest;
    for (let round = 1; ; round++) {
      // A round probes each candidate once per term, and there are up to `read` candidates per
      // term: once that costs as much as reading every posting of the terms, read those instead.
      if (read >= longest || read * terms.length * terms.length * this.probeCost >= postingsOfTerms) {
        // Every posting of every term: exact by construction.
        this.lastLexical = { method: 'all-postings', rounds: round };
        return this.run<ChunkRow>(
          `WITH hidden AS (SELECT ord FROM ${table} WHERE path = ANY($3::text[])),
           best AS (
             SELECT p.ord, sum(q.w * ${impact}) AS score
             FROM unnest($1::text[], $2::float8[]) AS q(term, w) JOIN ${postings} p ON p.term = q.term
             WHERE p.ord NOT IN (SELECT ord FROM hidden)
             GROUP BY p.ord ORDER BY score DESC, p.ord LIMIT $4
           )
           SELECT ${this.columns}, best.score FROM best JOIN ${table} c ON c.ord = best.ord ORDER BY best.score DESC, best.ord`,
          [terms, weights, exclude, limit],
        );
      }
      // The `read` highest-impact postings of each term name the candidates, scored in full (every
      // query term's posting of that chunk). A chunk outside them has, for each term, no posting or
      // one no higher than the last read, so it scores at most `bound`: when the last chunk kept
      // scores above that, nothing unread can displace or tie it, and the answer is exact.
      // Each term's read is its own subquery with the term as a value of its own, so the planner
      // sees that term's statistics and walks the impact index from the top rather than sorting a
      // long list; each candidate is scored through the (term, chunk) index, one probe per term.
      const firstTermParam = 6;
      const top = terms
        .map(
          (_, i) =>
            `(SELECT $${firstTermParam + i}::text AS term, p.ord, ${impact} AS impact FROM ${postings} p
              WHERE p.term = $${firstTermParam + i} ORDER BY ${impact} DESC LIMIT $4)`,
        )
        .join(' UNION ALL ');
      const rows = await this.run<ChunkRow & { bound: number }>(
        `WITH q AS (SELECT * FROM unnest($1::text[], $2::float8[]) AS q(term, w)),
         hidden AS (SELECT ord FROM ${table} WHERE path = ANY($3::text[])),
         top AS (${top}),
         bound AS (
           SELECT coalesce(sum(q.w * b.impact), 0) AS bound
           FROM q JOIN (SELECT term, min(impact) AS impact, count(*) AS n FROM top GROUP BY term) b ON b.term = q.term
           WHERE b.n >= $4
         ),
         cand AS (SELECT DISTINCT ord FROM top WHERE ord NOT IN (SELECT ord FROM hidden)),
         best AS (
           SELECT c.ord, s.score FROM cand c CROSS JOIN LATERAL (
             SELECT sum(q.w * ${impact}) AS score FROM q JOIN ${postings} p ON p.term = q.term AND p.ord = c.ord
           ) s
           ORDER BY s.score DESC, c.ord LIMIT $5
         )
         SELECT ${this.columns}, best.score, (SELECT bound FROM bound) AS bound
         FROM best JOIN ${table} c ON c.ord = best.ord ORDER BY best.score DESC, best.ord`,
        [terms, weights, exclude, read, limit, ...terms],
      );
      const last = rows[limit - 1];
      if (last && Number(last.score) > Number(last.bound)) {
        this.lastLexical = { method: 'impact', rounds: round };
        return rows;
      }
      read *= TEAM_IMPACT_READ_GROWTH;
    }
  }

  async search(query: string, options: ArchivalSearchOptions = {}): Promise<ArchivalSearchResult> {
    if (typeof query !== 'string' || query.trim() === '') {
      throw new Error('The search query is empty. Pass a few words describing what to find.');
    }
    if (options.source === 'memory') return { hits: [], total: 0, page: Math.max(0, Math.floor(options.page ?? 0)), pageCount: 1 };
    const [qv] = await this.embedder.embed([query], options.signal);
    options.signal?.throwIfAborted();
    const { lexical, vector } = await this.candidates({
      query,
      vector: qv!,
      k: SEARCH_CANDIDATES_PER_RETRIEVER,
      ...(options.pathGlob ? { pathGlob: options.pathGlob } : {}),
    });
    return pageOfHits(rrfFuse([lexical, vector], identifierWordsOf(query)), options);
  }

  insertMemory(): Promise<string> {
    return Promise.reject(
      new TeamStoreError(
        'read_only',
        'The shared index is published from CI and read-only here; remembered items are kept in the local archival memory.',
      ),
    );
  }

  count(source?: ArchivalSource): number {
    return source === 'memory' ? 0 : this.publish.chunks;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  private async run<R extends object>(sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.client.query<R>(sql, params)).rows;
    } catch (err) {
      // The publish was replaced and its table dropped after we picked it: the caller reopens.
      if ((err as { code?: unknown }).code === '42P01') {
        throw new TeamStoreError(
          'not_published',
          `The publish of ${this.publish.repoId} at ${this.publish.commit.slice(0, 12)} was replaced by a newer one; reopen the shared index.`,
        );
      }
      throw teamErrorFrom(err, this.connection);
    }
  }
}

/**
 * The live publish for `commit`, else the newest of the repository (its files that differ from
 * the working tree are overlaid locally, so any recent commit serves). Only publishes made with
 * the same embedder: vectors of different models are never compared.
 */
export async function findPublish(
  client: ClientBase,
  connection: TeamConnection,
  repoId: string,
  commit: string | undefined,
  embedder: Pick<Embedder, 'id' | 'dimensions'>,
  schema: number = SCHEMA_VERSION,
): Promise<PublishInfo> {
  // The BM25 statistics column exists from its schema version on (older stores: ts_rank).
  const lexical = schema >= BM25_SCHEMA_VERSION ? ', lexical_length' : '';
  const base = `SELECT id, repo_id, commit_sha, embedder_id, dimensions, chunk_table, chunks, files, published_at${lexical} FROM memgpt_publishes WHERE state = 'live' AND repo_id = $1`;
  if (commit) {
    const exact = await client.query<PublishRow>(`${base} AND embedder_id = $2 AND commit_sha = $3`, [repoId, embedder.id, commit]);
    if (exact.rows[0]) return checkDims(toInfo(exact.rows[0]), embedder);
  }
  const newest = await client.query<PublishRow>(`${base} AND embedder_id = $2 ORDER BY published_at DESC, id DESC LIMIT 1`, [
    repoId,
    embedder.id,
  ]);
  if (newest.rows[0]) return checkDims(toInfo(newest.rows[0]), embedder);
  const other = await client.query<PublishRow>(`${base} ORDER BY published_at DESC, id DESC LIMIT 1`, [repoId]);
  if (other.rows[0]) {
    throw new TeamStoreError(
      'embedder_mismatch',
      `The shared index at ${connection.display} has repository ${repoId} published with the embedder "${other.rows[0].embedder_id}", and this window uses "${embedder.id}". ` +
        'Use the same embeddings settings as the CI job (memgpt.embeddings.*), or publish with this embedder.',
    );
  }
  throw new TeamStoreError(
    'not_published',
    `Nothing is published for repository ${repoId} at ${connection.display}. Publish it from CI with \`memgpt index <folder> --store …\`.`,
  );
}

function checkDims(p: PublishInfo, embedder: Pick<Embedder, 'id' | 'dimensions'>): PublishInfo {
  if (p.dimensions !== embedder.dimensions) {
    throw new TeamStoreError(
      'embedder_mismatch',
      `The publish of ${p.repoId} at ${p.commit.slice(0, 12)} has ${p.dimensions}-dimensional vectors; the embedder "${embedder.id}" makes ${embedder.dimensions}.`,
    );
  }
  return p;
}
