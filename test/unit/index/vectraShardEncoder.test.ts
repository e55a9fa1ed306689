import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalIndex, ProtobufCodec } from 'vectra';
import { encodeVectraIndex } from '../../../src/core/index/vectraShardEncoder';
import { ChunkStore } from '../../../src/core/index/chunkStore';
import { TimeSlice } from '../../../src/core/index/slice';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'vectra-enc-'));

function sampleItems(n: number, dim: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `chunk-${i}-é✓`,
    metadata: {
      source: i % 3 === 0 ? 'memory' : 'workspace',
      path: `src/ä/${i}.ts`,
      startLine: i,
      endLine: 0,
      length: i + 0.5,
      language: '',
      flag: i % 2 === 0,
    },
    vector: Float32Array.from({ length: dim }, (_, d) => Math.sin(i * 31 + d) / 7),
  }));
}

test("the encoder writes the very bytes of Vectra's own ProtobufCodec", async () => {
  const items = sampleItems(7, 24);
  const ours = await encodeVectraIndex(items.length, (i) => items[i]!);
  const theirs = new ProtobufCodec().serializeIndex({
    version: 1,
    metadata_config: {},
    items: items.map((it) => ({
      id: it.id,
      metadata: it.metadata,
      vector: Array.from(it.vector),
      norm: Math.sqrt(Array.from(it.vector).reduce((s, x) => s + x * x, 0)),
    })),
  });
  assert.equal(ours.length, theirs.length);
  assert.ok(ours.equals(theirs), 'byte-identical to vectra.ProtobufCodec.serializeIndex');
});

test("Vectra's decoder reads the encoder's items back: ids, metadata (zero and false too), float32 vectors", async () => {
  const items = sampleItems(5, 16);
  const slice = new TimeSlice(-1); // always due: every item yields, and the output must not change
  const buf = await encodeVectraIndex(items.length, (i) => items[i]!, slice);
  assert.ok(slice.yields >= items.length, `yielded ${slice.yields} times`);
  const back = new ProtobufCodec().deserializeIndex(buf);
  assert.equal(back.items.length, 5);
  back.items.forEach((item, i) => {
    assert.equal(item.id, items[i]!.id);
    assert.deepEqual(item.metadata, items[i]!.metadata);
    assert.deepEqual(item.vector, Array.from(items[i]!.vector));
  });
});

test('a shard written by a flush is an ordinary Vectra index: LocalIndex opens and queries it', async () => {
  const dir = tmp();
  const embedder = new LocalHashEmbedder();
  const store = await ChunkStore.open({ dir, embedderId: embedder.id, dimensions: embedder.dimensions });
  const texts = [
    'export function parseCookieHeader(header: string) {}',
    'async function withBackoff(attempt) { await sleep(delay); }',
    'class RouteTable { match(url) {} }',
  ];
  await store.add(
    texts.map((text, i) => ({
      record: {
        id: `c${i}`,
        source: 'workspace',
        path: `src/f${i}.ts`,
        startLine: 1,
        endLine: 1,
        language: 'typescript',
        hash: `h${i}`,
        fileHash: `fh${i}`,
        time: '2024-01-01T00:00:00.000Z',
      },
      text,
      vector: embedder.embedOne(text),
    })),
  );
  await store.flush();
  await store.close();
  const shard = readdirSync(dir).find((f) => f.startsWith('shard-'));
  assert.ok(shard, 'a shard folder was written');
  const index = new LocalIndex(path.join(dir, shard), 'index.pb', undefined, new ProtobufCodec());
  assert.equal((await index.listItems()).length, 3);
  const results = await index.queryItems(Array.from(embedder.embedOne('backoff sleep delay')), '', 1);
  assert.equal(results[0]!.item.id, 'c1');
  assert.equal(results[0]!.item.metadata['path'], 'src/f1.ts');
  assert.equal(results[0]!.item.metadata['startLine'], 1);
  assert.ok(Math.abs(results[0]!.item.norm - 1) < 1e-6, 'unit norm stored');
});
