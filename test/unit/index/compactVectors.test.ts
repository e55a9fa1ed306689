import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { ChunkStore, denseDot, type NewChunk } from '../../../src/core/index/chunkStore';
import { TimeSlice } from '../../../src/core/index/slice';
import { codeDot, queryCodes, quantizeRows, sparseCodeDot } from '../../../src/core/index/vectorCodes';
import {
  assignShard,
  calibrateProbes,
  listCountFor,
  groupByList,
  probeOrder,
  readCoarseLists,
  trainCoarseLists,
  writeCoarseLists,
  type CodeRows,
} from '../../../src/core/index/coarseLists';
import { compactVectors, readAllShardFloats, readShardCache, toRow } from '../../../src/core/index/shardFiles';
import {
  ANN_MIN_CHUNKS,
  IVF_KMEANS_ITERATIONS,
  IVF_KMEANS_SAMPLE,
  IVF_MAX_PROBE_FRACTION,
  SHARD_MAX_CHUNKS,
} from '../../../src/core/limits';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'compact-vectors-'));

/** A seeded generator: the same data on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let d = 0; d < v.length; d++) v[d]! /= n;
  return v;
}
function randomUnit(r: () => number, dim: number): Float32Array {
  return normalize(Float32Array.from({ length: dim }, () => gaussian(r)));
}

/**
 * Unit vectors around `topics` random centres, each at cosine ~0.7 from its centre (the shape of
 * text embeddings: topics, and spread within a topic). `topics` 0: uniform on the sphere.
 */
function dataset(seed: number, n: number, dim: number, topics: number): Float32Array[] {
  const r = rng(seed);
  const centres = Array.from({ length: topics }, () => randomUnit(r, dim));
  return Array.from({ length: n }, () => {
    if (topics === 0) return randomUnit(r, dim);
    const c = centres[Math.floor(r() * topics)]!;
    const noise = randomUnit(r, dim);
    return normalize(Float32Array.from(c, (x, d) => x + noise[d]!));
  });
}

function chunk(i: number, vector: Float32Array): NewChunk {
  return {
    record: {
      id: `c${i}`,
      source: 'workspace',
      path: `src/f${i % 500}.ts`,
      startLine: i,
      endLine: i + 10,
      language: 'typescript',
      hash: `h${i}`,
      fileHash: `fh${i % 500}`,
      time: '2026-01-01T00:00:00.000Z',
    },
    text: `chunk number ${i} topic ${i % 37}`,
    vector,
  };
}

async function filledStore(dir: string, vectors: Float32Array[]): Promise<ChunkStore> {
  const store = await ChunkStore.open({ dir, embedderId: 'test', dimensions: vectors[0]!.length });
  for (let at = 0; at < vectors.length; at += 1024) await store.add(vectors.slice(at, at + 1024).map((v, j) => chunk(at + j, v)));
  await store.flush();
  await store.idle();
  return store;
}

function exactTop(vectors: Float32Array[], q: Float32Array, k: number): string[] {
  return vectors
    .map((v, i) => ({ id: `c${i}`, s: denseDot(q, v, 0, v.length) }))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((h) => h.id);
}

test('int8 codes: values within half a step, and code dot products within a fraction of a percent of the float ones', async () => {
  const dim = 384;
  const rows = dataset(1, 200, dim, 8);
  const flat = new Float32Array(rows.length * dim);
  rows.forEach((v, i) => flat.set(v, i * dim));
  flat.fill(0, 5 * dim, 6 * dim); // a zero vector stays zero
  const { codes, scales } = await quantizeRows(flat, rows.length, dim);
  assert.equal(codes.length, rows.length * dim);
  assert.equal(scales[5], 0);
  for (let i = 0; i < rows.length; i++) {
    for (let d = 0; d < dim; d++) {
      const err = Math.abs(codes[i * dim + d]! * scales[i]! - flat[i * dim + d]!);
      assert.ok(err <= scales[i]! / 2 + 1e-7, `row ${i} dim ${d}: error ${err} over half a step ${scales[i]! / 2}`);
    }
  }
  const q = randomUnit(rng(2), dim);
  const qc = queryCodes(q);
  const sparseQ = new Float32Array(dim);
  [3, 70, 200, 383].forEach((d, j) => (sparseQ[d] = j % 2 ? -0.5 : 0.5));
  const sc = queryCodes(sparseQ);
  assert.deepEqual([...sc.sparseDims], [3, 70, 200, 383]);
  for (let i = 0; i < rows.length; i++) {
    const exact = denseDot(q, flat, i * dim, dim);
    const approx = qc.scale * scales[i]! * codeDot(qc.weights, codes, i * dim, dim);
    assert.ok(Math.abs(exact - approx) < 0.01, `row ${i}: ${approx} vs ${exact}`);
    assert.ok(
      Math.abs(sparseCodeDot(sc.sparseDims, sc.sparseWeights, codes, i * dim) - codeDot(sc.weights, codes, i * dim, dim)) < 1e-9,
      'sparse equals dense on codes',
    );
  }
});

