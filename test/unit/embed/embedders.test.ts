import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { OpenAIEmbedder } from '../../../src/core/embed/openaiEmbedder';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { badKey, errorStep, hang, startFakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';

const cos = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('local embedder: deterministic, unit length, versioned id, code-aware', async () => {
  const e = new LocalHashEmbedder();
  assert.equal(e.id, 'local-hash-v1-384');
  assert.equal(e.dimensions, 384);
  const [a, a2, b, c, empty] = await e.embed([
    'parseHttpRequest(req)',
    'parseHttpRequest(req)',
    'parse the http request',
    'render a colour palette',
    '',
  ]);
  assert.deepEqual(a, a2);
  assert.ok(Math.abs(cos(a!, a!) - 1) < 1e-5);
  assert.ok(cos(a!, b!) > 0.5, `identifier vs words: ${cos(a!, b!)}`);
  assert.ok(cos(a!, b!) > cos(a!, c!) + 0.3);
  assert.equal(
    empty!.every((x) => x === 0),
    true,
  );
  // concepts: "remove" finds `delete`, "settings" finds `config`
  const [q, del, add] = await e.embed(['remove an entry', 'deleteEntry(key)', 'insertEntry(key)']);
  assert.ok(cos(q!, del!) > cos(q!, add!), 'remove ~ delete');
  assert.throws(() => new LocalHashEmbedder({ dimensions: 3 }), /between 16 and 8192/);
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(e.embed(['x'], ctl.signal));
});

test('OpenAI embedder against the fake server: dimensions learned, batching, order, errors', async () => {
  const server = await startFakeOpenAIServer({ embeddingDimensions: 48 });
  try {
    const e = await OpenAIEmbedder.connect({ baseUrl: server.url, apiKey: 'k', model: 'fake-embed', batchSize: 3 });
    assert.equal(e.dimensions, 48);
    assert.match(e.id, /^openai:fake-embed:48@127\.0\.0\.1:\d+$/);
    const texts = Array.from({ length: 7 }, (_, i) => `text number ${i}`);
    const before = server.requests.length;
    const vs = await e.embed(texts);
    assert.equal(vs.length, 7);
    assert.equal(server.requests.length - before, 3, 'batches of 3');
    for (const v of vs) assert.ok(Math.abs(cos(v, v) - 1) < 1e-4);
    const [again] = await e.embed(['text number 4']);
    assert.ok(Math.abs(cos(again!, vs[4]!) - 1) < 1e-5, 'order kept');

    const fixed = await OpenAIEmbedder.connect({ baseUrl: server.url, model: 'fake-embed', dimensions: 48 });
    assert.equal(fixed.dimensions, 48);

    server.enqueueEmbeddings(badKey());
    await assert.rejects(e.embed(['x']), /refused the API key.*Set API Key/s);
    server.enqueueEmbeddings(errorStep(404, { message: 'model not found' }));
    await assert.rejects(e.embed(['x']), /does not know model "fake-embed"/);
    const ctl = new AbortController();
    server.enqueueEmbeddings(hang());
    const pending = e.embed(['x'], ctl.signal);
    setTimeout(() => ctl.abort(), 50);
    await assert.rejects(pending, (err: Error) => /abort/i.test(err.name + err.message));

    // a real index on the endpoint
    const idx = await ArchivalIndex.open({ dir: mkdtempSync(path.join(os.tmpdir(), 'oai-')), embedder: e });
    await idx.insertMemory('the staging database is rebuilt nightly');
    assert.equal((await idx.search('staging database rebuilt')).hits[0]!.source, 'memory');
    await idx.close();
  } finally {
    await server.close();
  }
  await assert.rejects(
    OpenAIEmbedder.connect({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', maxRetries: 0 }),
    /Could not reach the embeddings endpoint at http:\/\/127\.0\.0\.1:9\/v1/,
  );
  await assert.rejects(OpenAIEmbedder.connect({ baseUrl: 'not a url', model: 'm' }), /not a URL/);
  await assert.rejects(OpenAIEmbedder.connect({ model: '' }), /No embeddings model/);
});
