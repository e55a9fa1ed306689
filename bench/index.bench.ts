/**
 * Workspace index at scale, on a real package (typescript@5.6.3, files over the
 * size limit skipped), each figure against a baseline measured in the same run:
 *  - cold index throughput with the local embedder (MB/s, chunks/s) and the
 *    longest event-loop block while indexing;
 *  - hybrid search p50/p95 at ~10k and ~100k chunks vs a brute-force Float32Array
 *    scan of the same vectors (target p50 ≤ 1.25× the scan);
 *  - the dense vector path alone (what an embeddings endpoint's queries take: int8 codes,
 *    inverted lists above ANN_MIN_CHUNKS, float re-score) vs the four-sum scan, with its
 *    recall@10 against that exact scan (issue 16: ≤ 0.5× at ~100k, recall ≥ 0.95);
 *  - a saved file searchable again (index + search) at 100k vs one plain Vectra write;
 *  - index open time and memory added at 100k vs plain Vectra (protobuf).
 * 100k chunks: the corpus indexed several times as roots with different names.
 *
 * Each target gets one `TARGET … PASS|MISS` line; every figure is also written to
 * artifacts/bench/index.json. The event loop is watched two ways: the longest gap
 * between 1 ms timers, and perf_hooks' monitorEventLoopDelay (max).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { LocalIndex, ProtobufCodec } from 'vectra';
import { LocalHashEmbedder } from '../src/core/embed/localEmbedder';
import { ArchivalIndex } from '../src/core/index/archivalIndex';
import { denseDot } from '../src/core/index/chunkStore';
import { WorkspaceIndexer } from '../src/core/index/workspaceIndexer';
import { fetchPackage } from './benchCorpus';

const TARGET_CHUNKS = Number(process.env.BENCH_CHUNKS ?? 100_000);
const QUERIES = [
  'how does the checker resolve the type of a property access',
  'parse a template literal',
  'emit declaration files',
  'diagnostic message for unused variable',
  'module resolution node_modules lookup',
  'Promise resolve reject',
  'ReadonlyArray map filter',
  'how are source maps generated',
  'incremental build info file',
  'watch mode file changes',
  'compiler options strict null checks',
  'Intl DateTimeFormat options',
  'WeakRef FinalizationRegistry',
  'iterator helpers',
  'decorators metadata',
  'jsx factory pragma',
  'array flat depth',
  'string replaceAll',
  'error cause option',
  'BigInt literal',
  'symbol description',
  'async generator',
  'typed array sort',
  'object groupBy',
  'regular expression flags',
  'how is a tsconfig extends chain merged',
  'localized messages',
  'syntax kind of an arrow function',
  'union type narrowing',
  'enum member value',
];

const ms = (t0: number): number => performance.now() - t0;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mb = (b: number): string => (b / 1024 / 1024).toFixed(0);

interface LoopWatch {
  /** Longest gap between 1 ms timers. */
  maxBlockMs: number;
  /** Gaps longer than the 50 ms budget. */
  blocksOver50: number;
  /** perf_hooks monitorEventLoopDelay's max (its own 1 ms sampling timer). */
  histogramMaxMs: number;
  /**
   * Longest gap counting only the CPU time the main thread got during it (Linux:
   * /proc/thread-self/schedstat; elsewhere the whole process's CPU time, an upper
   * bound). On a shared machine a gap can be mostly time spent waiting for a core,
   * which no code of ours can shorten.
   */
  maxBlockCpuMs: number;
}

/** CPU milliseconds of the calling thread (Linux), or of the whole process. */
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

/** Runs `work` while watching how long the event loop is held. */
async function watchLoop<T>(work: () => Promise<T>): Promise<{ result: T } & LoopWatch> {
  const cpuMs = threadCpuMs;
  let last = performance.now();
  let lastCpu = cpuMs();
  let max = 0;
  let maxCpu = 0;
  let over = 0;
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    const cpu = cpuMs();
    max = Math.max(max, now - last);
    maxCpu = Math.max(maxCpu, Math.min(now - last, cpu - lastCpu));
    if (now - last > 50) over++;
    last = now;
    lastCpu = cpu;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const result = await work();
  histogram.disable();
  running = false;
  return { result, maxBlockMs: max, blocksOver50: over, histogramMaxMs: histogram.max / 1e6, maxBlockCpuMs: maxCpu };
}