/** The rows of `vectors` as the shards of a store hold them: int8 codes, `perShard` rows each. */
async function codeShards(vectors: Float32Array[], perShard: number): Promise<CodeRows[]> {
  const dim = vectors[0]!.length;
  const out: CodeRows[] = [];
  for (let at = 0; at < vectors.length; at += perShard) {
    const part = vectors.slice(at, at + perShard);
    const flat = new Float32Array(part.length * dim);
    part.forEach((v, i) => flat.set(v, i * dim));
    out.push({ ...(await quantizeRows(flat, part.length, dim)), n: part.length });
  }
  return out;
}

const noStop = (): void => undefined;

test("store-wide lists partition every row of every shard once, and a member's own list is probed first", async () => {
  const dim = 48;
  const vectors = dataset(3, 3000, dim, 30);
  const shards = await codeShards(vectors, 1024);
  const lists = await trainCoarseLists(shards, dim, listCountFor(3000), new TimeSlice(), noStop);
  assert.equal(lists.lists, 55);
  for (let c = 0; c < lists.lists; c++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += lists.centroids[c * dim + d]! ** 2;
    assert.ok(Math.abs(norm - 1) < 1e-5, `centroid ${c} is unit length`);
  }
  for (const src of shards) {
    const a = await assignShard(lists, src, new TimeSlice(), noStop);
    assert.equal(a.offsets[lists.lists], src.n);
    assert.deepEqual(
      [...a.rows].sort((x, y) => x - y),
      Array.from({ length: src.n }, (_, i) => i),
    );
    for (let c = 0; c < lists.lists; c++) for (let p = a.offsets[c]!; p < a.offsets[c + 1]!; p++) assert.equal(a.listOf[a.rows[p]!], c);
    // a member as the query: its own list scores highest (up to rounding between float32 and float64)
    for (let i = 0; i < src.n; i += 37) {
      const q = Float32Array.from({ length: dim }, (_, d) => src.codes[i * dim + d]! * src.scales[i]!);
      const first = probeOrder(q, lists)[0]!;
      const score = (c: number): number => denseDot(q, lists.centroids, c * dim, dim);
      assert.ok(first === a.listOf[i] || score(first) - score(a.listOf[i]!) < 1e-5, `row ${i}`);
    }
  }
  // all rows in one shard or in three: the same lists
  const whole = await trainCoarseLists(await codeShards(vectors, 3000), dim, 55, new TimeSlice(), noStop);
  assert.deepEqual([...whole.centroids], [...lists.centroids]);
});

test('probe counts follow the data: clustered stores probe few lists, random ones nearly all', async (t) => {
  const dim = 48;
  const measure = async (topics: number): Promise<{ probes: number; lists: number }> => {
    const shards = await codeShards(dataset(5 + topics, 6000, dim, topics), 2048);
    const lists = await trainCoarseLists(shards, dim, listCountFor(6000), new TimeSlice(), noStop);
    const assigned = await Promise.all(shards.map((s) => assignShard(lists, s, new TimeSlice(), noStop)));
    return { probes: await calibrateProbes(lists, shards, assigned, new TimeSlice(), noStop), lists: lists.lists };
  };
  const clustered = await measure(40);
  const random = await measure(0);
  t.diagnostic(`clustered ${clustered.probes}/${clustered.lists}, random ${random.probes}/${random.lists}`);
  assert.ok(clustered.probes <= clustered.lists / 3, `clustered: ${clustered.probes} of ${clustered.lists} lists`);
  // random data needs most lists: the store scans it whole instead (exact)
  assert.ok(random.probes > random.lists * IVF_MAX_PROBE_FRACTION, `random: ${random.probes} of ${random.lists} lists`);
});

