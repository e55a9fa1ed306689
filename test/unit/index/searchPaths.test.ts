import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { ChunkStore, denseDot } from '../../../src/core/index/chunkStore';
import { chunkText } from '../../../src/core/index/chunker';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import type { Embedder } from '../../../src/core/interfaces/embedder';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'search-paths-'));

/** A small but real source tree: many distinct functions, so rankings have a long tail. */
function sourceFile(i: number): string {
  const topics = [
    'parse the cookie header',
    'retry with backoff',
    'match the route table',
    'emit declaration files',
    'resolve module paths',
    'format a date',
  ];
  const lines: string[] = [];
  for (let f = 0; f < 12; f++) {
    const topic = topics[(i + f) % topics.length]!;
    lines.push(
      `// ${topic} (variant ${i}.${f})`,
      `export function ${topic
        .split(' ')
        .map((w, k) => (k === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
        .join('')}${i}_${f}(input: string, limit = ${f}) {`,
    );
    lines.push(
      `  const parts = input.split('${'/;,'[f % 3]}').slice(0, limit);`,
      `  return parts.map((p) => p.trim()).filter(Boolean);`,
      '}',
      '',
    );
  }
  return lines.join('\n');
}

async function filledIndex(dir: string, files: number, embedder: Embedder = new LocalHashEmbedder()): Promise<ArchivalIndex> {
  const idx = await ArchivalIndex.open({ dir, embedder });
  for (let i = 0; i < files; i++) await idx.replaceFile(`src/mod${i}.ts`, `h${i}`, chunkText(`src/mod${i}.ts`, sourceFile(i)));
  return idx;
}

test('the four-sum dense kernel equals a plain dot product (any dimension, any offset)', () => {
  for (const dim of [1, 3, 4, 7, 384, 385]) {
    const q = Float32Array.from({ length: dim }, (_, d) => Math.cos(d * 1.7));
    const m = Float32Array.from({ length: dim * 3 }, (_, d) => Math.sin(d * 0.3));
    let plain = 0;
    for (let d = 0; d < dim; d++) plain += q[d]! * m[dim + d]!;
    assert.ok(Math.abs(denseDot(q, m, dim, dim) - plain) < 1e-9, `dim ${dim}`);
  }
});

test('sparse and dense query paths rank the same chunks with the same scores (shards, memtable and tombstones)', async () => {
  const embedder = new LocalHashEmbedder();
  const idx = await filledIndex(tmp(), 40, embedder);
  await idx.flush(); // some chunks in shards…
  for (let i = 40; i < 48; i++) await idx.replaceFile(`src/mod${i}.ts`, `h${i}`, chunkText(`src/mod${i}.ts`, sourceFile(i))); // …some in the memtable
  await idx.removePath('src/mod3.ts'); // and tombstones
  const store = idx.store;
  assert.ok(store.count() > 60, `enough chunks: ${store.count()}`);
  for (const q of ['retry with backoff', 'cookie header parsing', 'how are declaration files emitted', 'format a date variant 7']) {
    const qv = embedder.embedOne(q);
    const nonZero = qv.filter((x) => x !== 0).length;
    assert.ok(nonZero < embedder.dimensions / 4, `query "${q}" is sparse (${nonZero} dimensions set), so the sparse path is exercised`);
    store.sparseQueries = true;
    const sparse = store.vectorSearch(qv, 20);
    store.sparseQueries = false;
    const dense = store.vectorSearch(qv, 20);
    store.sparseQueries = true;
    assert.equal(sparse.length, 20);
    assert.deepEqual(
      sparse.map((h) => store.record(h).id),
      dense.map((h) => store.record(h).id),
      `same ranking for "${q}"`,
    );
    sparse.forEach((h, i) => assert.ok(Math.abs(h.score - dense[i]!.score) < 1e-6, `same score at rank ${i}`));
    assert.ok(!sparse.some((h) => store.record(h).path === 'src/mod3.ts'), 'deleted chunks never come back');
    // and both equal a brute-force scan of the live vectors
    const brute = [...store.live()]
      .map(({ ref, record }) => ({ id: record.id, s: denseDot(qv, store.vector(ref), 0, embedder.dimensions) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 20);
    assert.deepEqual(
      sparse.map((h) => Math.round(h.score * 1e5)),
      brute.map((b) => Math.round(b.s * 1e5)),
    );
  }
});

test('hits keep their text across a compaction that retires the shard they were read from, and across reopen', async () => {
  const dir = tmp();
  const embedder = new LocalHashEmbedder();
  const idx = await filledIndex(dir, 30, embedder);
  await idx.flush();
  const before = await idx.search('retry with backoff');
  assert.ok(before.hits.length > 0 && before.hits.every((h) => h.text.length > 0));
  // delete most of the shard: the next flush compacts it into a new one and removes the old folder
  for (let i = 0; i < 25; i++) await idx.removePath(`src/mod${i}.ts`);
  await idx.replaceFile(
    'src/late.ts',
    'late',
    chunkText('src/late.ts', 'export function retryWithBackoffLate() { /* retry with backoff */ }'),
  );
  await idx.flush();
  const after = await idx.search('retry with backoff');
  assert.ok(after.hits.some((h) => h.path === 'src/late.ts'));
  for (const h of after.hits) {
    assert.ok(h.path && Number(/\d+/.exec(h.path)?.[0] ?? 99) >= 25, `only surviving files: ${h.path}`);
    assert.match(h.text, /\S/, 'text read from the new shard');
  }
  await idx.close();
  const reopened = await ArchivalIndex.open({ dir, embedder });
  const again = await reopened.search('retry with backoff');
  assert.deepEqual(
    again.hits.map((h) => [h.path, h.startLine, h.text]),
    after.hits.map((h) => [h.path, h.startLine, h.text]),
  );
  await reopened.close();
});

test('a store closed after searches releases its shard files (a reopen reads them again)', async () => {
  const dir = tmp();
  const embedder = new LocalHashEmbedder();
  const idx = await filledIndex(dir, 10, embedder);
  await idx.flush();
  await idx.search('route table');
  await idx.close();
  const store = await ChunkStore.open({ dir: idx.folder, embedderId: embedder.id, dimensions: embedder.dimensions });
  const refs = [...store.live()].slice(0, 3).map((l) => l.ref);
  const texts = await store.texts(refs);
  assert.equal(texts.length, 3);
  assert.ok(texts.every((t) => /function/.test(t)));
  await store.close();
});
