/**
 * Publishing the index of one commit to the shared store, from CI. Many readers, one writer
 * per (repository, commit, embedder), and a half-finished publish is never visible:
 *
 * - the writer holds a session advisory lock on the key for the whole publish (the server
 *   releases it if the writer dies, so a killed job never blocks the next one);
 * - chunks go into a new table of their own under a `staging` row that readers never select,
 *   in batches that each commit (no long transaction holds back readers or the server);
 * - the BM25 statistics (postings of each chunk's weighted term counts, document frequency per
 *   term, total length) are written with the chunks, so a publish is ranked whole or not seen;
 * - the indexes are built once the data is in (much faster than growing an HNSW graph row by row);
 * - one short transaction then retires the old live publish and makes this one live: readers see
 *   the old commit's index or the new one, never a part;
 * - a staging publish left by a killed writer is dropped by the next writer of that key.
 */
import type { Client, ClientBase } from 'pg';
import {
  TEAM_HNSW_EF_CONSTRUCTION,
  TEAM_HNSW_M,
  TEAM_MAINTENANCE_WORK_MEM,
  TEAM_PUBLISH_BATCH_CHUNKS,
  TEAM_PUBLISH_KEEP_COMMITS,
} from '../limits';
import { encodeDefinitions } from '../index/symbolIndex';
import type { SymbolDefinition } from '../interfaces/symbols';
import { teamErrorFrom, type TeamConnection } from './connection';
import { impactIndexOf, impactSql, postingsTableOf, PublishLexicalStats, type PostingRows } from './lexicalStats';
import { migrate } from './schema';
import { TeamStoreError } from './teamError';
import { vectorLiteral } from './vectorSql';

export interface PublishChunk {
  id: string;
  path: string;
  startLine: number;
  endLine: number;
  language: string;
  hash: string;
  text: string;
  /** Names the chunk defines (and its scope), space-separated: a weighted field of BM25F, as in the local store. */
  symbols?: string;
  vector: Float32Array;
}

/** The code symbols of one published file (what the local symbol index keeps of it). */
export interface PublishFileSymbols {
  path: string;
  hash: string;
  defs: readonly SymbolDefinition[];
  refs: readonly (readonly [string, number])[];
}

/** What is published: the files (path → content hash, chunk count), their chunks in batches, and their symbols. */
export interface PublishSource {
  embedderId: string;
  dimensions: number;
  files: ReadonlyMap<string, { hash: string; chunks: number }>;
  batches(size: number): AsyncIterable<PublishChunk[]>;
  /** Definitions and references of the code files among `files`; none when absent. */
  symbols?(): Iterable<PublishFileSymbols>;
}

export interface PublishProgress {
  phase: 'staging' | 'indexing' | 'flipping' | 'done';
  chunksDone: number;
  chunksTotal: number;
}

export interface PublishOptions {
  repoId: string;
  commit: string;
  source: PublishSource;
  onProgress?: (p: PublishProgress) => void;
  signal?: AbortSignal;
  /** Live publishes of the repository kept (newest first); older ones are dropped. */
  keepCommits?: number;
}

export interface PublishResult {
  publishId: number;
  chunks: number;
  files: number;
  /** Files whose code symbols were published with them. */
  symbolFiles: number;
  /** The publish of the same key this one replaced, if any. */
  replaced: number | null;
  /** Older publishes of the repository dropped by retention. */
  dropped: number;
  ms: number;
  schema: { from: number; to: number };
}

/** Two int4 halves of the advisory-lock key of (repository, commit, embedder), computed by the server. */
const LOCK_SQL = `hashtext('memgpt-publish:' || $1), hashtext($2 || ':' || $3)`;

/** Rows per INSERT for the small per-file and per-term tables (a few short columns each). */
const ROWS_PER_INSERT = TEAM_PUBLISH_BATCH_CHUNKS * 4;

/** What one writer at a time may publish: a repository's commit, embedded by one embedder. */
export interface PublishKey {
  repoId: string;
  commit: string;
  embedderId: string;
}

/**
 * Takes the key's session advisory lock without waiting: a second writer stops at once with
 * `publish_busy` rather than queue behind a publish that may take many minutes. The server
 * drops the lock with the session, so a writer that dies never blocks the next one.
 */