test('codes and lists computed in slices equal the ones computed at once, give the event loop turns, and stop when asked', async () => {
  const dim = 64;
  const vectors = dataset(6, 1024, dim, 20);
  const flat = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => flat.set(v, i * dim));
  const slice = new TimeSlice(-1); // always due: yields at every pause point
  let turns = 0;
  const ticker = setInterval(() => turns++, 0);
  const sliced = await compactVectors(flat, vectors.length, dim, slice);
  const shards = [{ ...sliced, n: vectors.length }];
  const slicedLists = await trainCoarseLists(shards, dim, 32, slice, noStop);
  const slicedRows = await assignShard(slicedLists, shards[0]!, slice, noStop);
  clearInterval(ticker);
  const whole = await compactVectors(flat, vectors.length, dim);
  assert.deepEqual([...sliced.codes], [...whole.codes]);
  const wholeLists = await trainCoarseLists([{ ...whole, n: vectors.length }], dim, 32, new TimeSlice(), noStop);
  assert.deepEqual([...slicedLists.centroids], [...wholeLists.centroids]);
  assert.deepEqual([...slicedRows.listOf], [...(await assignShard(wholeLists, shards[0]!, new TimeSlice(), noStop)).listOf]);
  // at least one pause per 16 rows of each k-means round and of the assignment
  assert.ok(slice.yields >= (vectors.length / 16) * 7, `yielded ${slice.yields} times`);
  assert.ok(turns > 0, 'timers ran while the lists were built');
  let checks = 0;
  const stopAfter = (): void => {
    if (++checks > 3) throw new Error('stopped');
  };
  await assert.rejects(trainCoarseLists(shards, dim, 32, new TimeSlice(), stopAfter), /stopped/);
});

test('training decodes its sample in slices too, before the k-means rounds', async () => {
  const dim = 32;
  const n = IVF_KMEANS_SAMPLE + 1000; // the sample is IVF_KMEANS_SAMPLE rows drawn from more
  const shards = await codeShards(dataset(8, n, dim, 20), 2048);
  const slice = new TimeSlice(-1); // always due: yields at every pause point
  let yieldsAtFirstRound: number | undefined;
  let stops = 0;
  const lists = await trainCoarseLists(shards, dim, 8, slice, () => {
    // the k-means rounds call stop() every 16 rows; the decoding every 64
    if (++stops === IVF_KMEANS_SAMPLE / 64 + 1) yieldsAtFirstRound = slice.yields;
  });
  assert.equal(lists.trainedOn, n);
  // one pause per 64 sample rows decoded, then one per 16 rows of each round
  assert.equal(yieldsAtFirstRound, IVF_KMEANS_SAMPLE / 64);
  assert.ok(slice.yields >= IVF_KMEANS_SAMPLE / 64 + (IVF_KMEANS_SAMPLE / 16) * IVF_KMEANS_ITERATIONS, `yielded ${slice.yields} times`);
});

for (const [kind, topics] of [
  ['clustered', 50],
  ['random', 0],
] as const) {
  test(`approximate search at ${ANN_MIN_CHUNKS} chunks: recall@10 against exact ≥ 0.95 on ${kind} data`, async (t) => {
    const dim = 32;
    const n = Math.ceil(ANN_MIN_CHUNKS / SHARD_MAX_CHUNKS) * SHARD_MAX_CHUNKS;
    const vectors = dataset(7 + topics, n, dim, topics);
    const store = await filledStore(tmp(), vectors);
    try {
      assert.equal(store.count(), n);
      const queries = dataset(1000 + topics, 40, dim, 0).map((noise, i) => {
        // queries near data (a perturbed member), the way a question lands near its answer
        const base = vectors[(i * 997) % n]!;
        return normalize(Float32Array.from(base, (x, d) => x + 0.5 * noise[d]!));
      });
      let found = 0;
      let scored = 0;
      for (const q of queries) {
        const hits = store.vectorSearch(q, 10).map((h) => store.record(h).id);
        scored += store.lastVectorScan.scored;
        const exact = exactTop(vectors, q, 10);
        found += hits.filter((id) => exact.includes(id)).length;
        // the exact path (no lists) is exact, scores included
        store.approximateQueries = false;
        const exhaustive = store.vectorSearch(q, 10);
        store.approximateQueries = true;
        assert.deepEqual(
          exhaustive.map((h) => store.record(h).id),
          exact,
        );
        assert.equal(store.lastVectorScan.scored, n);
      }
      const recall = found / (queries.length * 10);
      const fraction = scored / (queries.length * n);
      t.diagnostic(`${kind}: recall@10 ${recall.toFixed(3)}, scanned ${(fraction * 100).toFixed(0)}% of the vectors`);
      assert.ok(recall >= 0.95, `recall@10 ${recall.toFixed(3)} (scanned ${(fraction * 100).toFixed(0)}%)`);
      if (kind === 'clustered') assert.ok(fraction < 0.5, `scanned ${(fraction * 100).toFixed(0)}% of the vectors`);
    } finally {
      await store.close();
    }
  });
}

