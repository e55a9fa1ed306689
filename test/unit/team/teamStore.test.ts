/**
 * The team store against a real PostgreSQL wire-protocol server with pgvector (PGlite behind
 * pglite-socket on 127.0.0.1): migrations, publish and query, atomic publish, the overlay of
 * local changes, the fallback when the server is unreachable, and a connection string that
 * never shows. One server for the whole file (starting PGlite costs seconds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { maskSecrets, processSecrets, redactSecrets } from '../../../src/core/security/redact';
import { connectTeamStore, parseConnection, redactConnection, resolveConnectionString } from '../../../src/core/team/connection';
import { OverlayArchivalStore } from '../../../src/core/team/overlayStore';
import { findPublish, PgArchivalStore } from '../../../src/core/team/pgArchivalStore';
import { normalizeRemoteUrl, repoIdFromRemote } from '../../../src/core/team/repoIdentity';
import { checkSchema, migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from '../../../src/core/team/schema';
import { isTeamStoreError } from '../../../src/core/team/teamError';
import { TEST_PASSWORD } from './pgliteServer';
import { useTeamServer } from './teamFixture';

const team = useTeamServer();
const { writeWorkspace, indexWorkspace, withClient } = team;

const COMMIT_A = 'a'.repeat(40);
const COMMIT_B = 'b'.repeat(40);

const FILES: Record<string, string> = {
  'src/router.ts': `export function matchRoute(routes: Route[], url: string): Route | undefined {
  // walk the route table and return the first handler whose pattern matches the request path
  for (const route of routes) {
    if (route.pattern.test(url)) return route;
  }
  return undefined;
}\n`,
  'src/retry.ts': `export async function withBackoff<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  let delay = 100;
  for (let i = 0; ; i++) {
    try { return await attempt(); } catch (err) {
      if (i >= tries) throw err;
      await sleep(delay); delay *= 2;
    }
  }
}\n`,
  'src/cookies.ts': `export function parseCookieHeader(header: string): Map<string, string> {
  const jar = new Map<string, string>();
  for (const pair of header.split(';')) {
    const [k, v] = pair.split('=');
    if (k) jar.set(k.trim(), decodeURIComponent(v ?? ''));
  }
  return jar;
}\n`,
  'docs/readme.md': '# Project\n\nThis project is a tiny web framework with routing, cookies and retries.\n',
};

async function publishWorkspace(repoId: string, commit: string, archival: ArchivalIndex): Promise<number> {
  return (await team.publish(repoId, commit, archival)).publishId;
}

test('team: migrations apply in order once, and a newer schema is refused', async () => {
  const connection = parseConnection(team.server.url);
  await withClient(async (c) => {
    await assert.rejects(checkSchema(c, connection.display), (e: unknown) => isTeamStoreError(e, 'no_schema'));
    assert.deepEqual(await migrate(c, connection.display), { from: 0, to: SCHEMA_VERSION });
    assert.deepEqual(await migrate(c, connection.display), { from: SCHEMA_VERSION, to: SCHEMA_VERSION }, 'a second run applies nothing');
    const rows = (await c.query<{ version: number }>('SELECT version FROM memgpt_schema_version ORDER BY version')).rows.map(
      (r) => r.version,
    );
    assert.deepEqual(
      rows,
      MIGRATIONS.map((m) => m.version),
    );
    // a later migration applies on top, in order
    const next = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, description: 'test column', statements: ['ALTER TABLE memgpt_publishes ADD COLUMN note text'] },
    ];
    assert.deepEqual(await migrate(c, connection.display, next), { from: SCHEMA_VERSION, to: SCHEMA_VERSION + 1 });
    // this MemGPT only knows SCHEMA_VERSION: the newer schema is refused by writers and readers
    await assert.rejects(
      migrate(c, connection.display),
      (e: unknown) => isTeamStoreError(e, 'schema_too_new') && /newer than this MemGPT/.test((e as Error).message),
    );
    await assert.rejects(checkSchema(c, connection.display), (e: unknown) => isTeamStoreError(e, 'schema_too_new'));
    await c.query('ALTER TABLE memgpt_publishes DROP COLUMN note');
    await c.query('DELETE FROM memgpt_schema_version WHERE version > $1', [SCHEMA_VERSION]);
    assert.equal(await schemaVersion(c), SCHEMA_VERSION);
  });
});

test('team: a published commit is searched like the local index (hybrid, same ranking)', async () => {
  const root = writeWorkspace(FILES);
  const archival = await indexWorkspace(root);
  await publishWorkspace('repo-search', COMMIT_A, archival);
  const shared = await PgArchivalStore.open({
    connection: parseConnection(team.server.url),
    repoId: 'repo-search',
    commit: COMMIT_A,
    embedder: archival.embedder,
  });
  try {
    assert.equal(shared.publish.commit, COMMIT_A);
    assert.equal(shared.count('workspace'), archival.count('workspace'));
    for (const [query, want] of [
      ['match the route for a url', 'src/router.ts'],
      ['retry with exponential backoff', 'src/retry.ts'],
      ['parseCookieHeader', 'src/cookies.ts'],
    ] as const) {
      const remote = await shared.search(query);
      const local = await archival.search(query);
      assert.equal(remote.hits[0]?.path, want, `shared store: ${query}`);
      assert.equal(remote.hits[0]?.path, local.hits[0]?.path, `same top hit as the local store: ${query}`);
      assert.ok(remote.hits[0]!.text.length > 0 && remote.hits[0]!.startLine === 1);
      // The same fused scores, hit for hit: the same fusion, prose discount and named-symbol boost
      // (parseCookieHeader names a definition: its chunk is raised on both sides).
      const page = (r: typeof local): string[] => r.hits.map((h) => `${h.path}:${h.startLine} ${h.score}`);
      assert.deepEqual(page(remote), page(local), `same page as the local store: ${query}`);
    }
    const { lexical } = await shared.candidates({ query: 'parseCookieHeader', k: 3 });
    assert.equal(lexical[0]?.symbols, 'parseCookieHeader', 'the chunk names what it defines, as published');
    const globbed = await shared.search('route cookies retries', { pathGlob: 'docs/**' });
    assert.deepEqual([...new Set(globbed.hits.map((h) => h.path))], ['docs/readme.md']);
    assert.equal((await shared.search('anything', { source: 'memory' })).total, 0, 'memories are never in the shared store');
    await assert.rejects(shared.insertMemory(), (e: unknown) => isTeamStoreError(e, 'read_only'));
    assert.deepEqual(await shared.files(), new Map(archival.indexedPaths().map((p) => [p, archival.fileHashOf(p)!])));
  } finally {
    await shared.close();
    await archival.close();
  }
  // another embedder cannot read these vectors: it is told, not given nonsense
  await assert.rejects(
    PgArchivalStore.open({
      connection: parseConnection(team.server.url),
      repoId: 'repo-search',
      commit: COMMIT_A,
      embedder: new LocalHashEmbedder({ dimensions: 32 }),
    }),
    (e: unknown) => isTeamStoreError(e, 'embedder_mismatch'),
  );
  await assert.rejects(
    PgArchivalStore.open({ connection: parseConnection(team.server.url), repoId: 'nobody', embedder: new LocalHashEmbedder() }),
    (e: unknown) => isTeamStoreError(e, 'not_published'),
  );
});

/**
 * A word in every chunk ("value") and a rare name: ts_rank, which has no inverse document
 * frequency, put the chunks repeating the common word first; BM25 puts the rare name first.
 */