const figures: Record<string, unknown> = {};
const targets: { name: string; value: number; limit: number; unit: string; pass: boolean }[] = [];

/** Prints one target line and records it. */
function target(name: string, value: number, limit: number, unit: string, detail = ''): void {
  const pass = value <= limit;
  targets.push({ name, value: Math.round(value * 100) / 100, limit, unit, pass });
  console.log(
    `TARGET ${name}: ${value.toFixed(unit === '×' ? 2 : 0)}${unit === '×' ? '×' : ' ' + unit} (target ≤ ${limit}${unit === '×' ? '×' : ' ' + unit}) ${pass ? 'PASS' : 'MISS'}${detail ? ` — ${detail}` : ''}`,
  );
}

/** The baseline kernel with four sums, as our dense path uses (a stricter baseline than the naive loop). Returns the k-th best score. */
function bruteForceScan4(matrix: Float32Array, dim: number, q: Float32Array, k: number): number {
  const n = matrix.length / dim;
  const best = new Float64Array(k).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const s = denseDot(q, matrix, i * dim, dim);
    if (s > best[k - 1]!) {
      let j = k - 1;
      while (j > 0 && best[j - 1]! < s) {
        best[j] = best[j - 1]!;
        j--;
      }
      best[j] = s;
    }
  }
  return best[k - 1]!;
}

function bruteForceScan(matrix: Float32Array, dim: number, q: Float32Array, k: number): number[] {
  const n = matrix.length / dim;
  const best: { i: number; s: number }[] = [];
  let min = -Infinity;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * dim;
    for (let d = 0; d < dim; d++) s += q[d]! * matrix[o + d]!;
    if (best.length < k || s > min) {
      best.push({ i, s });
      if (best.length > k) {
        best.sort((a, b) => b.s - a.s);
        best.length = k;
      }
      min = best.length < k ? -Infinity : best[best.length - 1]!.s;
    }
  }
  return best.map((b) => b.i);
}

interface Latencies {
  /** The product's search (the local embedder's sparse queries take the sparse path). */
  ours: number[];
  /** The same search with the sparse path off (the dense kernel an embeddings endpoint's queries take). */
  oursDense: number[];
  /** Brute-force scan of the same vectors (naive loop), query embedding included. */
  scan: number[];
  /** The same scan with the four-sum kernel of our dense path. */
  scan4: number[];
  /** The store's dense vector search alone (top 10, sparse path off), query embedding excluded. */
  vectorOnly: number[];
  /** The four-sum scan for the same top 10, query embedding excluded. */
  scanOnly: number[];
  /** Of vectorOnly's hits, those whose exact score reaches the scan's 10th best (ties are not penalised). */
  recallHits: number;
  recallOf: number;
}

async function searchLatency(index: ArchivalIndex, embedder: LocalHashEmbedder): Promise<Latencies> {
  const dim = embedder.dimensions;
  const n = index.store.count();
  const matrix = new Float32Array(n * dim);
  let row = 0;
  for (const { ref } of index.store.live()) matrix.set(index.store.vector(ref), row++ * dim);
  const out: Latencies = { ours: [], oursDense: [], scan: [], scan4: [], vectorOnly: [], scanOnly: [], recallHits: 0, recallOf: 0 };
  for (let round = 0; round < 3; round++) {
    for (const q of QUERIES) {
      let t = performance.now();
      await index.search(q);
      if (round > 0) out.ours.push(ms(t));
      index.store.sparseQueries = false;
      t = performance.now();
      await index.search(q);
      if (round > 0) out.oursDense.push(ms(t));
      index.store.sparseQueries = true;
      t = performance.now();
      bruteForceScan(matrix, dim, embedder.embedOne(q), 60);
      if (round > 0) out.scan.push(ms(t));
      t = performance.now();
      bruteForceScan4(matrix, dim, embedder.embedOne(q), 60);
      if (round > 0) out.scan4.push(ms(t));
      const qv = embedder.embedOne(q);
      index.store.sparseQueries = false;
      t = performance.now();
      const hits = index.store.vectorSearch(qv, 10);
      const vMs = ms(t);
      index.store.sparseQueries = true;
      t = performance.now();
      const tenth = bruteForceScan4(matrix, dim, qv, 10);
      const sMs = ms(t);
      if (round > 0) {
        out.vectorOnly.push(vMs);
        out.scanOnly.push(sMs);
        out.recallHits += hits.filter((h) => h.score >= tenth - 1e-6).length;
        out.recallOf += 10;
      }
    }
  }
  return out;
}

