/**
 * The team store (issue 18, item 5): publishing N chunks to PostgreSQL + pgvector, query p50/p95
 * against the local store at the same size, and the overlay's cost with 50 locally changed files,
 * with ratios against the local store measured in the same run.
 *
 *   npm run bench -- team                               N = 10,000 chunks (a few minutes on 2 cores)
 *   MEMGPT_BENCH_TEAM_CHUNKS=100000 npm run bench -- team   the full 100k (much longer: see below)
 *
 * The server is PGlite (PostgreSQL compiled to WebAssembly, one backend, no parallel index build)
 * behind pglite-socket in a child process: the same SQL as a real server, but several times
 * slower, so publish and query times here are upper bounds for a real PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ArchivalIndex, type FileChunk } from '../src/core/index/archivalIndex';
import { LocalHashEmbedder } from '../src/core/embed/localEmbedder';
import { archivalPublishSource } from '../src/core/team/archivalSource';
import { connectTeamStore, parseConnection } from '../src/core/team/connection';
import { OverlayArchivalStore } from '../src/core/team/overlayStore';
import { PgArchivalStore } from '../src/core/team/pgArchivalStore';
import { publishIndex } from '../src/core/team/publisher';

const N = Number(process.env.MEMGPT_BENCH_TEAM_CHUNKS ?? 10_000);
const CHUNKS_PER_FILE = 20;
const CHANGED_FILES = 50;
const QUERIES = 40;
const REPO = 'bench-repo';
const COMMIT = 'c'.repeat(40);

/** Deterministic pseudo-random numbers (the same corpus every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rand = rng(18);
const VERBS = [
  'parse',
  'render',
  'fetch',
  'merge',
  'index',
  'resolve',
  'validate',
  'encode',
  'flush',
  'schedule',
  'retry',
  'cache',
  'route',
  'sign',
  'compress',
];
const NOUNS = [
  'Request',
  'Token',
  'Shard',
  'Cookie',
  'Header',
  'Widget',
  'Invoice',
  'Session',
  'Journal',
  'Cursor',
  'Ledger',
  'Tensor',
  'Bucket',
  'Socket',
  'Schema',
];
const word = (list: readonly string[]): string => list[Math.floor(rand() * list.length)]!;

function chunkText(file: number, c: number, salt = ''): string {
  const lines: string[] = [];
  for (let l = 0; l < 12; l++) {
    const fn = `${word(VERBS)}${word(NOUNS)}${(file * 7 + c + l) % 97}`;
    lines.push(`export function ${fn}${salt}(input: ${word(NOUNS)}): ${word(NOUNS)} { return ${word(VERBS)}(input); }`);
  }
  return lines.join('\n');
}

function fileChunks(file: number, salt = ''): FileChunk[] {
  return Array.from({ length: CHUNKS_PER_FILE }, (_, c) => {
    const text = chunkText(file, c, salt);
    return {
      startLine: c * 12 + 1,
      endLine: c * 12 + 12,
      language: 'typescript',
      text,
      hash: createHash('sha1').update(text).digest('hex'),
    };
  });
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const f1 = (x: number): string => x.toFixed(1);

/**
 * p50/p95 of each search over the same queries, taken in turns query by query, so that a
 * warming server cache or a burst of load on the machine falls on every side alike.
 */
