/**
 * The team store (issue 18, item 5): publishing N chunks to PostgreSQL + pgvector, query p50/p95
 * against the local store at the same size, and the overlay's cost with 50 locally changed files,
 * with ratios against the local store measured in the same run. Then a laptop's index pass over
 * the same files on disk with the shared index in reach (only the 50 changed files are indexed
 * here) against the same pass without it. Every timed search is also checked for its answer (the
 * first page of an identifier query holds a chunk defining it); a wrong answer is a MISS and the
 * bench exits non-zero. Before the local changes, both stores answer the identifier queries on the
 * same corpus, untimed: the shared store answering fewer than the local store is a MISS too.
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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ArchivalIndex, type FileChunk } from '../src/core/index/archivalIndex';
import { LocalHashEmbedder } from '../src/core/embed/localEmbedder';
import { archivalPublishSource } from '../src/core/team/archivalSource';
import { connectTeamStore, parseConnection } from '../src/core/team/connection';
import { OverlayArchivalStore } from '../src/core/team/overlayStore';
import { PgArchivalStore } from '../src/core/team/pgArchivalStore';
import { publishIndex } from '../src/core/team/publisher';
import { WorkspaceIndexer } from '../src/core/index/workspaceIndexer';
import type { ArchivalSearchResult } from '../src/core/interfaces/archivalStore';

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
const word = (list: readonly string[], r: () => number = rand): string => list[Math.floor(r() * list.length)]!;

/** A chunk's function names, the same every time it is asked for (the files on disk must equal what was published). */
function chunkNames(file: number, c: number): string[] {
  const r = rng((file + 1) * 7919 + c);
  return Array.from({ length: 12 }, (_, l) => `${word(VERBS, r)}${word(NOUNS, r)}${(file * 7 + c + l) % 97}`);
}

function chunkText(file: number, c: number, salt = ''): string {
  const r = rng((file + 1) * 104729 + c);
  return chunkNames(file, c)
    .map((fn) => `export function ${fn}${salt}(input: ${word(NOUNS, r)}): ${word(NOUNS, r)} { return ${word(VERBS, r)}(input); }`)
    .join('\n');
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
  sides: readonly { label: string; search: (q: string) => Promise<ArchivalSearchResult> }[],
  queries: string[],
): Promise<{ p50: number; p95: number }[]> {
  for (const side of sides) for (const q of queries.slice(0, 3)) await side.search(q); // warm caches and connections
  const ms = sides.map(() => [] as number[]);
  const wrong = sides.map(() => 0);
  const checked = queries.filter(isIdentifier).length;
  for (const q of queries) {
    for (let i = 0; i < sides.length; i++) {
      const t = performance.now();
      const r = await sides[i]!.search(q);
      ms[i]!.push(performance.now() - t);
      // Right when the first page (what the agent reads) holds a chunk defining the name.
      if (isIdentifier(q) && !r.hits.some((h) => h.text.includes(`function ${q}`))) wrong[i]!++;
    }
  }
  return sides.map((side, i) => {
    const r = { p50: pct(ms[i]!, 0.5), p95: pct(ms[i]!, 0.95) };
    const answer = wrong[i] === 0 ? `answers ${checked}/${checked} PASS` : `answers ${checked - wrong[i]!}/${checked} MISS`;
    if (wrong[i]! > 0) misses++;
    console.log(`${side.label.padEnd(44)} p50 ${f1(r.p50).padStart(7)} ms   p95 ${f1(r.p95).padStart(7)} ms   ${answer}`);
    return r;
  });
}

/** Queries written as one identifier: their right answer is a chunk that holds it. */
const isIdentifier = (q: string): boolean => /^[a-z]+[A-Z][A-Za-z]+\d+$/.test(q);
let misses = 0;