function report(key: string, chunks: number, lat: Latencies): void {
  const p = (xs: number[], q: number): number => Math.round(pct(xs, q) * 100) / 100;
  const row = {
    chunks,
    oursP50: p(lat.ours, 50),
    oursP95: p(lat.ours, 95),
    oursDenseP50: p(lat.oursDense, 50),
    oursDenseP95: p(lat.oursDense, 95),
    scanP50: p(lat.scan, 50),
    scanP95: p(lat.scan, 95),
    scan4P50: p(lat.scan4, 50),
    scan4P95: p(lat.scan4, 95),
    vectorOnlyP50: p(lat.vectorOnly, 50),
    vectorOnlyP95: p(lat.vectorOnly, 95),
    scanOnlyP50: p(lat.scanOnly, 50),
    vectorRecallAt10: lat.recallHits / Math.max(1, lat.recallOf),
  };
  figures[key] = row;
  console.log(
    `at ${chunks} chunks: hybrid search p50 ${row.oursP50.toFixed(1)} ms, p95 ${row.oursP95.toFixed(1)} ms | brute-force scan p50 ${row.scanP50.toFixed(1)} ms, p95 ${row.scanP95.toFixed(1)} ms`,
  );
  console.log(
    `  dense query path (as an embeddings endpoint's queries): p50 ${row.oursDenseP50.toFixed(1)} ms, p95 ${row.oursDenseP95.toFixed(1)} ms | ratio ${(row.oursDenseP50 / row.scanP50).toFixed(2)}× the scan, ${(row.oursDenseP50 / row.scan4P50).toFixed(2)}× a four-sum scan (p50 ${row.scan4P50.toFixed(1)} ms)`,
  );
  target(`search p50 at ${chunks} chunks vs brute-force scan`, row.oursP50 / row.scanP50, 1.25, '×');
  console.log(
    `  dense vector search alone (top 10, no embedding): p50 ${row.vectorOnlyP50.toFixed(1)} ms, p95 ${row.vectorOnlyP95.toFixed(1)} ms, recall@10 ${row.vectorRecallAt10.toFixed(3)} against the four-sum scan (p50 ${row.scanOnlyP50.toFixed(1)} ms)`,
  );
  if (chunks >= 50_000) {
    // issue 16: the dense path at ~100k; the ratio counts only if the answer is right
    const ratio = row.vectorOnlyP50 / row.scanOnlyP50;
    target(
      `dense vector search p50 at ${chunks} chunks vs four-sum scan (recall@10 ${row.vectorRecallAt10.toFixed(3)}, needs ≥ 0.95)`,
      row.vectorRecallAt10 >= 0.95 ? ratio : Infinity,
      0.5,
      '×',
    );
  }
}

/** Child process: open an index (ours or plain Vectra) and report time and memory added. */
async function child(kind: string, dir: string): Promise<void> {
  gc();
  const before = process.memoryUsage();
  const t = performance.now();
  if (kind === 'ours') {
    const index = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
    const openMs = ms(t);
    await index.search('parse a template literal');
    const firstSearchMs = ms(t) - openMs;
    gc();
    const after = process.memoryUsage();
    console.log(
      JSON.stringify({
        openMs,
        firstSearchMs,
        rss: after.rss - before.rss,
        heap: after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers,
        count: index.count(),
      }),
    );
  } else {
    const index = new LocalIndex(dir, 'index.pb', undefined, new ProtobufCodec());
    const stats = await index.getIndexStats();
    const openMs = ms(t);
    gc();
    const after = process.memoryUsage();
    console.log(
      JSON.stringify({
        openMs,
        rss: after.rss - before.rss,
        heap: after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers,
        count: stats.items,
      }),
    );
  }
}