function commonWordWorkspace(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < 24; i++) {
    files[`src/values/mod${i}.ts`] = `export function computeValue${i}(value: number): number {
  // the value is scaled, the value is added, and the value is returned as a value
  const doubled = value * 2;
  return value + doubled + value;
}\n`;
  }
  files['src/ledger.ts'] = `/** Sums the entries of a ledger. */
export function settleLedger(entries: { value: number }[]): number {
  let total = 0;
  for (const e of entries) total += e.value;
  return total;
}\n`;
  files['docs/ledger.md'] = '# Ledgers\n\nA ledger holds entries; settling a ledger adds their value.\n';
  return files;
}

/** Questions over that workspace: phrased, with a name, with common words only. */
const COMMON_WORD_QUERIES = [
  'where is the value of a ledger settled',
  'settleLedger value',
  'how is the value computed',
  'entries total',
  'computeValue7',
];

test('team: the lexical half scores BM25 from the publish, exactly as the local store (rare words outweigh common ones)', async () => {
  const archival = await indexWorkspace(writeWorkspace(commonWordWorkspace()));
  const publishId = await publishWorkspace('repo-bm25', COMMIT_A, archival);
  const connection = parseConnection(team.server.url);
  const shared = await PgArchivalStore.open({ connection, repoId: 'repo-bm25', commit: COMMIT_A, embedder: archival.embedder });
  try {
    // The statistics were written with the publish, before it went live.
    const stats = await withClient(
      async (c) =>
        (
          await c.query<{ length: string | null; terms: string; valu: number | null }>(
            `SELECT p.lexical_length AS length, (SELECT count(*) FROM memgpt_published_terms t WHERE t.publish_id = p.id) AS terms,
               (SELECT df FROM memgpt_published_terms t WHERE t.publish_id = p.id AND t.term = 'valu') AS valu
             FROM memgpt_publishes p WHERE p.id = $1`,
            [publishId],
          )
        ).rows[0]!,
    );
    assert.ok(Number(stats.length) > 0 && Number(stats.terms) > 10, JSON.stringify(stats));
    assert.equal(stats.valu, archival.count('workspace'), '"value" is in every chunk: its document frequency is all of them');
    assert.equal(shared.publish.lexicalLength, Number(stats.length));

    const all = archival.count('workspace') + 10; // every matching chunk, so ties at the cut cannot differ
    for (const query of COMMON_WORD_QUERIES) {
      const local = archival.store.lexicalSearch(query, all).map((s) => ({ id: archival.store.record(s).id, score: s.score }));
      const { lexical } = await shared.candidates({ query, k: all });
      assert.ok(local.length > 0, `the local store finds something for: ${query}`);
      assert.deepEqual(lexical.map((c) => c.id).sort(), local.map((l) => l.id).sort(), `the same chunks match: ${query}`);
      const remote = new Map(lexical.map((c) => [c.id, c.score]));
      for (const l of local) {
        // The local scores are float32 sums; the server's are float64.
        assert.ok(
          Math.abs(remote.get(l.id)! - l.score) <= 1e-4 * Math.max(1, l.score),
          `${query}: ${l.id} ${remote.get(l.id)} vs ${l.score}`,
        );
      }
    }
    const ledger = await shared.candidates({ query: 'where is the value of a ledger settled', k: 3 });
    assert.equal(ledger.lexical[0]?.path, 'src/ledger.ts', 'the rare word wins over the one in every chunk');
    assert.equal((await shared.search('settleLedger value')).hits[0]?.path, 'src/ledger.ts');

    // A publish made before BM25 statistics (or read with an older schema) is still searched, by ts_rank.
    const old = await withClient((c) => findPublish(c, connection, 'repo-bm25', COMMIT_A, archival.embedder, 2));
    assert.equal(old.lexicalLength, null);
    // An older publisher's shape: a tsvector column and no statistics.
    await withClient(async (c) => {
      await c.query(`ALTER TABLE memgpt_chunks_${publishId} ADD COLUMN tsv tsvector`);
      await c.query(`UPDATE memgpt_chunks_${publishId} SET tsv = to_tsvector('simple', path || ' ' || text)`);
      await c.query('UPDATE memgpt_publishes SET lexical_length = NULL WHERE id = $1', [publishId]);
    });
    const legacy = await PgArchivalStore.open({ connection, repoId: 'repo-bm25', commit: COMMIT_A, embedder: archival.embedder });
    try {
      assert.equal(legacy.publish.lexicalLength, null);
      const hits = (await legacy.candidates({ query: 'settleLedger', k: 5 })).lexical;
      assert.equal(hits[0]?.path, 'src/ledger.ts');
    } finally {
      await legacy.close();
    }
  } finally {
    await shared.close();
    await archival.close();
  }
});