test('the store-wide lists are saved, used at the next open, extended to new shards, and rebuilt when damaged', async () => {
  const dim = 32;
  const n = Math.ceil(ANN_MIN_CHUNKS / SHARD_MAX_CHUNKS) * SHARD_MAX_CHUNKS;
  const vectors = dataset(21, n + SHARD_MAX_CHUNKS, dim, 50);
  const dir = tmp();
  const listsFile = path.join(dir, 'lists.bin');
  const q = normalize(Float32Array.from(vectors[123]!, (x, d) => x + 0.3 * Math.sin(d)));
  const store = await filledStore(dir, vectors.slice(0, n));
  // how rows fall into shards depends on how writes and background flushes interleave
  const shardCount = (): number =>
    (JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { shards: unknown[] }).shards.length;
  const saved = await readCoarseLists(dir, dim);
  assert.ok(saved, 'lists.bin written');
  assert.equal(saved.shards.size, shardCount());
  assert.equal(saved.of.trainedOn, n);
  const answer = store.vectorSearch(q, 10).map((h) => store.record(h).id);
  assert.ok(store.lastVectorScan.scored < n / 2, `scored ${store.lastVectorScan.scored} of ${n}`);
  await store.close();

  // reopened: searched through the saved lists at once, nothing trained or written again
  const bytes = readFileSync(listsFile);
  const reopened = await ChunkStore.open({ dir, embedderId: 'test', dimensions: dim });
  assert.deepEqual(
    reopened.vectorSearch(q, 10).map((h) => reopened.record(h).id),
    answer,
  );
  assert.ok(reopened.lastVectorScan.scored < n / 2, `after open: scored ${reopened.lastVectorScan.scored} of ${n}`);
  // a filter that leaves the nearest lists short of k rows: the rest of the store is scanned, the answer is exact
  const few = new Set(['c1', 'c2', 'c3', 'c7', 'c77', 'c777', 'c5000', 'c7777', 'c9000', 'c15000', 'c17777', 'c20000']);
  assert.deepEqual(
    reopened.vectorSearch(q, 10, (r) => few.has(r.id)).map((h) => reopened.record(h).id),
    [...few]
      .map((id) => ({ id, s: denseDot(q, vectors[Number(id.slice(1))]!, 0, dim) }))
      .sort((x, y) => y.s - x.s)
      .slice(0, 10)
      .map((h) => h.id),
  );
  await reopened.idle();
  assert.ok(readFileSync(listsFile).equals(bytes), 'lists.bin unchanged');
  // a shard written later is assigned to the same lists (no retraining below 4× the rows)
  await reopened.add(vectors.slice(n).map((v, j) => chunk(n + j, v)));
  await reopened.flush();
  await reopened.idle();
  const extended = (await readCoarseLists(dir, dim))!;
  assert.equal(extended.shards.size, shardCount());
  assert.ok(extended.shards.size > saved.shards.size);
  assert.deepEqual([...extended.of.centroids], [...saved.of.centroids]);
  await reopened.close();

  // a read-only window uses them too, and writes nothing
  const ro = await ChunkStore.open({ dir, embedderId: 'test', dimensions: dim, readOnly: true });
  ro.vectorSearch(q, 10);
  assert.ok(ro.lastVectorScan.scored < n / 2, `read-only: scored ${ro.lastVectorScan.scored}`);
  await ro.close();

  // lists.bin naming a shard whose first record is another (a shard of that name written after the
  // lists): that shard is not taken as assigned; it is assigned again and the file corrected
  const current = (await readCoarseLists(dir, dim))!;
  const [firstName] = [...current.shards.keys()];
  await writeCoarseLists(
    dir,
    current.of,
    [...current.shards].map(([name, c]) => ({
      name,
      first: name === firstName ? 'another-chunk' : c.first,
      assignment: groupByList(current.of, c.listOf),
    })),
  );
  const mismatched = await ChunkStore.open({ dir, embedderId: 'test', dimensions: dim });
  await mismatched.idle();
  await mismatched.close();
  const corrected = (await readCoarseLists(dir, dim))!;
  assert.equal(corrected.shards.size, shardCount());
  assert.notEqual(corrected.shards.get(firstName!)!.first, 'another-chunk');

  // damaged: every vector is scanned (exact) until the lists are rebuilt in the background
  const damaged = readFileSync(listsFile);
  damaged[damaged.length - 30]! ^= 0xff;
  writeFileSync(listsFile, damaged);
  const logs: string[] = [];
  const repaired = await ChunkStore.open({ dir, embedderId: 'test', dimensions: dim, log: (m) => logs.push(m) });
  assert.ok(
    logs.some((m) => /lists\.bin: checksum mismatch; the inverted lists are rebuilt/.test(m)),
    logs.join('\n'),
  );
  repaired.vectorSearch(q, 10);
  assert.equal(repaired.lastVectorScan.scored, n + SHARD_MAX_CHUNKS);
  await repaired.idle();
  assert.ok(await readCoarseLists(dir, dim), 'lists.bin rewritten');
  assert.deepEqual(
    repaired
      .vectorSearch(q, 10)
      .map((h) => repaired.record(h).id)
      .slice(0, 5),
    answer.slice(0, 5),
  );
  assert.ok(repaired.lastVectorScan.scored < n / 2, `rebuilt: scored ${repaired.lastVectorScan.scored}`);
  await repaired.close();
});