export async function acquirePublishLock(client: ClientBase, connection: TeamConnection, key: PublishKey): Promise<void> {
  const locked = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_SQL}) AS ok`, [
    key.repoId,
    key.commit,
    key.embedderId,
  ]);
  if (!locked.rows[0]?.ok) {
    throw new TeamStoreError(
      'publish_busy',
      `Another job is publishing ${key.repoId} at ${key.commit.slice(0, 12)} to ${connection.display}; this one stops. Run it again once that job ended if it failed.`,
    );
  }
}

export async function releasePublishLock(client: ClientBase, key: PublishKey): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(${LOCK_SQL})`, [key.repoId, key.commit, key.embedderId]);
}

/**
 * The flip: in one transaction the key's live publish is retired and the staged one made live,
 * so a reader's query sees the old publish or the new one, never neither nor both. Returns the
 * retired publishes (their tables are dropped by the caller once nobody can newly select them).
 */
export async function makeLive(
  client: ClientBase,
  key: PublishKey,
  publish: { id: number; chunks: number; files: number },
): Promise<{ id: string; chunk_table: string }[]> {
  await client.query('BEGIN');
  try {
    const replaced = (
      await client.query<{ id: string; chunk_table: string }>(
        `UPDATE memgpt_publishes SET state = 'retired' WHERE repo_id = $1 AND commit_sha = $2 AND embedder_id = $3 AND state = 'live' RETURNING id, chunk_table`,
        [key.repoId, key.commit, key.embedderId],
      )
    ).rows;
    const flipped = await client.query(
      `UPDATE memgpt_publishes SET state = 'live', published_at = clock_timestamp(), chunks = $2, files = $3 WHERE id = $1 AND state = 'staging'`,
      [publish.id, publish.chunks, publish.files],
    );
    if (flipped.rowCount !== 1) {
      // Retiring the old publish without a new one would leave readers nothing: undo both.
      throw new TeamStoreError(
        'publish_busy',
        `The staged publish ${publish.id} of ${key.repoId} at ${key.commit.slice(0, 12)} is gone (another writer removed it); nothing was changed.`,
      );
    }
    await client.query('COMMIT');
    return replaced;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export async function publishIndex(client: Client, connection: TeamConnection, options: PublishOptions): Promise<PublishResult> {
  const started = performance.now();
  const { repoId, commit, source } = options;
  if (!/^[0-9a-f]{7,64}$/i.test(commit))
    throw new TeamStoreError('no_git', `"${commit}" is not a commit id. Pass the full hash (git rev-parse HEAD).`);
  const key: PublishKey = { repoId, commit, embedderId: source.embedderId };
  try {
    const schema = await migrate(client, connection.display);
    await acquirePublishLock(client, connection, key);
    try {
      return await publishLocked(client, options, started, schema);
    } finally {
      await releasePublishLock(client, key).catch(() => undefined);
    }
  } catch (err) {
    throw teamErrorFrom(err, connection);
  }
}

async function dropPublishes(client: Client, rows: readonly { id: string; chunk_table: string }[]): Promise<void> {
  for (const r of rows) {
    if (/^memgpt_chunks_\d+$/.test(r.chunk_table)) {
      await client.query(`DROP TABLE IF EXISTS ${r.chunk_table}`);
      await client.query(`DROP TABLE IF EXISTS ${postingsTableOf(r.chunk_table)}`);
    }
    await client.query('DELETE FROM memgpt_publishes WHERE id = $1', [r.id]);
  }
}

async function publishLocked(
  client: Client,
  options: PublishOptions,
  started: number,
  schema: { from: number; to: number },
): Promise<PublishResult> {
  const { repoId, commit, source, signal } = options;
  const key = [repoId, commit, source.embedderId];
  // We hold the key's lock: any staging publish of it belongs to a writer that died.
  const stale = await client.query<{ id: string; chunk_table: string }>(
    `SELECT id, chunk_table FROM memgpt_publishes WHERE repo_id = $1 AND commit_sha = $2 AND embedder_id = $3 AND state = 'staging'`,
    key,
  );
  await dropPublishes(client, stale.rows);

  const row = await client.query<{ id: string }>(
    `INSERT INTO memgpt_publishes (repo_id, commit_sha, embedder_id, dimensions, state, chunk_table) VALUES ($1, $2, $3, $4, 'staging', '') RETURNING id`,
    [...key, source.dimensions],
  );
  const publishId = Number(row.rows[0]!.id);
  const table = `memgpt_chunks_${publishId}`;
  await client.query('UPDATE memgpt_publishes SET chunk_table = $1 WHERE id = $2', [table, publishId]);
  await client.query(
    `CREATE TABLE ${table} (
      chunk_id text PRIMARY KEY,
      path text NOT NULL,
      start_line integer NOT NULL,
      end_line integer NOT NULL,
      language text NOT NULL,
      chunk_hash text NOT NULL,
      text text NOT NULL,
      ord integer NOT NULL,
      embedding vector(${Math.floor(source.dimensions)}) NOT NULL,
      symbols text
    )`,
  );
  // One row per (term, chunk): BM25 reads the query terms' rows through an index on the term,
  // never a whole chunk, so a word found in every chunk costs a list scan, not a table scan.
  const postings = postingsTableOf(table);
  await client.query(`CREATE TABLE ${postings} (term text NOT NULL, ord integer NOT NULL, tf real NOT NULL, len integer NOT NULL)`);

  const chunksTotal = [...source.files.values()].reduce((s, f) => s + f.chunks, 0);
  let chunksDone = 0;
  const lexical = new PublishLexicalStats();
  options.onProgress?.({ phase: 'staging', chunksDone, chunksTotal });
  for await (const batch of source.batches(TEAM_PUBLISH_BATCH_CHUNKS)) {
    signal?.throwIfAborted();
    if (batch.length === 0) continue;
    const vectors: string[] = [];
    for (const c of batch) {
      if (c.vector.length !== source.dimensions)
        throw new TeamStoreError('embedder_mismatch', `A chunk of ${c.path} has ${c.vector.length} dimensions, not ${source.dimensions}.`);
      vectors.push(await vectorLiteral(c.vector));
    }
    const rows: PostingRows = { terms: [], chunks: [], tfs: [], lengths: [] };
    batch.forEach((c, i) => lexical.add(chunksDone + i, { path: c.path, symbols: c.symbols, language: c.language, text: c.text }, rows));
    await client.query(`INSERT INTO ${postings} (term, ord, tf, len) SELECT * FROM unnest($1::text[], $2::int[], $3::real[], $4::int[])`, [
      rows.terms,
      rows.chunks,
      rows.tfs,
      rows.lengths,
    ]);
    await client.query(
      `INSERT INTO ${table} (chunk_id, path, start_line, end_line, language, chunk_hash, text, ord, embedding, symbols)
       SELECT id, path, s, e, lang, h, body, ord, emb::vector, sym
       FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[])
         AS u(id, path, s, e, lang, h, body, ord, emb, sym)`,
      [
        batch.map((c) => c.id),
        batch.map((c) => c.path),
        batch.map((c) => c.startLine),
        batch.map((c) => c.endLine),
        batch.map((c) => c.language),
        batch.map((c) => c.hash),
        batch.map((c) => c.text),
        batch.map((_, i) => chunksDone + i),
        vectors,
        batch.map((c) => c.symbols ?? null),
      ],
    );
    chunksDone += batch.length;
    options.onProgress?.({ phase: 'staging', chunksDone, chunksTotal });
  }
  const files = [...source.files];
  for (let i = 0; i < files.length; i += ROWS_PER_INSERT) {
    const slice = files.slice(i, i + ROWS_PER_INSERT);
    await client.query(
      `INSERT INTO memgpt_published_files (publish_id, path, file_hash, chunks) SELECT $1, p, h, n FROM unnest($2::text[], $3::text[], $4::int[]) AS u(p, h, n)`,
      [publishId, slice.map(([p]) => p), slice.map(([, f]) => f.hash), slice.map(([, f]) => f.chunks)],
    );
  }

  let terms: [string, number][] = [];
  const flushTerms = async (): Promise<void> => {
    if (terms.length === 0) return;
    await client.query(
      `INSERT INTO memgpt_published_terms (publish_id, term, df) SELECT $1, t, d FROM unnest($2::text[], $3::int[]) AS u(t, d)`,
      [publishId, terms.map(([t]) => t), terms.map(([, d]) => d)],
    );
    terms = [];
  };
  for (const entry of lexical.terms()) {
    terms.push(entry);
    if (terms.length >= ROWS_PER_INSERT) {
      signal?.throwIfAborted();
      await flushTerms();
    }
  }
  await flushTerms();
  await client.query('UPDATE memgpt_publishes SET lexical_length = $2 WHERE id = $1', [publishId, lexical.totalLength]);

  let symbolFiles = 0;
  let rows: PublishFileSymbols[] = [];
  const flushSymbols = async (): Promise<void> => {
    if (rows.length === 0) return;
    await client.query(
      `INSERT INTO memgpt_published_symbols (publish_id, path, file_hash, defs, refs)
       SELECT $1, p, h, d::jsonb, r::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(p, h, d, r)`,
      [
        publishId,
        rows.map((f) => f.path),
        rows.map((f) => f.hash),
        rows.map((f) => JSON.stringify(encodeDefinitions(f.defs))),
        rows.map((f) => JSON.stringify(f.refs)),
      ],
    );
    symbolFiles += rows.length;
    rows = [];
  };
  for (const f of source.symbols?.() ?? []) {
    // Only files of this publish, as their chunks were made from that same content.
    if (source.files.get(f.path)?.hash !== f.hash) continue;
    rows.push(f);
    if (rows.length >= TEAM_PUBLISH_BATCH_CHUNKS) {
      signal?.throwIfAborted();
      await flushSymbols();
    }
  }
  await flushSymbols();

  signal?.throwIfAborted();
  options.onProgress?.({ phase: 'indexing', chunksDone, chunksTotal });
  await client.query(`SET maintenance_work_mem = '${TEAM_MAINTENANCE_WORK_MEM}'`).catch(() => undefined);
  await client.query(
    `CREATE INDEX ${table}_hnsw ON ${table} USING hnsw (embedding vector_cosine_ops) WITH (m = ${TEAM_HNSW_M}, ef_construction = ${TEAM_HNSW_EF_CONSTRUCTION})`,
  );
  await client.query(`CREATE UNIQUE INDEX ${table}_ord ON ${table} (ord)`);
  await client.query(`CREATE INDEX ${table}_path ON ${table} (path)`);
  // A term's postings by chunk: all of them for BM25 over a whole list, or one chunk's posting of
  // each query term when the best chunks are scored in full; the scoring columns ride in the index.
  await client.query(`CREATE INDEX ${postings}_term ON ${postings} (term, ord) INCLUDE (tf, len)`);
  // A term's postings highest impact first: a query reads the best few of each term before the rest.
  await client.query(
    `CREATE INDEX ${impactIndexOf(table)} ON ${postings} (term, ${impactSql(lexical.totalLength, chunksDone)} DESC) INCLUDE (ord)`,
  );
  // VACUUM marks the freshly written pages all-visible, so those index reads need not visit the
  // table (index-only scans); it also gathers the planner's statistics, as ANALYZE.
  await client.query(`VACUUM ANALYZE ${postings}`);
  await client.query(`ANALYZE ${table}`);

  signal?.throwIfAborted();
  options.onProgress?.({ phase: 'flipping', chunksDone, chunksTotal });
  const replaced = await makeLive(
    client,
    { repoId, commit, embedderId: source.embedderId },
    { id: publishId, chunks: chunksDone, files: files.length },
  );
  // Retired and beyond-retention publishes go once nobody can newly select them.
  await dropPublishes(client, replaced);
  const keep = Math.max(1, options.keepCommits ?? TEAM_PUBLISH_KEEP_COMMITS);
  const old = await client.query<{ id: string; chunk_table: string }>(
    `SELECT id, chunk_table FROM memgpt_publishes WHERE repo_id = $1 AND embedder_id = $2 AND state = 'live' ORDER BY published_at DESC, id DESC OFFSET $3`,
    [repoId, source.embedderId, keep],
  );
  await dropPublishes(client, old.rows);
  options.onProgress?.({ phase: 'done', chunksDone, chunksTotal });
  return {
    publishId,
    chunks: chunksDone,
    files: files.length,
    symbolFiles,
    replaced: replaced[0] ? Number(replaced[0].id) : null,
    dropped: old.rows.length,
    ms: Math.round(performance.now() - started),
    schema,
  };
}