async function timeQueries(
  sides: readonly { label: string; search: (q: string) => Promise<unknown> }[],
  queries: string[],
): Promise<{ p50: number; p95: number }[]> {
  for (const side of sides) for (const q of queries.slice(0, 3)) await side.search(q); // warm caches and connections
  const ms = sides.map(() => [] as number[]);
  for (const q of queries) {
    for (let i = 0; i < sides.length; i++) {
      const t = performance.now();
      await sides[i]!.search(q);
      ms[i]!.push(performance.now() - t);
    }
  }
  return sides.map((side, i) => {
    const r = { p50: pct(ms[i]!, 0.5), p95: pct(ms[i]!, 0.95) };
    console.log(`${side.label.padEnd(34)} p50 ${f1(r.p50).padStart(7)} ms   p95 ${f1(r.p95).padStart(7)} ms`);
    return r;
  });
}

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'test', 'unit', 'team', 'pgliteServerMain.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('postgres://'));
      if (line) resolve(line.trim());
    });
    child.on('exit', (code) => reject(new Error(`the PGlite server exited (${code})`)));
  });
  return { url, stop: () => void child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  const files = Math.ceil(N / CHUNKS_PER_FILE);
  console.log(
    `team store: ${files * CHUNKS_PER_FILE} chunks in ${files} files, ${new LocalHashEmbedder().dimensions}-dim local embedder, PGlite server in a child process`,
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-team-'));
  const server = await startServer();
  try {
    // Baseline: the local store at the same size (what every laptop builds today).
    const local = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
    let t = performance.now();
    for (let f = 0; f < files; f++) {
      const chunks = fileChunks(f);
      await local.replaceFile(
        `src/mod${f}.ts`,
        createHash('sha1')
          .update(chunks.map((c) => c.text).join('\n'))
          .digest('hex'),
        chunks,
      );
    }
    await local.flush();
    const localBuildMs = performance.now() - t;
    console.log(`local index build (chunk+embed+store)  ${f1(localBuildMs / 1000)} s`);

    const connection = parseConnection(server.url);
    const client = await connectTeamStore(connection, { queryTimeoutMs: 0 });
    let phaseStart = performance.now();
    const phases: Record<string, number> = {};
    t = performance.now();
    const published = await publishIndex(client, connection, {
      repoId: REPO,
      commit: COMMIT,
      source: archivalPublishSource(local),
      onProgress: (p) => {
        if (p.phase === 'indexing' || p.phase === 'flipping' || p.phase === 'done') {
          const prev = p.phase === 'indexing' ? 'staging' : p.phase === 'flipping' ? 'indexing (HNSW + GIN)' : 'flip + cleanup';
          phases[prev] = performance.now() - phaseStart;
          phaseStart = performance.now();
        }
      },
    });
    const publishMs = performance.now() - t;
    // Which plan the server picks for the vector half: the HNSW graph, or a scan of every row.
    const [probe] = await local.embedder.embed(['parse request input']);
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT chunk_id FROM memgpt_chunks_${published.publishId} ORDER BY embedding <=> $1::vector LIMIT 60`,
      [`[${Array.from(probe!).join(',')}]`],
    );
    const usesHnsw = plan.rows.some((r) => /_hnsw/.test(r['QUERY PLAN']));
    await client.end();
    console.log(
      `vector query plan: ${usesHnsw ? 'HNSW index scan' : 'sequential scan (the planner finds the table too small for the graph)'}`,
    );
    console.log(
      `publish ${published.chunks} chunks               ${f1(publishMs / 1000)} s  (${Object.entries(phases)
        .map(([k, v]) => `${k} ${f1(v / 1000)} s`)
        .join(', ')})`,
    );
    console.log(
      `  = ${Math.round(published.chunks / (publishMs / 1000))} chunks/s; ratio publish / local build = ${(publishMs / localBuildMs).toFixed(2)}`,
    );

    const queries = Array.from({ length: QUERIES }, (_, i) =>
      i % 2 === 0 ? `${word(VERBS)} ${word(NOUNS).toLowerCase()} input` : `${word(VERBS)}${word(NOUNS)}${Math.floor(rand() * 97)}`,
    );
    // 50 files changed locally (uncommitted work): the overlay answers them from the local index.
    // The local store keeps the same 100% of the chunks (its 50 files changed in place).
    for (let f = 0; f < CHANGED_FILES; f++) {
      const chunks = fileChunks(f, 'Changed');
      await local.replaceFile(
        `src/mod${f}.ts`,
        createHash('sha1')
          .update(chunks.map((c) => c.text).join('\n'))
          .digest('hex'),
        chunks,
      );
    }
    const shared = await PgArchivalStore.open({ connection, repoId: REPO, commit: COMMIT, embedder: local.embedder, queryTimeoutMs: 0 });
    const overlay = new OverlayArchivalStore({
      local,
      openShared: () => PgArchivalStore.open({ connection, repoId: REPO, commit: COMMIT, embedder: local.embedder, queryTimeoutMs: 0 }),
    });
    const [l, s, o] = (await timeQueries(
      [
        { label: 'local store (in process)', search: (q) => local.search(q) },
        { label: 'shared store (PGlite server)', search: (q) => shared.search(q) },
        { label: `overlay, ${CHANGED_FILES} files changed locally`, search: (q) => overlay.search(q) },
      ],
      queries,
    )) as [{ p50: number; p95: number }, { p50: number; p95: number }, { p50: number; p95: number }];
    await shared.close();
    const check = await overlay.search('parseRequest input');
    const changedHits = check.hits.filter(
      (h) => /^src\/mod(\d+)\.ts$/.test(h.path ?? '') && Number(/\d+/.exec(h.path!)![0]) < CHANGED_FILES,
    );
    if (changedHits.some((h) => !h.text.includes('Changed'))) throw new Error('the overlay returned a published version of a changed file');
    await overlay.close();
    console.log(
      `ratios: shared/local p50 ${(s.p50 / l.p50).toFixed(2)}, p95 ${(s.p95 / l.p95).toFixed(2)}; ` +
        `overlay/shared p50 ${(o.p50 / s.p50).toFixed(2)} (overlay cost ${o.p50 >= s.p50 ? '+' : '-'}${f1(Math.abs(o.p50 - s.p50))} ms); overlay/local p50 ${(o.p50 / l.p50).toFixed(2)}`,
    );
    await local.close();
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