/** The corpus as files on disk, byte for byte what was indexed (so content hashes match the publish). */
function writeCorpus(root: string, files: number, changed: number): void {
  for (let f = 0; f < files; f++) {
    const text = fileChunks(f, f < changed ? 'Changed' : '')
      .map((c) => c.text)
      .join('\n');
    const dir = path.join(root, 'src');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `mod${f}.ts`), text);
  }
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
          const prev = p.phase === 'indexing' ? 'staging' : p.phase === 'flipping' ? 'indexing (HNSW, postings)' : 'flip + cleanup';
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

    // Half in words, half a function name that exists in the corpus (its answer: a chunk defining it).
    const queries = Array.from({ length: QUERIES }, (_, i) =>
      i % 2 === 0
        ? `${word(VERBS)} ${word(NOUNS).toLowerCase()} input`
        : chunkNames(Math.floor(rand() * files), Math.floor(rand() * CHUNKS_PER_FILE))[Math.floor(rand() * 12)]!,
    );
    const shared = await PgArchivalStore.open({ connection, repoId: REPO, commit: COMMIT, embedder: local.embedder, queryTimeoutMs: 0 });
    // The two stores on the same corpus (the published one), before any local change: does the
    // shared store answer as the local store does? Untimed; every identifier query counts.
    {
      const verdicts: [boolean, boolean][] = [];
      for (const q of queries.filter(isIdentifier)) {
        const right = (r: ArchivalSearchResult): boolean => r.hits.some((h) => h.text.includes(`function ${q}(`));
        verdicts.push([right(await local.search(q)), right(await shared.search(q))]);
      }
      const n = verdicts.length;
      const localRight = verdicts.filter(([l]) => l).length;
      const sharedRight = verdicts.filter(([, r]) => r).length;
      const agree = verdicts.filter(([l, r]) => l === r).length;
      // The shared store must answer at least as often as the local store on the same corpus.
      const verdict = sharedRight >= localRight ? 'PASS' : 'MISS';
      if (verdict === 'MISS') misses++;
      console.log(
        `same corpus, first page: local ${localRight}/${n}, shared ${sharedRight}/${n} right; same verdict on ${agree}/${n}   shared >= local ${verdict}`,
      );
    }
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
    const overlay = new OverlayArchivalStore({
      local,
      openShared: () => PgArchivalStore.open({ connection, repoId: REPO, commit: COMMIT, embedder: local.embedder, queryTimeoutMs: 0 }),
    });
    // Baseline for the lexical half: the same store reading every posting of every query term.
    const whole = await PgArchivalStore.open({
      connection,
      repoId: REPO,
      commit: COMMIT,
      embedder: local.embedder,
      queryTimeoutMs: 0,
      impactFirstRead: Number.MAX_SAFE_INTEGER,
    });
    const [l, s, o, w] = (await timeQueries(
      [
        { label: `local store (in process, ${CHANGED_FILES} files changed)`, search: (q) => local.search(q) },
        { label: 'shared store (PGlite server)', search: (q) => shared.search(q) },
        { label: `overlay, ${CHANGED_FILES} files changed locally`, search: (q) => overlay.search(q) },
        { label: 'shared store, every posting read (baseline)', search: (q) => whole.search(q) },
      ],
      queries,
    )) as [{ p50: number; p95: number }, { p50: number; p95: number }, { p50: number; p95: number }, { p50: number; p95: number }];
    // The lexical half alone, best postings first against every posting, and the same answer from both.
    {
      const pruned: number[] = [];
      const all: number[] = [];
      const rounds = new Map<string, number>();
      let differ = 0;
      for (const q of queries) {
        let t = performance.now();
        const a = (await shared.candidates({ query: q, k: 25 })).lexical;
        pruned.push(performance.now() - t);
        const trace = shared.lastLexical;
        const key = trace ? (trace.method === 'impact' ? `best-first in ${trace.rounds} round(s)` : trace.method) : 'no terms';
        rounds.set(key, (rounds.get(key) ?? 0) + 1);
        t = performance.now();
        const b = (await whole.candidates({ query: q, k: 25 })).lexical;
        all.push(performance.now() - t);
        if (a.map((c) => c.id).join() !== b.map((c) => c.id).join()) differ++;
      }
      const verdict = differ === 0 ? 'PASS' : 'MISS';
      if (differ > 0) misses++;
      console.log(
        `lexical half, top 25: best postings first p50 ${f1(pct(pruned, 0.5))} ms p95 ${f1(pct(pruned, 0.95))} ms; ` +
          `every posting p50 ${f1(pct(all, 0.5))} ms p95 ${f1(pct(all, 0.95))} ms; ratio p50 ${(pct(pruned, 0.5) / pct(all, 0.5)).toFixed(2)}; ` +
          `same answers ${queries.length - differ}/${queries.length} ${verdict}`,
      );
      console.log(`  how: ${[...rounds].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    }
    console.log(`  shared / shared reading every posting p50 ${(s.p50 / w.p50).toFixed(2)}`);
    await whole.close();
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

    // A laptop's index pass over the same files on disk, 50 of them changed: with the shared index
    // in reach (only what differs is chunked and embedded here) and without it (everything is).
    const ws = path.join(dir, 'laptop');
    writeCorpus(ws, files, CHANGED_FILES);
    const laptops: { label: string; run: Awaited<ReturnType<WorkspaceIndexer['indexAll']>>; chunks: number }[] = [];
    let laptopOverlay: OverlayArchivalStore | undefined;
    let withShared: ArchivalIndex | undefined;
    for (const shared of [true, false]) {
      const archival = await ArchivalIndex.open({
        dir: path.join(dir, shared ? 'laptop-shared' : 'laptop-alone'),
        embedder: new LocalHashEmbedder(),
      });
      const late: { indexer?: WorkspaceIndexer } = {};
      const overlayHere = shared
        ? new OverlayArchivalStore({
            local: archival,
            openShared: () =>
              PgArchivalStore.open({ connection, repoId: REPO, commit: COMMIT, embedder: archival.embedder, queryTimeoutMs: 0 }),
            covered: {
              all: () => late.indexer!.sharedFiles(),
              hashOf: (p) => late.indexer!.sharedHashOf(p),
              count: () => late.indexer!.sharedCount(),
            },
          })
        : undefined;
      const indexer = (late.indexer = new WorkspaceIndexer({
        roots: [{ name: 'ws', path: ws }],
        archival,
        ...(overlayHere ? { published: overlayHere } : {}),
      }));
      const run = await indexer.indexAll();
      await archival.flush();
      laptops.push({
        label: shared ? 'laptop pass, shared index in reach' : 'laptop pass, local only',
        run,
        chunks: archival.count('workspace'),
      });
      await indexer.dispose();
      if (shared) {
        laptopOverlay = overlayHere;
        withShared = archival;
      } else await archival.close();
    }
    for (const l of laptops) {
      console.log(
        `${l.label.padEnd(36)} ${f1(l.run.ms / 1000).padStart(6)} s   files indexed ${l.run.indexed}, left to the shared index ${l.run.shared}, chunks here ${l.chunks}`,
      );
    }
    const [withIt, without] = laptops as [(typeof laptops)[0], (typeof laptops)[0]];
    const rightCounts =
      withIt.run.indexed === CHANGED_FILES && withIt.run.shared === files - CHANGED_FILES && without.run.indexed === files;
    if (!rightCounts) misses++;
    console.log(
      `  = ${withIt.run.indexed} of ${without.run.indexed} files and ${withIt.chunks} of ${without.chunks} chunks indexed here (${((100 * withIt.chunks) / Math.max(1, without.chunks)).toFixed(1)}%); ` +
        `pass time ratio ${(withIt.run.ms / Math.max(1, without.run.ms)).toFixed(3)}; counts ${rightCounts ? 'PASS' : 'MISS'}`,
    );
    // Searching that laptop: the publish for the untouched files, the local index for the 50 changed ones.
    const [lo] = (await timeQueries(
      [{ label: `overlay on that laptop's index (${withIt.chunks} chunks here)`, search: (q) => laptopOverlay!.search(q) }],
      queries,
    )) as [{ p50: number; p95: number }];
    const check2 = await laptopOverlay!.search('parseRequest input');
    if (
      check2.hits.some(
        (h) => Number(/mod(\d+)\.ts$/.exec(h.path ?? '')?.[1] ?? CHANGED_FILES) < CHANGED_FILES && !h.text.includes('Changed'),
      )
    ) {
      throw new Error('the laptop overlay returned a published version of a changed file');
    }
    console.log(`  laptop overlay / shared p50 ${(lo.p50 / s.p50).toFixed(2)}`);
    await laptopOverlay!.close();
    await withShared!.close();
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().then(
  () => {
    if (misses > 0) {
      console.log(`${misses} MISS: a search gave a wrong answer or the laptop indexed the wrong files`);
      process.exit(1);
    }
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
