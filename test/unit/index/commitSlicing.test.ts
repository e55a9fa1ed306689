import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChunkStore, type NewChunk } from '../../../src/core/index/chunkStore';

const DIM = 16;

function chunk(i: number, file: string, tag: string): NewChunk {
  const vector = new Float32Array(DIM);
  for (let d = 0; d < DIM; d++) vector[d] = Math.sin(i * 7 + d * 3);
  // unit length, as every embedder returns: a shard's cache rejects other vectors when reopened
  const norm = Math.hypot(...vector);
  for (let d = 0; d < DIM; d++) vector[d]! /= norm;
  return {
    record: {
      id: `${tag}-${i}`,
      source: 'workspace',
      path: file,
      startLine: i * 10 + 1,
      endLine: i * 10 + 10,
      language: 'typescript',
      hash: `${tag}h${i}`,
      fileHash: `${tag}f`,
      time: '2026-12-01T00:00:00.000Z',
    },
    text: `export function handler${i}(request) { return route${i % 311}(request.params, options${i % 53}); }`,
    vector,
  };
}

function tempStore(): Promise<{ store: ChunkStore; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'commit-slicing-'));
  return ChunkStore.open({ dir, embedderId: 'test', dimensions: DIM }).then((store) => ({ store, dir }));
}

test('a large batch goes into memory in slices: timers run while it is committed', async () => {
  const { store, dir } = await tempStore();
  try {
    const n = 12_000;
    const batch = Array.from({ length: n }, (_, i) => chunk(i, `src/f${i % 500}.ts`, 'a'));
    const seen = new Set<number>();
    let watching = true;
    const watch = (): void => {
      seen.add(store.count());
      if (watching) setImmediate(watch);
    };
    setImmediate(watch);
    await store.add(batch);
    watching = false;
    assert.equal(store.count(), n);
    // a count strictly between empty and full was observed: the loop had turns mid-commit
    const partial = [...seen].filter((c) => c > 0 && c < n);
    assert.ok(partial.length > 0, `counts seen: ${[...seen].sort((a, b) => a - b).join(', ')}`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent replaces of one file, and a remove, take turns: no chunk of a replaced version survives', async () => {
  const { store, dir } = await tempStore();
  try {
    const file = 'src/big.ts';
    await store.add(Array.from({ length: 3000 }, (_, i) => chunk(i, file, 'v0')));
    const v1 = Array.from({ length: 6000 }, (_, i) => chunk(i, file, 'v1'));
    const v2 = Array.from({ length: 5000 }, (_, i) => chunk(i, file, 'v2'));
    const other = Array.from({ length: 4000 }, (_, i) => chunk(i, 'src/other.ts', 'o'));
    await store.add(other);
    await Promise.all([
      store.replace(() => store.idsOfPath(file), v1),
      store.replace(() => store.idsOfPath(file), v2),
      store.remove(other.slice(0, 1000).map((c) => c.record.id)),
    ]);
    // Either replace may commit last (each prepares its batch in slices first); whichever did,
    // exactly its version is left, whole.
    const ids = store.idsOfPath(file);
    const version = ids[0]!.split('-')[0]!;
    const expected = version === 'v1' ? v1.length : v2.length;
    assert.ok(version === 'v1' || version === 'v2', version);
    assert.equal(ids.length, expected);
    assert.ok(
      ids.every((id) => id.startsWith(`${version}-`)),
      'one version is left, not a mixture',
    );
    assert.equal(store.idsOfPath('src/other.ts').length, 3000);
    assert.equal(store.count(), expected + 3000);
    await store.close();
    // the journal holds the same result
    const reopened = await ChunkStore.open({ dir, embedderId: 'test', dimensions: DIM });
    assert.equal(reopened.count(), expected + 3000);
    assert.deepEqual(reopened.idsOfPath(file).sort(), ids.sort());
    await reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
