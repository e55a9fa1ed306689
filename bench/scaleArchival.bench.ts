/**
 * Growth curve of archival memory (issue 20, items 2-4, archival half; issue 16's dense-path
 * target): builds the chunk store at 10k, 20k and 100k chunks (300k and 1M with MEMGPT_BENCH_SCALE)
 * through its real write path (journal, background shard writes with their int8 codes, and the
 * store-wide inverted lists trained and assigned in the background; the build time includes
 * them), and reports at each size:
 *   - open time and memory added, in a fresh process (rss, and heap + array buffers);
 *   - dense-query p50/p95 of the product's vector search (with the lists' measured probe count),
 *     and its recall@10 against the exact
 *     answer, beside the same-run baseline: a brute-force scan of the same Float32 vectors
 *     (four independent sums, the stricter of the two kernels bench/index.bench.ts uses), and
 *     the store's own exhaustive path (every vector scored);
 *   - save-to-searchable: one file's chunks written (journal append) and found by a search;
 *   - the longest event-loop block while the store grows (1 ms timers) and during the searches.
 *
 * The vectors are synthetic: 384-dimensional unit vectors around topic centres (cosine ~0.7 to
 * their centre), the shape of text embeddings, because no embedding model is available offline
 * here (the local hashing embedder gives sparse vectors that take another path). Queries are
 * members perturbed by noise, never members themselves. No constant of the store was chosen
 * from these figures. recall@10 counts a hit as right when its exact score reaches the exact
 * 10th-best score (ties are not penalised).
 *
 *   npm run bench -- scale                               10k, 20k and 100k (MEMGPT_BENCH_SCALE defaults to 100000)
 *   MEMGPT_BENCH_SCALE=1000000 npm run bench -- scale    300k and 1M as well (1M: ~1.5 GB for the baseline's floats)
 *
 * TARGET lines (a MISS makes the bench exit non-zero): issue 16, dense p50 ≤ 0.5× the brute-force
 * scan at ~100k with recall@10 ≥ 0.95; issue 20's 1M targets (open ≤ 2 s, memory added ≤ 600 MB,
 * dense p50 ≤ 30 ms with recall@10 ≥ 0.95, save-to-searchable ≤ 150 ms, no loop block over 50 ms),
 * evaluated at the largest size run and labelled with it when that is not 1M.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChunkStore, denseDot, type NewChunk } from '../src/core/index/chunkStore';

const SIZES = process.env.MEMGPT_BENCH_ARCHIVAL_SIZES
  ? process.env.MEMGPT_BENCH_ARCHIVAL_SIZES.split(',').map(Number)
  : [10_000, 20_000, 100_000, 300_000, 1_000_000];
const CAP = Number(process.env.MEMGPT_BENCH_SCALE ?? 100_000);
const DIM = 384;
const TOPICS_PER_CHUNK = 1 / 40; // a topic per ~40 chunks: a workspace has many subjects, each in a few files
const QUERIES = 60;
const K = 10;
const BATCH = 2048;
const EMBEDDER_ID = 'synthetic-384';

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const ms = (t0: number): number => performance.now() - t0;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gaussian = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
function normalizeInto(v: Float32Array, at: number): void {
  let n = 0;
  for (let d = 0; d < DIM; d++) n += v[at + d]! * v[at + d]!;
  n = Math.sqrt(n);
  for (let d = 0; d < DIM; d++) v[at + d]! /= n;
}

/** n unit vectors around n·TOPICS_PER_CHUNK topic centres, row-major. */
function corpus(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const topics = Math.max(1, Math.round(n * TOPICS_PER_CHUNK));
  const centres = new Float32Array(topics * DIM);
  for (let i = 0; i < centres.length; i++) centres[i] = gaussian(r);
  for (let c = 0; c < topics; c++) normalizeInto(centres, c * DIM);
  const out = new Float32Array(n * DIM);
  const noise = new Float32Array(DIM);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * topics);
    for (let d = 0; d < DIM; d++) noise[d] = gaussian(r);
    normalizeInto(noise, 0);
    for (let d = 0; d < DIM; d++) out[i * DIM + d] = centres[c * DIM + d]! + noise[d]!;
    normalizeInto(out, i * DIM);
  }
  return out;
}