/**
 * Two words where the best chunk for both is neither word's best chunk: quartz.ts repeats one,
 * zephyr.ts the other, both.ts holds each a few times and outscores them on a query naming both.
 * A search that kept only each word's best postings would miss it.
 */
function splitBestWorkspace(): Record<string, string> {
  const files: Record<string, string> = {
    'src/mix/quartz.ts': `// quartz quartz quartz quartz quartz quartz quartz\nexport const q = 1;\n`,
    'src/mix/zephyr.ts': `// zephyr zephyr zephyr zephyr zephyr zephyr zephyr\nexport const z = 1;\n`,
    'src/mix/both.ts': `// quartz quartz quartz zephyr zephyr zephyr\nexport const b = 1;\n`,
  };
  for (let i = 0; i < 40; i++) files[`src/mix/filler${i}.ts`] = `// ${i % 2 ? 'quartz' : 'zephyr'} once here\nexport const f${i} = ${i};\n`;
  return files;
}

test('team: the lexical half reads the best postings of each term first and answers exactly as reading them all', async () => {
  const archival = await indexWorkspace(writeWorkspace({ ...commonWordWorkspace(), ...splitBestWorkspace() }));
  await publishWorkspace('repo-impact', COMMIT_A, archival);
  const connection = parseConnection(team.server.url);
  // No cost cut-off: on a corpus this small every query would be read whole.
  const open = (impactFirstRead: number): Promise<PgArchivalStore> =>
    PgArchivalStore.open({
      connection,
      repoId: 'repo-impact',
      commit: COMMIT_A,
      embedder: archival.embedder,
      impactFirstRead,
      probeCost: 0,
    });
  // One posting per term first (then 4, 16, …): the pruned path runs, and has to read again.
  const pruned = await open(1);
  // More than any term has: every posting of every term, the plain BM25 sum.
  const whole = await open(1_000_000);
  try {
    const methods: string[] = [];
    let readAgain = 0;
    for (const query of [...COMMON_WORD_QUERIES, 'value doubled', 'quartz zephyr']) {
      for (const k of [1, 3, 5]) {
        for (const excludePaths of [[], ['src/ledger.ts', 'src/values/mod7.ts']]) {
          const a = (await pruned.candidates({ query, k, excludePaths })).lexical;
          const trace = pruned.lastLexical!;
          methods.push(trace.method);
          if (trace.method === 'impact' && trace.rounds > 1) readAgain++;
          const b = (await whole.candidates({ query, k, excludePaths })).lexical;
          assert.equal(whole.lastLexical?.method, 'all-postings');
          const what = `${query} k=${k} excluding ${excludePaths.length}`;
          assert.deepEqual(
            a.map((c) => c.id),
            b.map((c) => c.id),
            `${what}: the same chunks in the same order`,
          );
          a.forEach((c, i) => assert.ok(Math.abs(c.score - b[i]!.score) <= 1e-9 * Math.max(1, c.score), `${what}: ${c.id} score`));
          for (const c of a) assert.ok(!excludePaths.includes(c.path), `${what}: an excluded path came back`);
        }
      }
    }
    assert.equal((await pruned.candidates({ query: 'quartz zephyr', k: 1 })).lexical[0]?.path, 'src/mix/both.ts');
    assert.ok(methods.includes('impact'), `the pruned path answered some queries: ${methods.join(' ')}`);
    assert.ok(readAgain > 0, 'some query needed a second, larger read');
  } finally {
    await pruned.close();
    await whole.close();
    await archival.close();
  }
});

