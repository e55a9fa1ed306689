import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChunkStore, MEMTABLE_BLOCK_ROWS, MEMTABLE_MAX_CHUNKS, denseDot, type NewChunk } from '../../../src/core/index/chunkStore';

const DIM = 24;

function unit(seed: number): Float32Array {
  const v = new Float32Array(DIM);
  let n = 0;
  for (let d = 0; d < DIM; d++) {
    v[d] = Math.sin(seed * 12.9898 + d * 78.233) * 43758.5453;
    v[d] = v[d]! - Math.floor(v[d]!) - 0.5;
    n += v[d]! * v[d]!;
  }
  for (let d = 0; d < DIM; d++) v[d]! /= Math.sqrt(n);
  return v;
}

function chunk(i: number, tag = 'c'): NewChunk {
  return {
    record: {
      id: `${tag}${i}`,
      source: 'workspace',
      path: `src/f${i % 300}.ts`,
      startLine: i + 1,
      endLine: i + 10,
      language: 'typescript',
      hash: `h${tag}${i}`,
      fileHash: `f${i % 300}`,
      time: '2026-12-01T00:00:00.000Z',
    },
    text: `export function handler${i}() { return route${i % 97}(); }`,
    vector: unit(i),
  };
}

async function withStore(run: (store: ChunkStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'memtable-blocks-'));
  const store = await ChunkStore.open({ dir, embedderId: 'test', dimensions: DIM });
  try {
    await run(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a memtable spanning several blocks returns the exact neighbours and the exact vectors, before and after its shards are written', async () => {
  await withStore(async (store) => {
    // the first block's doubling and most of a second block, fewer than a shard holds, so no flush moves them yet
    const n = 2 * MEMTABLE_BLOCK_ROWS - 1;
    const chunks = Array.from({ length: n }, (_, i) => chunk(i));
    await store.add(chunks);
    // deleted rows on both sides of block boundaries are skipped
    const deleted = new Set([0, 63, MEMTABLE_BLOCK_ROWS - 1, MEMTABLE_BLOCK_ROWS, n - 1]);
    await store.remove([...deleted].map((i) => `c${i}`));
    assert.equal(store.memtableSize, n, 'the chunks are still in the memtable');

    const brute = (q: Float32Array): string[] =>
      chunks
        .filter((_, i) => !deleted.has(i))
        .map((c) => ({ id: c.record.id, s: denseDot(q, c.vector, 0, DIM) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 10)
        .map((h) => h.id);
    const queries = [5, 64, MEMTABLE_BLOCK_ROWS + 2, n - 2, 100_001].map((s) => unit(s));
    const search = (): string[][] => queries.map((q) => store.vectorSearch(q, 10).map((h) => store.record(h).id));
    const inMemory = search();
    assert.deepEqual(inMemory, queries.map(brute));
    for (const i of [1, 62, 64, MEMTABLE_BLOCK_ROWS - 2, MEMTABLE_BLOCK_ROWS + 1, n - 2]) {
      assert.deepEqual([...store.vector(store.get(`c${i}`)!)], [...chunks[i]!.vector], `row ${i}`);
    }

    // the flush copies every row out of the blocks into shards: the same vectors come back from disk
    await store.flush();
    await store.idle();
    assert.equal(store.memtableSize, 0);
    for (const i of [1, 64, MEMTABLE_BLOCK_ROWS + 1, n - 2]) {
      assert.deepEqual([...store.vector(store.get(`c${i}`)!)], [...chunks[i]!.vector], `row ${i} after the flush`);
    }
    assert.equal(store.count(), n - deleted.size);
  });
});

test('commits wait for the running flush once the memtable holds MEMTABLE_MAX_CHUNKS: indexing cannot run unboundedly ahead of the disk', async () => {
  await withStore(async (store) => {
    const batch = 2048;
    let largest = 0;
    let watching = true;
    const watch = (): void => {
      largest = Math.max(largest, store.memtableSize);
      if (watching) setImmediate(watch);
    };
    setImmediate(watch);
    // all queued at once, as an indexer that does not wait would: each commit takes its turn
    const total = 12 * batch;
    await Promise.all(
      Array.from({ length: total / batch }, (_, b) =>
        store.add(Array.from({ length: batch }, (_, i) => chunk(b * batch + i))).then(() => {
          largest = Math.max(largest, store.memtableSize);
        }),
      ),
    );
    watching = false;
    assert.ok(largest <= MEMTABLE_MAX_CHUNKS + batch, `the memtable reached ${largest} chunks (bound ${MEMTABLE_MAX_CHUNKS} + one batch)`);
    await store.flush();
    await store.idle();
    assert.equal(store.count(), total);
    const q = unit(7_777);
    const hit = store.vectorSearch(q, 1)[0]!;
    assert.ok(hit.score > 0.5, 'a search after the build finds a close vector');
  });
});