function chunk(i: number, vectors: Float32Array, idPrefix = 'c'): NewChunk {
  return {
    record: {
      id: `${idPrefix}${i}`,
      source: 'workspace',
      path: `src/dir${i % 97}/file${Math.floor(i / 8)}.ts`,
      startLine: (i % 8) * 40 + 1,
      endLine: (i % 8) * 40 + 40,
      language: 'typescript',
      hash: `h${i}`,
      fileHash: `f${Math.floor(i / 8)}`,
      time: '2026-12-01T00:00:00.000Z',
    },
    text: `export function handler${i}(request) { return route${i % 311}(request.params, options${i % 53}); }`,
    vector: vectors.subarray(i * DIM, (i + 1) * DIM),
  };
}

/** CPU milliseconds of the calling thread (Linux), or of the whole process (an upper bound). */
const threadCpuMs: () => number = (() => {
  try {
    readFileSync('/proc/thread-self/schedstat', 'utf8');
    return () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return () => {
      const c = process.cpuUsage();
      return (c.user + c.system) / 1000;
    };
  }
})();

/**
 * Runs `work` while a 1 ms timer watches the event loop: the longest gap between ticks, and the
 * longest counting only the CPU time the main thread got during it (on a shared machine a gap
 * can be mostly time spent waiting for a core, which no code of ours can shorten).
 */
async function watchLoop<T>(work: () => Promise<T>): Promise<{ result: T; maxBlockMs: number; maxBlockCpuMs: number; over50: number }> {
  let max = 0;
  let maxCpu = 0;
  let over = 0;
  let last = performance.now();
  let lastCpu = threadCpuMs();
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    const cpu = threadCpuMs();
    max = Math.max(max, now - last);
    maxCpu = Math.max(maxCpu, Math.min(now - last, cpu - lastCpu));
    if (now - last > 50) over++;
    last = now;
    lastCpu = cpu;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  const result = await work();
  running = false;
  return { result, maxBlockMs: max, maxBlockCpuMs: maxCpu, over50: over };
}

/** The baseline: every vector scored with four independent sums, top k kept in a sorted array. */
function bruteForce(matrix: Float32Array, q: Float32Array, k: number): { rows: number[]; scores: number[] } {
  const n = matrix.length / DIM;
  const best = new Float64Array(k).fill(-Infinity);
  const rows = new Int32Array(k).fill(-1);
  for (let i = 0; i < n; i++) {
    const s = denseDot(q, matrix, i * DIM, DIM);
    if (s > best[k - 1]!) {
      let j = k - 1;
      while (j > 0 && best[j - 1]! < s) {
        best[j] = best[j - 1]!;
        rows[j] = rows[j - 1]!;
        j--;
      }
      best[j] = s;
      rows[j] = i;
    }
  }
  return { rows: [...rows], scores: [...best] };
}

interface Row {
  n: number;
  buildS: number;
  buildBlockMs: number;
  buildBlockCpuMs: number;
  buildOver50: number;
  openMs: number;
  rssMb: number;
  heapMb: number;
  firstSearchMs: number;
  denseP50: number;
  denseP95: number;
  recall: number;
  scannedFraction: number;
  exhaustiveP50: number;
  bruteP50: number;
  bruteP95: number;
  saveP50: number;
  searchBlockMs: number;
  lists: string;
}

/** Child process: opens the store and reports time and memory added. */
async function child(dir: string): Promise<void> {
  gc();
  const before = process.memoryUsage();
  const t = performance.now();
  const store = await ChunkStore.open({ dir, embedderId: EMBEDDER_ID, dimensions: DIM });
  const openMs = ms(t);
  const q = corpus(1, 99);
  const t2 = performance.now();
  store.vectorSearch(q, K);
  const firstSearchMs = ms(t2);
  gc();
  const after = process.memoryUsage();
  console.log(
    JSON.stringify({
      openMs,
      firstSearchMs,
      rss: after.rss - before.rss,
      heap: after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers,
      count: store.count(),
    }),
  );
  await store.close();
}