test('the probe count is measured again when the store has doubled, the centroids kept', async () => {
  const dim = 16;
  const n = Math.ceil(ANN_MIN_CHUNKS / SHARD_MAX_CHUNKS) * SHARD_MAX_CHUNKS;
  const vectors = dataset(31, 2 * n, dim, 40);
  const dir = tmp();
  const store = await filledStore(dir, vectors.slice(0, n));
  try {
    const first = store.listsInfo!;
    assert.equal(first.calibratedOn, n);
    for (let at = n; at < 2 * n; at += 1024) await store.add(vectors.slice(at, at + 1024).map((v, j) => chunk(at + j, v)));
    await store.flush();
    await store.idle();
    const second = store.listsInfo!;
    assert.equal(second.trainedOn, first.trainedOn, 'not trained again below 4x');
    assert.equal(second.lists, first.lists);
    assert.equal(second.calibratedOn, 2 * n);
    const saved = (await readCoarseLists(dir, dim))!;
    assert.equal(saved.of.calibratedOn, 2 * n);
    assert.equal(saved.of.probes, second.probes);
  } finally {
    await store.close();
  }
});

test('below the threshold every vector is scored, and the scores returned are the exact float ones', async () => {
  const dim = 24;
  const vectors = dataset(9, 3000, dim, 10);
  const store = await filledStore(tmp(), vectors);
  try {
    const q = randomUnit(rng(10), dim);
    const hits = store.vectorSearch(q, 10);
    assert.equal(store.lastVectorScan.scored, 3000);
    assert.deepEqual(
      hits.map((h) => store.record(h).id),
      exactTop(vectors, q, 10),
    );
    for (const h of hits) {
      const i = Number(store.record(h).id.slice(1));
      assert.equal(h.score, denseDot(q, vectors[i]!, 0, dim));
      assert.deepEqual([...store.vector(h)], [...vectors[i]!]);
    }
  } finally {
    await store.close();
  }
});