async function liveCommit(repoId: string): Promise<{ id: number; commit: string; chunks: number }[]> {
  return withClient(async (c) =>
    (
      await c.query<{ id: string; commit_sha: string; chunks: number }>(
        `SELECT id, commit_sha, chunks FROM memgpt_publishes WHERE repo_id = $1 AND state = 'live'`,
        [repoId],
      )
    ).rows.map((r) => ({
      id: Number(r.id),
      commit: r.commit_sha,
      chunks: r.chunks,
    })),
  );
}

function runSlowPublisher(env: Record<string, string>): {
  child: ReturnType<typeof spawn>;
  staged: Promise<void>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'slowPublisher.ts')], {
    env: { ...process.env, URL: team.server.url, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const staged = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('staged')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', () => reject(new Error(`publisher exited before staging: ${out}${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, staged, exited };
}

test('team: a publish killed half-way is never visible; the old commit is still served and the next publish cleans up', async () => {
  const repoId = 'repo-atomic';
  const embedder = new LocalHashEmbedder({ dimensions: 16 });
  const connection = parseConnection(team.server.url);
  // the served index: commit A, every chunk saying "alphaword"
  const first = runSlowPublisher({ REPO: repoId, COMMIT: COMMIT_A, MARK: 'alphaword' });
  assert.equal(await first.exited, 0);
  const [live] = await liveCommit(repoId);
  assert.equal(live?.commit, COMMIT_A);

  // republish of the same commit, killed after its first batch: readers keep the whole old one
  const second = runSlowPublisher({ REPO: repoId, COMMIT: COMMIT_A, MARK: 'betaword' });
  await second.staged;
  const during = await PgArchivalStore.open({ connection, repoId, commit: COMMIT_A, embedder });
  assert.equal(during.publish.id, live!.id, 'readers see the live publish while another stages');
  assert.ok((await during.search('betaword')).hits.every((h) => !h.text.includes('betaword')));
  await during.close();
  // the writer holds the key's advisory lock while it stages (PGlite has one backend for every
  // connection, so exclusion itself shows only on a real server: the lock is there)
  const locks = await withClient(async (c) => (await c.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted`)).rowCount);
  assert.ok((locks ?? 0) >= 1, 'the publisher holds an advisory lock');
  second.child.kill('SIGKILL');
  await second.exited;
  const staging = await withClient(
    async (c) => (await c.query(`SELECT id FROM memgpt_publishes WHERE repo_id = $1 AND state = 'staging'`, [repoId])).rowCount,
  );
  assert.equal(staging, 1, 'the killed publish left a staging row (invisible)');
  const after1 = await PgArchivalStore.open({ connection, repoId, commit: COMMIT_A, embedder });
  assert.equal(after1.publish.id, live!.id);
  assert.equal(after1.publish.chunks, 40);
  const alpha = await after1.search('alphaword');
  assert.ok(alpha.total > 0 && alpha.hits.every((h) => h.text.includes('alphaword')), 'the old commit is served whole');

  // a complete publish of commit B replaces nothing of A; A's reader keeps A, a new reader of B gets B
  const third = runSlowPublisher({ REPO: repoId, COMMIT: COMMIT_B, MARK: 'gammaword' });
  assert.equal(await third.exited, 0);
  assert.ok((await after1.search('alphaword')).total > 0);
  await after1.close();
  const newest = await PgArchivalStore.open({ connection, repoId, embedder });
  assert.equal(newest.publish.commit, COMMIT_B, 'without a commit, the newest publish');
  await newest.close();

  // republishing A completes: the stale staging rows and table are gone, one live A remains
  const fourth = runSlowPublisher({ REPO: repoId, COMMIT: COMMIT_A, MARK: 'deltaword' });
  assert.equal(await fourth.exited, 0);
  const rows = await withClient(
    async (c) =>
      (
        await c.query<{ state: string; commit_sha: string }>(
          `SELECT state, commit_sha FROM memgpt_publishes WHERE repo_id = $1 ORDER BY id`,
          [repoId],
        )
      ).rows,
  );
  assert.deepEqual(
    rows.map((r) => `${r.commit_sha[0]}:${r.state}`),
    ['b:live', 'a:live'],
  );
  const tables = await withClient(
    async (c) => (await c.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'memgpt_chunks_%'`)).rows.length,
  );
  const publishes = await withClient(async (c) => (await c.query(`SELECT id FROM memgpt_publishes`)).rows.length);
  assert.equal(tables, publishes, 'no orphaned chunk table');
  const postings = await withClient(
    async (c) => (await c.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'memgpt_postings_%'`)).rows.length,
  );
  assert.equal(postings, publishes, 'no orphaned postings table');
  const reader = await PgArchivalStore.open({ connection, repoId, commit: COMMIT_A, embedder });
  assert.ok((await reader.search('deltaword')).total > 0);
  await reader.close();
});

test('team: the overlay answers changed files from the local index, hides deleted ones, keeps memories local', async () => {
  const published = writeWorkspace(FILES);
  const ci = await indexWorkspace(published);
  await publishWorkspace('repo-overlay', COMMIT_A, ci);
  await ci.close();
  // the developer's checkout: retry.ts rewritten (uncommitted), cookies.ts deleted, a new file
  const mine = writeWorkspace({
    ...FILES,
    'src/retry.ts': 'export function zebraQuokkaRetry(): number {\n  // retries with a fixed pause instead of backoff\n  return 3;\n}\n',
    'src/cookies.ts': '',
    'src/session.ts':
      'export function sessionTokenFromCookie(jar: Map<string, string>): string | undefined {\n  return jar.get("sid");\n}\n',
  });
  rmSync(path.join(mine, 'src/cookies.ts'));
  const local = await indexWorkspace(mine);
  const notices: string[] = [];
  const overlay = new OverlayArchivalStore({
    local,
    openShared: () =>
      PgArchivalStore.open({
        connection: parseConnection(team.server.url),
        repoId: 'repo-overlay',
        commit: COMMIT_A,
        embedder: local.embedder,
      }),
    notice: (m) => notices.push(m),
  });
  try {
    const changed = await overlay.search('zebraQuokkaRetry');
    assert.equal(changed.hits[0]?.path, 'src/retry.ts');
    assert.match(changed.hits[0]!.text, /zebraQuokkaRetry/, 'the local version of a changed file wins');
    const old = await overlay.search('withBackoff exponential backoff attempt tries');
    assert.ok(
      old.hits.every((h) => !h.text.includes('withBackoff')),
      'the published version of a changed file never shows',
    );
    const gone = await overlay.search('parseCookieHeader cookie header jar');
    assert.ok(
      gone.hits.every((h) => h.path !== 'src/cookies.ts'),
      'a deleted file never shows',
    );
    assert.equal(gone.hits[0]?.path, 'src/session.ts', 'a new local file is found');
    const unchanged = await overlay.search('match the route for a url');
    assert.equal(unchanged.hits[0]?.path, 'src/router.ts', 'unchanged files come from the shared store');
    assert.equal(overlay.status().shared, 'connected');
    const id = await overlay.insertMemory('the deploy key rotates every ninety days');
    const mem = await overlay.search('deploy key rotation', { source: 'memory' });
    assert.equal(mem.hits[0]?.id, id);
    const both = await overlay.search('deploy key rotates ninety days');
    assert.ok(
      both.hits.some((h) => h.id === id),
      'memories are searched with the workspace',
    );
    assert.deepEqual(notices, [], 'a working shared store is logged, not announced');
  } finally {
    await overlay.close();
    await local.close();
  }
});

test('team: an unreachable server falls back to the local index at once, with one notice, within the connect time-out', async () => {
  const root = writeWorkspace(FILES);
  const local = await indexWorkspace(root);
  // one port that refuses, one server that accepts and never answers (a black hole)
  const refused = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  const sockets: net.Socket[] = [];
  const hole = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()));
  const holePort = (hole.address() as net.AddressInfo).port;
  const output: string[] = [];
  const origError = console.error;
  const origLog = console.log;
  const origWarn = console.warn;
  console.error = console.log = console.warn = (...a: unknown[]) => void output.push(a.map(String).join(' '));
  try {
    for (const port of [refused, holePort]) {
      const url = `postgres://memgpt:${TEST_PASSWORD}@127.0.0.1:${port}/postgres`;
      const notices: string[] = [];
      let now = 0;
      const overlay = new OverlayArchivalStore({
        local,
        openShared: () =>
          PgArchivalStore.open({ connection: parseConnection(url), repoId: 'r', embedder: local.embedder, connectTimeoutMs: 400 }),
        notice: (m) => notices.push(m),
        now: () => now,
      });
      const t0 = performance.now();
      const r = await overlay.search('match the route for a url');
      const ms = performance.now() - t0;
      assert.equal(r.hits[0]?.path, 'src/router.ts', 'the local index answered');
      assert.ok(ms < 2500, `fell back in ${Math.round(ms)} ms`);
      assert.equal(notices.length, 1);
      assert.match(notices[0]!, /unreachable/);
      assert.match(notices[0]!, new RegExp(`127\\.0\\.0\\.1:${port}/postgres`), 'names the server by host, port and database');
      // within the retry pause the server is not tried again: the next search is immediate
      const t1 = performance.now();
      await overlay.search('retry with backoff');
      assert.ok(performance.now() - t1 < 300);
      assert.equal(notices.length, 1, 'one notice, not one per search');
      assert.equal(overlay.status().shared, 'unavailable');
      now += 61_000;
      await overlay.search('retry with backoff');
      assert.equal(notices.length, 1, 'the same failure again is not announced again');
      await overlay.close();
      output.push(...notices, overlay.status().reason ?? '');
    }
  } finally {
    console.error = origError;
    console.log = origLog;
    console.warn = origWarn;
    for (const s of sockets) s.destroy();
    hole.close();
    await local.close();
  }
  assert.ok(!output.join('\n').includes(TEST_PASSWORD), 'the password never shows');
});