function runChild(kind: string, dir: string): { openMs: number; rss: number; heap: number; count: number; firstSearchMs?: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', kind, dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** A plain Vectra protobuf index of `n` items with `dim` vectors, written directly (inserting is O(N²)). */
function writePlainVectra(dir: string, n: number, dim: number, vectors: Float32Array): void {
  const items = [];
  for (let i = 0; i < n; i++) {
    const vector = Array.from(vectors.subarray((i % (vectors.length / dim)) * dim, ((i % (vectors.length / dim)) + 1) * dim));
    items.push({ id: `c${i}`, metadata: { path: `copy/src/file${i % 5000}.ts`, startLine: i, endLine: i + 30 }, vector, norm: 1 });
  }
  writeFileSync(path.join(dir, 'index.pb'), new ProtobufCodec().serializeIndex({ version: 1, metadata_config: {}, items }));
}

async function plainVectraWriteMs(dir: string, dim: number): Promise<{ openMs: number; writeMs: number }> {
  const index = new LocalIndex(dir, 'index.pb', undefined, new ProtobufCodec());
  let t = performance.now();
  await index.getIndexStats();
  const openMs = ms(t);
  const vector = Array.from({ length: dim }, (_, i) => (i === 0 ? 1 : 0));
  t = performance.now();
  await index.upsertItem({ id: 'saved-file-chunk', vector, metadata: { path: 'src/saved.ts' } });
  return { openMs, writeMs: ms(t) };
}

async function main(): Promise<void> {
  const started = performance.now();
  const corpus = fetchPackage('typescript', '5.6.3');
  const work = mkdtempSync(path.join(os.tmpdir(), 'index-bench-'));
  const embedder = new LocalHashEmbedder();
  try {
    // 1. cold index of one copy; the workspace is a tree of copies c0, c1, … of the corpus
    const tree = path.join(work, 'tree');
    const copy = (i: number): void => execFileSync('cp', ['-r', corpus, path.join(tree, `c${i}`)]) && undefined;
    mkdirSync(tree);
    copy(0);
    const dir = path.join(work, 'ours');
    const archival = await ArchivalIndex.open({ dir, embedder });
    const indexer = new WorkspaceIndexer({ roots: [{ name: 'tree', path: tree }], archival });
    const t0 = performance.now();
    const cold = await watchLoop(() => indexer.indexAll());
    const run = cold.result;
    const coldMs = ms(t0);
    const chunksPerCopy = archival.count('workspace');
    const indexedBytes = sumIndexedBytes(tree, archival.indexedPaths());
    console.log(
      `corpus typescript@5.6.3 (files ≤ 1 MB): ${run.indexed} files, ${(indexedBytes / 1024 / 1024).toFixed(1)} MB, ${chunksPerCopy} chunks`,
    );
    const coldMBps = indexedBytes / 1024 / 1024 / (coldMs / 1000);
    figures.cold = {
      files: run.indexed,
      mb: indexedBytes / 1024 / 1024,
      chunks: chunksPerCopy,
      ms: coldMs,
      mbPerS: coldMBps,
      chunksPerS: chunksPerCopy / (coldMs / 1000),
      maxBlockMs: cold.maxBlockMs,
      blocksOver50: cold.blocksOver50,
      histogramMaxMs: cold.histogramMaxMs,
      maxBlockCpuMs: cold.maxBlockCpuMs,
    };
    console.log(`cold index (local embedder): ${coldMBps.toFixed(2)} MB/s, ${(chunksPerCopy / (coldMs / 1000)).toFixed(0)} chunks/s`);
    target(
      'longest event-loop block during the cold index',
      cold.maxBlockMs,
      50,
      'ms',
      `${cold.blocksOver50} gaps over 50 ms; monitorEventLoopDelay max ${cold.histogramMaxMs.toFixed(0)} ms; longest counting only the main thread's CPU time ${cold.maxBlockCpuMs.toFixed(0)} ms; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
    );

    // 2. grow to ~10k chunks, measure search; then to the target, measure again
    const copies = Math.ceil(TARGET_CHUNKS / chunksPerCopy);
    const copies10k = Math.max(1, Math.round(10_000 / chunksPerCopy));
    for (let c = 1; c < copies10k; c++) copy(c);
    const grow1 = await watchLoop(async () => {
      await indexer.indexAll();
      await archival.flush();
    });
    report('search10k', archival.count(), await searchLatency(archival, embedder));
    for (let c = copies10k; c < copies; c++) copy(c);
    const tg = performance.now();
    const grow2 = await watchLoop(async () => {
      await indexer.indexAll();
      await archival.flush();
    });
    const grownChunks = archival.count() - copies10k * chunksPerCopy;
    const growBlock = Math.max(grow1.maxBlockMs, grow2.maxBlockMs);
    figures.grow = {
      chunks: archival.count(),
      added: grownChunks,
      chunksPerS: grownChunks / (ms(tg) / 1000),
      maxBlockMs: growBlock,
      blocksOver50: grow1.blocksOver50 + grow2.blocksOver50,
      histogramMaxMs: Math.max(grow1.histogramMaxMs, grow2.histogramMaxMs),
      maxBlockCpuMs: Math.max(grow1.maxBlockCpuMs, grow2.maxBlockCpuMs),
    };
    console.log(
      `grown to ${archival.count()} chunks (${grownChunks} added at ${(grownChunks / (ms(tg) / 1000)).toFixed(0)} chunks/s, shards written in the background, flushes included)`,
    );
    target(
      `longest event-loop block while growing to ${archival.count()} chunks`,
      growBlock,
      50,
      'ms',
      `${grow1.blocksOver50 + grow2.blocksOver50} gaps over 50 ms; monitorEventLoopDelay max ${Math.max(grow1.histogramMaxMs, grow2.histogramMaxMs).toFixed(0)} ms; longest counting only the main thread's CPU time ${Math.max(grow1.maxBlockCpuMs, grow2.maxBlockCpuMs).toFixed(0)} ms; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
    );
    report('search100k', archival.count(), await searchLatency(archival, embedder));

    // 3. a saved file searchable again
    const saveIndexer = indexer;
    const savedFile = path.join(tree, 'c0', 'lib', 'lib.es2015.core.d.ts'); // 22 KB of code
    const original = readFileSync(savedFile, 'utf8');
    const saves: number[] = [];
    const saveSearches: number[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const marker = `zqxmarker${i}word`;
        appendFileSync(savedFile, `\ndeclare const ${marker}: number;\n`);
        const t = performance.now();
        const outcome = await saveIndexer.indexFile(savedFile);
        if (typeof outcome !== 'number') throw new Error(`saving ${savedFile}: ${outcome}`);
        saves.push(ms(t));
        const ts = performance.now();
        const r = await archival.search(marker, { pageSize: 1 });
        saveSearches.push(ms(ts));
        if (r.hits[0]?.path !== 'c0/lib/lib.es2015.core.d.ts')
          throw new Error(`saved marker ${marker} not found: ${JSON.stringify(r.hits[0])}`);
      }
    } finally {
      writeFileSync(savedFile, original);
    }
    await archival.close();

    // 4. open time and memory, ours vs plain Vectra, in fresh processes
    const vectraDir = path.join(work, 'vectra');
    mkdirSync(vectraDir);
    const n = archival.count();
    writePlainVectra(
      vectraDir,
      n,
      embedder.dimensions,
      (await embedder.embed(QUERIES.concat(QUERIES.map((q) => q + ' x')))).reduce(
        (acc, v, i) => (acc.set(v, i * embedder.dimensions), acc),
        new Float32Array(QUERIES.length * 2 * embedder.dimensions),
      ),
    );
    const vectraWrite = await plainVectraWriteMs(vectraDir, embedder.dimensions);
    const saveTotal = saves.map((t, i) => t + saveSearches[i]!);
    figures.save = {
      chunks: n,
      reindexP50: pct(saves, 50),
      reindexMax: Math.max(...saves),
      searchP50: pct(saveSearches, 50),
      totalP50: pct(saveTotal, 50),
      plainVectraWriteMs: vectraWrite.writeMs,
    };
    console.log(
      `saved file (22 KB) searchable again at ${n} chunks: re-indexed in p50 ${pct(saves, 50).toFixed(0)} ms, max ${Math.max(...saves).toFixed(0)} ms; the search that finds it: p50 ${pct(saveSearches, 50).toFixed(0)} ms | plain Vectra single write at ${n}: ${vectraWrite.writeMs.toFixed(0)} ms | ratio ${(vectraWrite.writeMs / pct(saves, 50)).toFixed(0)}× faster`,
    );
    target(`saved file searchable again at ${n} chunks (re-index + search, p50)`, pct(saveTotal, 50), 150, 'ms');
    const oursOpen = runChild('ours', dir);
    const vectraOpen = runChild('vectra', vectraDir);
    figures.open = {
      chunks: oursOpen.count,
      oursMs: oursOpen.openMs,
      firstSearchMs: oursOpen.firstSearchMs,
      plainVectraMs: vectraOpen.openMs,
    };
    figures.memory = {
      chunks: oursOpen.count,
      dimensions: embedder.dimensions,
      oursRssMB: oursOpen.rss / 1048576,
      oursHeapMB: oursOpen.heap / 1048576,
      plainVectraRssMB: vectraOpen.rss / 1048576,
      plainVectraHeapMB: vectraOpen.heap / 1048576,
    };
    console.log(
      `open at ${oursOpen.count} chunks: ours ${oursOpen.openMs.toFixed(0)} ms (+ first search ${oursOpen.firstSearchMs!.toFixed(0)} ms) vs plain Vectra protobuf ${vectraOpen.openMs.toFixed(0)} ms | ratio ${(vectraOpen.openMs / oursOpen.openMs).toFixed(1)}× faster`,
    );
    target(`index open at ${oursOpen.count} chunks`, oursOpen.openMs, 1500, 'ms');
    console.log(
      `memory added at ${oursOpen.count}×${embedder.dimensions}: ours rss +${mb(oursOpen.rss)} MB (heap+buffers +${mb(oursOpen.heap)} MB) vs plain Vectra rss +${mb(vectraOpen.rss)} MB (heap+buffers +${mb(vectraOpen.heap)} MB) (plain Vectra holds no chunk text here)`,
    );
    target(`memory added at ${oursOpen.count}×${embedder.dimensions} (rss)`, oursOpen.rss / 1048576, 400, 'MB');
    figures.totalSeconds = ms(started) / 1000;
    const passed = targets.filter((t) => t.pass).length;
    console.log(`targets: ${passed}/${targets.length} PASS; total bench time ${(ms(started) / 1000).toFixed(0)} s`);
    if (passed < targets.length) process.exitCode = 1;
    const artifacts = path.resolve(__dirname, '..', 'artifacts', 'bench');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(
      path.join(artifacts, 'index.json'),
      JSON.stringify(
        {
          bench: 'index',
          corpus: 'typescript@5.6.3',
          time: new Date().toISOString(),
          cpus: os.cpus().length,
          loadAverage: os.loadavg(),
          targets,
          figures,
        },
        null,
        2,
      ),
    );
    console.log(`figures written to ${path.relative(process.cwd(), path.join(artifacts, 'index.json'))}`);
  } finally {
    if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

function sumIndexedBytes(root: string, paths: string[]): number {
  return paths.reduce((s, p) => s + statSync(path.join(root, p)).size, 0);
}

if (process.argv[2] === '--child') void child(process.argv[3]!, process.argv[4]!);
else void main();