/** Rewrites a shard's cache.bin in the layout of the previous version (records, floats, postings). */
async function writeLegacyCache(shardDir: string, dim: number): Promise<void> {
  const cur = await readShardCache(shardDir, dim);
  const n = cur.records.length;
  const floats = await readAllShardFloats(cur.floats, n, dim);
  const rows = cur.records.map(toRow);
  const header = Buffer.from(JSON.stringify(rows), 'utf8');
  const terms = Buffer.from(JSON.stringify(cur.postings.terms), 'utf8');
  const checksum = createHash('sha1').update(header).update(terms).digest();
  const parts: Buffer[] = [];
  const push = (b: ArrayBufferView): void => {
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    parts.push(buf);
    if (buf.length % 4) parts.push(Buffer.alloc(4 - (buf.length % 4)));
  };
  const head = Buffer.alloc(40);
  head.write('MGPTSHD2', 0, 'ascii');
  [header.length, n, dim, terms.length, cur.postings.docs.length, 0, checksum.length, 0].forEach((v, i) =>
    head.writeUInt32LE(v, 8 + i * 4),
  );
  push(head);
  push(checksum);
  push(header);
  push(floats);
  push(terms);
  push(cur.postings.offsets);
  push(cur.postings.docs);
  push(cur.postings.tfs);
  writeFileSync(path.join(shardDir, 'cache.bin'), Buffer.concat(parts));
}

test('an index of the previous format is converted on open, with a notice, and answers the same', async () => {
  const dir = tmp();
  const dim = 32;
  const vectors = dataset(11, 1500, dim, 12);
  const store = await filledStore(dir, vectors);
  const q = randomUnit(rng(12), dim);
  const before = store.vectorSearch(q, 10).map((h) => ({ id: store.record(h).id, score: h.score }));
  const lexicalBefore = store.lexicalSearch('chunk topic 7', 5).map((h) => store.record(h).id);
  await store.close();
  // make it the previous version's index: schema 1, float-only caches
  const manifestPath = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { schema: number; shards: { name: string; cacheBytes: number }[] };
  assert.equal(manifest.schema, 2);
  assert.ok(manifest.shards.length >= 1);
  for (const s of manifest.shards) {
    await writeLegacyCache(path.join(dir, s.name), dim);
    s.cacheBytes = readFileSync(path.join(dir, s.name, 'cache.bin')).length;
  }
  manifest.schema = 1;
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const legacyBytes = readFileSync(path.join(dir, manifest.shards[0]!.name, 'cache.bin'));

  // a read-only window converts in memory and writes nothing
  const roNotices: string[] = [];
  const ro = await ChunkStore.open({ dir, embedderId: 'test', dimensions: dim, readOnly: true, notice: (m) => roNotices.push(m) });
  assert.deepEqual(
    ro.vectorSearch(q, 10).map((h) => ({ id: ro.record(h).id, score: h.score })),
    before,
  );
  await ro.close();
  assert.ok(
    roNotices.some((m) => /converting 1 shard/.test(m)),
    roNotices.join('\n'),
  );
  assert.ok(
    roNotices.some((m) => /read-only window does not write/.test(m)),
    roNotices.join('\n'),
  );
  assert.ok(readFileSync(path.join(dir, manifest.shards[0]!.name, 'cache.bin')).equals(legacyBytes), 'read-only: cache untouched');
  assert.equal((JSON.parse(readFileSync(manifestPath, 'utf8')) as { schema: number }).schema, 1);

  const notices: string[] = [];
  const converted = await ChunkStore.open({ dir, embedderId: 'test', dimensions: dim, notice: (m) => notices.push(m) });
  assert.equal(converted.count(), 1500);
  assert.deepEqual(
    converted.vectorSearch(q, 10).map((h) => ({ id: converted.record(h).id, score: h.score })),
    before,
  );
  assert.deepEqual(
    converted.lexicalSearch('chunk topic 7', 5).map((h) => converted.record(h).id),
    lexicalBefore,
  );
  await converted.close();
  assert.ok(
    notices.some((m) => /converting 1 shard\(s\) to compact vectors/.test(m)),
    notices.join('\n'),
  );
  assert.equal((JSON.parse(readFileSync(manifestPath, 'utf8')) as { schema: number }).schema, 2);
  assert.equal(readFileSync(path.join(dir, manifest.shards[0]!.name, 'cache.bin')).toString('ascii', 0, 8), 'MGPTSHD3');

  // converted once: the next open says nothing
  const again: string[] = [];
  const reopened = await ChunkStore.open({ dir, embedderId: 'test', dimensions: dim, notice: (m) => again.push(m) });
  assert.equal(reopened.count(), 1500);
  await reopened.close();
  assert.deepEqual(again, []);
});