test('team: the connection string is never printed: errors, notices and the redactor hide it', async () => {
  assert.equal(resolveConnectionString({ env: { MEMGPT_POSTGRES_URL: ' postgres://x ' } }), 'postgres://x');
  assert.equal(
    resolveConnectionString({ flag: 'postgres://flag', secret: 'postgres://secret', env: { MEMGPT_POSTGRES_URL: 'postgres://env' } }),
    'postgres://flag',
  );
  assert.equal(
    resolveConnectionString({ secret: 'postgres://secret', env: { MEMGPT_POSTGRES_URL: 'postgres://env' } }),
    'postgres://secret',
  );
  assert.equal(resolveConnectionString({ env: {} }), undefined);
  assert.throws(
    () => parseConnection('https://example.invalid/db'),
    (e: unknown) => isTeamStoreError(e, 'bad_url'),
  );
  const url = `postgres://ci:${encodeURIComponent('p@ss/w0rd-' + TEST_PASSWORD)}@127.0.0.1:1/teamdb`;
  const connection = parseConnection(url);
  assert.equal(connection.display, '127.0.0.1:1/teamdb');
  // once parsed, the process-wide redactor (logs, chat, stderr) hides it wherever it appears
  const raw = `connecting to ${url} with ${'p@ss/w0rd-' + TEST_PASSWORD}`;
  for (const line of [redactSecrets(raw, processSecrets()), maskSecrets(raw)]) assert.ok(!line.includes(TEST_PASSWORD), line);
  assert.ok(!redactConnection(`failed: ${url}`, connection).includes(TEST_PASSWORD));
  const err = await connectTeamStore(connection, { connectTimeoutMs: 300 }).then(
    () => assert.fail('connected to a closed port'),
    (e: unknown) => e as Error,
  );
  assert.ok(isTeamStoreError(err, 'unreachable'));
  assert.ok(!err.message.includes(TEST_PASSWORD) && !err.message.includes('ci:'), err.message);
  assert.ok(!String(err.stack).includes(TEST_PASSWORD));
});

test('team: a repository id is the same for every clone URL and hides the URL', () => {
  const urls = [
    'git@github.com:Acme/Monorepo.git',
    'https://github.com/acme/monorepo',
    'https://user:tok3n@github.com/acme/monorepo.git/',
    'ssh://git@github.com/acme/monorepo.git',
  ];
  assert.equal(normalizeRemoteUrl(urls[0]!), 'github.com/acme/monorepo');
  const ids = new Set(urls.map(repoIdFromRemote));
  assert.equal(ids.size, 1, [...ids].join(' '));
  const [id] = ids;
  assert.match(id!, /^git-[0-9a-f]{16}$/);
  assert.notEqual(repoIdFromRemote('git@github.com:acme/other.git'), id);
});