async function measure(n: number): Promise<Row> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'archival-scale-'));
  try {
    const vectors = corpus(n, n);
    const store = await ChunkStore.open({ dir, embedderId: EMBEDDER_ID, dimensions: DIM });
    const tb = performance.now();
    const build = await watchLoop(async () => {
      for (let at = 0; at < n; at += BATCH) {
        const batch: NewChunk[] = [];
        for (let i = at; i < Math.min(n, at + BATCH); i++) batch.push(chunk(i, vectors));
        await store.add(batch);
      }
      await store.flush();
      await store.idle();
    });
    const buildS = ms(tb) / 1000;
    const lists = store.listsInfo;

    // queries: members perturbed by as much noise again, normalised
    const r = rng(7 * n + 1);
    const queries: Float32Array[] = [];
    for (let j = 0; j < QUERIES; j++) {
      const base = Math.floor(r() * n);
      const q = new Float32Array(DIM);
      for (let d = 0; d < DIM; d++) q[d] = vectors[base * DIM + d]! + 0.6 * (gaussian(r) / Math.sqrt(DIM));
      normalizeInto(q, 0);
      queries.push(q);
    }
    const dense: number[] = [];
    const exhaustive: number[] = [];
    const brute: number[] = [];
    let right = 0;
    let scanned = 0;
    await (async () => {
      for (let round = 0; round < 2; round++) {
        for (const q of queries) {
          let t = performance.now();
          const hits = store.vectorSearch(q, K);
          const dMs = ms(t);
          const sc = store.lastVectorScan.scored / Math.max(1, store.lastVectorScan.live);
          store.approximateQueries = false;
          t = performance.now();
          store.vectorSearch(q, K);
          const eMs = ms(t);
          store.approximateQueries = true;
          t = performance.now();
          const exact = bruteForce(vectors, q, K);
          const bMs = ms(t);
          if (round === 0) continue; // warm-up
          dense.push(dMs);
          exhaustive.push(eMs);
          brute.push(bMs);
          scanned += sc;
          if (hits.length !== K) throw new Error(`the search returned ${hits.length} hits, expected ${K}`);
          const tenth = exact.scores[K - 1]!;
          right += hits.filter((h) => h.score >= tenth - 1e-6).length;
        }
      }
    })();
    const recall = right / (QUERIES * K);

    // save to searchable: a file's 8 chunks (new vectors) written, then found by a search for one of them
    const saves: number[] = [];
    const fresh = corpus(8 * 10, n + 5);
    for (let s = 0; s < 10; s++) {
      const t = performance.now();
      const file = Array.from({ length: 8 }, (_, j) => chunk(s * 8 + j, fresh, `saved${s}-`));
      await store.replace([], file);
      const hits = store.vectorSearch(file[3]!.vector, K);
      saves.push(ms(t));
      if (store.record(hits[0]!).id !== file[3]!.record.id)
        throw new Error(`a saved chunk was not found first: ${store.record(hits[0]!).id}`);
    }
    await store.close();

    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    const opened = JSON.parse(out.trim().split('\n').pop()!) as {
      openMs: number;
      firstSearchMs: number;
      rss: number;
      heap: number;
      count: number;
    };
    if (opened.count !== n + 80) throw new Error(`reopened with ${opened.count} chunks, expected ${n + 80}`);
    return {
      n,
      buildS,
      buildBlockMs: build.maxBlockMs,
      buildBlockCpuMs: build.maxBlockCpuMs,
      buildOver50: build.over50,
      openMs: opened.openMs,
      rssMb: opened.rss / 1048576,
      heapMb: opened.heap / 1048576,
      firstSearchMs: opened.firstSearchMs,
      denseP50: pct(dense, 0.5),
      denseP95: pct(dense, 0.95),
      recall,
      scannedFraction: scanned / QUERIES,
      exhaustiveP50: pct(exhaustive, 0.5),
      bruteP50: pct(brute, 0.5),
      bruteP95: pct(brute, 0.95),
      saveP50: pct(saves, 0.5),
      // a vector search is one synchronous call: its longest run is the longest block it causes
      searchBlockMs: Math.max(...dense),
      lists: lists ? `${lists.probes} of ${lists.lists} lists${lists.used ? '' : ' (not used: scanned whole)'}` : 'none (exact scan)',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizes = SIZES.filter((n) => n <= CAP);
  console.log(
    `archival at ${sizes.map((n) => n.toLocaleString()).join(', ')} chunks × ${DIM} dimensions (MEMGPT_BENCH_SCALE=${CAP.toLocaleString()}); load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
  );
  const rows: Row[] = [];
  for (const n of sizes) {
    const r = await measure(n);
    rows.push(r);
    console.log(
      `\n--- ${n.toLocaleString()} chunks: built in ${r.buildS.toFixed(1)} s (longest loop block ${r.buildBlockMs.toFixed(0)} ms, ${r.buildBlockCpuMs.toFixed(0)} ms of it on the CPU; ${r.buildOver50} gaps over 50 ms); open ${r.openMs.toFixed(0)} ms (+ first search ${r.firstSearchMs.toFixed(1)} ms), memory added rss ${r.rssMb.toFixed(0)} MB, heap + buffers ${r.heapMb.toFixed(0)} MB`,
    );
    console.log(
      `dense query (${r.lists}): p50 ${r.denseP50.toFixed(1)} ms, p95 ${r.denseP95.toFixed(1)} ms, recall@10 ${r.recall.toFixed(3)} against exact, ${(r.scannedFraction * 100).toFixed(0)}% of the vectors scored | exhaustive (every int8 code, float re-score) p50 ${r.exhaustiveP50.toFixed(1)} ms | brute-force float scan p50 ${r.bruteP50.toFixed(1)} ms, p95 ${r.bruteP95.toFixed(1)} ms | ratio ${(r.denseP50 / r.bruteP50).toFixed(2)}×`,
    );
    console.log(
      `save to searchable (8 chunks, journal append, then the search that finds one) p50 ${r.saveP50.toFixed(1)} ms; longest search (one synchronous call: its loop block) ${r.searchBlockMs.toFixed(0)} ms; load average ${os.loadavg()[0]!.toFixed(1)}`,
    );
  }
  console.log(
    '\n     chunks   open ms   rss MB   heap MB   dense p50/p95 ms   recall@10   scanned   brute p50 ms   ratio   save ms   block ms (build/search)',
  );
  for (const r of rows) {
    console.log(
      `${r.n.toLocaleString().padStart(11)} ${r.openMs.toFixed(0).padStart(9)} ${r.rssMb.toFixed(0).padStart(8)} ${r.heapMb.toFixed(0).padStart(9)} ${`${r.denseP50.toFixed(1)}/${r.denseP95.toFixed(1)}`.padStart(18)} ${r.recall.toFixed(3).padStart(11)} ${`${(r.scannedFraction * 100).toFixed(0)}%`.padStart(9)} ${r.bruteP50.toFixed(1).padStart(14)} ${`${(r.denseP50 / r.bruteP50).toFixed(2)}×`.padStart(7)} ${r.saveP50.toFixed(1).padStart(9)} ${`${r.buildBlockMs.toFixed(0)}/${r.searchBlockMs.toFixed(0)}`.padStart(12)}`,
    );
  }

  let misses = 0;
  const target = (name: string, pass: boolean, detail: string): void => {
    if (!pass) misses++;
    console.log(`TARGET archival ${name}: ${detail} ${pass ? 'PASS' : 'MISS'}`);
  };
  // issue 16: the dense path at ~100k against the same-run brute-force scan, recall unchanged
  const near100k = rows.find((r) => r.n === 100_000) ?? rows[rows.length - 1]!;
  target(
    `dense p50 at ${near100k.n.toLocaleString()} vs brute-force scan`,
    near100k.denseP50 / near100k.bruteP50 <= 0.5 && near100k.recall >= 0.95,
    `${(near100k.denseP50 / near100k.bruteP50).toFixed(2)}× (≤ 0.5×) with recall@10 ${near100k.recall.toFixed(3)} (≥ 0.95)`,
  );
  // issue 20: the 1M targets, at the largest size run
  const top = rows[rows.length - 1]!;
  const at = top.n === 1_000_000 ? 'at 1M' : `at ${top.n.toLocaleString()} (1M not run: the default run is smaller; targets are for 1M)`;
  target(`open ${at}`, top.openMs <= 2000, `${top.openMs.toFixed(0)} ms (≤ 2000 ms)`);
  target(`memory added ${at}`, top.rssMb <= 600, `rss +${top.rssMb.toFixed(0)} MB (≤ 600 MB)`);
  target(
    `dense p50 ${at}`,
    top.denseP50 <= 30 && top.recall >= 0.95,
    `${top.denseP50.toFixed(1)} ms (≤ 30 ms) with recall@10 ${top.recall.toFixed(3)} (≥ 0.95)`,
  );
  target(`save to searchable ${at}`, top.saveP50 <= 150, `p50 ${top.saveP50.toFixed(1)} ms (≤ 150 ms)`);
  const block = Math.max(...rows.map((r) => Math.max(r.buildBlockMs, r.searchBlockMs)));
  const blockCpu = Math.max(...rows.map((r) => Math.max(r.buildBlockCpuMs, r.searchBlockMs)));
  target(
    `longest loop block up to ${top.n.toLocaleString()}`,
    block <= 50,
    `${block.toFixed(0)} ms (≤ 50 ms; counting only the main thread's CPU time ${blockCpu.toFixed(0)} ms; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)`,
  );
  if (misses > 0) process.exitCode = 1;
}

if (process.argv[2] === '--child') void child(process.argv[3]!);
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
