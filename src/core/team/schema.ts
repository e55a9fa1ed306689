/**
 * The shared store's schema, versioned. `memgpt_schema_version` lists every migration applied;
 * migrations run in order, each in its own transaction, under an advisory lock so two CI jobs
 * that start at once do not both apply them. A schema newer than this MemGPT knows is refused
 * with a clear error rather than read or written half-understood.
 *
 * Layout: `memgpt_publishes` has one row per publish of (repository id, commit, embedder) with
 * its state (staging → live → retired); `memgpt_published_files` the content hash of every file
 * of a publish (what the overlay compares local files with); each publish's chunks live in their
 * own table `memgpt_chunks_<publish id>` (and `memgpt_published_symbols` the code symbols of its files,
 * `memgpt_published_terms` the document frequency of each of its terms), so its HNSW index holds only that commit's vectors
 * (an index shared by many commits would return too few neighbours once filtered to one) and a
 * retired publish is dropped in one statement.
 */
import type { ClientBase } from 'pg';
import { TeamStoreError } from './teamError';

export interface Migration {
  version: number;
  /** What it does, for the version table and for people reading it. */
  description: string;
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'publishes of (repository, commit, embedder) and their file hashes',
    statements: [
      `CREATE TABLE memgpt_publishes (
        id bigserial PRIMARY KEY,
        repo_id text NOT NULL,
        commit_sha text NOT NULL,
        embedder_id text NOT NULL,
        dimensions integer NOT NULL CHECK (dimensions > 0),
        state text NOT NULL CHECK (state IN ('staging', 'live', 'retired')),
        chunk_table text NOT NULL,
        chunks integer NOT NULL DEFAULT 0,
        files integer NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`,
      // At most one live publish per (repository, commit, embedder): the flip is this row's state.
      `CREATE UNIQUE INDEX memgpt_publishes_live ON memgpt_publishes (repo_id, commit_sha, embedder_id) WHERE state = 'live'`,
      `CREATE INDEX memgpt_publishes_newest ON memgpt_publishes (repo_id, embedder_id, state, published_at DESC)`,
      `CREATE TABLE memgpt_published_files (
        publish_id bigint NOT NULL REFERENCES memgpt_publishes (id) ON DELETE CASCADE,
        path text NOT NULL,
        file_hash text NOT NULL,
        chunks integer NOT NULL,
        PRIMARY KEY (publish_id, path)
      )`,
    ],
  },
  {
    version: 2,
    description: 'symbol definitions and references of every published code file',
    statements: [
      // One row per file, in the symbol log's compact shape, so find_symbol and file_outline work
      // for files a laptop left to the shared index; dropped with its publish.
      `CREATE TABLE memgpt_published_symbols (
        publish_id bigint NOT NULL REFERENCES memgpt_publishes (id) ON DELETE CASCADE,
        path text NOT NULL,
        file_hash text NOT NULL,
        defs jsonb NOT NULL,
        refs jsonb NOT NULL,
        PRIMARY KEY (publish_id, path)
      )`,
    ],
  },
  {
    version: 3,
    description: 'BM25 statistics of every publish: document frequency of each term, total length of its chunks',
    statements: [
      // Null for publishes made before this version: those are ranked by ts_rank, as they were.
      `ALTER TABLE memgpt_publishes ADD COLUMN lexical_length bigint`,
      // Written while the publish is staging, dropped with it; a query reads only its own terms.
      `CREATE TABLE memgpt_published_terms (
        publish_id bigint NOT NULL REFERENCES memgpt_publishes (id) ON DELETE CASCADE,
        term text NOT NULL,
        df integer NOT NULL CHECK (df > 0),
        PRIMARY KEY (publish_id, term)
      )`,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
/** The first version whose publishes carry code symbols. */
export const SYMBOLS_SCHEMA_VERSION = 2;
/** The first version whose publishes carry BM25 statistics (per-chunk term counts, document frequencies). */
export const BM25_SCHEMA_VERSION = 3;

/** Advisory-lock key of migrations (an arbitrary constant: "mgpt" in ASCII). */
const MIGRATION_LOCK_KEY = 0x6d677074;

const VERSION_TABLE = `CREATE TABLE IF NOT EXISTS memgpt_schema_version (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

function tooNew(found: number, display: string): TeamStoreError {
  return new TeamStoreError(
    'schema_too_new',
    `The shared index at ${display} has schema version ${found}, newer than this MemGPT understands (${SCHEMA_VERSION}). ` +
      'Update MemGPT (the editor extension and the CI job) to use it; nothing was read or changed.',
  );
}

/** The applied schema version, 0 when MemGPT never ran on this database. */
export async function schemaVersion(client: ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('memgpt_schema_version')::text AS t`);
  if (!exists.rows[0]?.t) return 0;
  const r = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM memgpt_schema_version');
  return Number(r.rows[0]?.v ?? 0);
}

/** For readers: the schema must exist and not be newer than ours. */
export async function checkSchema(client: ClientBase, display: string): Promise<number> {
  const v = await schemaVersion(client);
  if (v === 0)
    throw new TeamStoreError(
      'no_schema',
      `Nothing was ever published to the shared index at ${display}. Publish from CI with \`memgpt index <folder> --store …\`.`,
    );
  if (v > SCHEMA_VERSION) throw tooNew(v, display);
  return v;
}

/** Creates pgvector if missing, then applies every migration this database lacks, in order. */
export async function migrate(
  client: ClientBase,
  display: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<{ from: number; to: number }> {
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (err) {
    throw new TeamStoreError(
      'no_pgvector',
      `The shared index at ${display} has no pgvector extension and this user may not create it (${(err as Error).message}). ` +
        'Ask the database owner to run `CREATE EXTENSION vector;` once (every managed PostgreSQL offers it).',
    );
  }
  await client.query(VERSION_TABLE);
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    const from = await schemaVersion(client);
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    if (from > latest) throw tooNew(from, display);
    for (const m of migrations) {
      if (m.version <= from) continue;
      await client.query('BEGIN');
      try {
        for (const sql of m.statements) await client.query(sql);
        await client.query('INSERT INTO memgpt_schema_version (version, description) VALUES ($1, $2)', [m.version, m.description]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    return { from, to: Math.max(from, latest) };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}
