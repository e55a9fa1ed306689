import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, statSync, rmSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { ChunkStore } from '../../../src/core/index/chunkStore';
import { chunkText } from '../../../src/core/index/chunker';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import type { Embedder } from '../../../src/core/interfaces/embedder';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'arch-'));

const FILES: Record<string, string> = {
  'src/router.ts': `export function matchRoute(routes: Route[], url: string): Route | undefined {
  // walk the route table and return the first handler whose pattern matches the request path
  for (const route of routes) {
    if (route.pattern.test(url)) return route;
  }
  return undefined;
}`,
  'src/retry.ts': `export async function withBackoff<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  let delay = 100;
  for (let i = 0; ; i++) {
    try { return await attempt(); } catch (err) {
      if (i >= tries) throw err;
      await sleep(delay); delay *= 2;
    }
  }
}`,
  'src/cookies.ts': `export function parseCookieHeader(header: string): Map<string, string> {
  const jar = new Map<string, string>();
  for (const pair of header.split(';')) {
    const [k, v] = pair.split('=');
    if (k) jar.set(k.trim(), decodeURIComponent(v ?? ''));
  }
  return jar;
}`,
  'docs/readme.md': '# Project\n\nThis project is a tiny web framework with routing, cookies and retries.',
};

async function filled(dir: string, embedder: Embedder = new LocalHashEmbedder()): Promise<ArchivalIndex> {
  const idx = await ArchivalIndex.open({ dir, embedder });
  for (const [p, t] of Object.entries(FILES)) await idx.replaceFile(p, 'h-' + p, chunkText(p, t));
  return idx;
}

test('hybrid search finds the right file, with path:start-end and a snippet', async () => {
  const idx = await filled(tmp());
  const r1 = await idx.search('which handler runs for a request url');
  assert.equal(r1.hits[0]!.path, 'src/router.ts');
  assert.equal(r1.hits[0]!.startLine, 1);
  assert.equal(r1.hits[0]!.endLine, 7);
  assert.match(r1.hits[0]!.text, /matchRoute/);
  const r2 = await idx.search('retry with exponential delay after a failure');
  assert.equal(r2.hits[0]!.path, 'src/retry.ts');
  const r3 = await idx.search('parseCookieHeader');
  assert.equal(r3.hits[0]!.path, 'src/cookies.ts');
  for (const mode of ['lexical', 'vector', 'blend'] as const) {
    const r = await idx.search('cookie header parsing', { mode });
    assert.equal(r.hits[0]!.path, 'src/cookies.ts', mode);
  }
  await idx.close();
});

test('memories and workspace are filtered by source and by path glob', async () => {
  const idx = await filled(tmp());
  const id = await idx.insertMemory('The user wants retries capped at five attempts', { path: 'src/retry.ts', startLine: 2, endLine: 3 });
  assert.match(id, /^mem-/);
  assert.equal(idx.count('memory'), 1);
  assert.equal(idx.count('workspace'), 4);
  const mem = await idx.search('retries attempts', { source: 'memory' });
  assert.equal(mem.total, 1);
  assert.equal(mem.hits[0]!.source, 'memory');
  assert.equal(mem.hits[0]!.path, 'src/retry.ts');
  assert.ok(mem.hits[0]!.time);
  const ws = await idx.search('retries attempts', { source: 'workspace' });
  assert.ok(ws.hits.every((h) => h.source === 'workspace'));
  const docs = await idx.search('routing cookies retries', { pathGlob: 'docs/**' });
  assert.deepEqual(
    docs.hits.map((h) => h.path),
    ['docs/readme.md'],
  );
  await assert.rejects(idx.insertMemory('   '), /empty/);
  await assert.rejects(idx.search(''), /empty/);
  await idx.close();
});

test('paging walks every result once', async () => {
  const dir = tmp();
  const idx = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
  for (let i = 0; i < 12; i++) await idx.insertMemory(`fact number ${i} about the deployment pipeline`);
  const seen: string[] = [];
  const first = await idx.search('deployment pipeline fact', { pageSize: 5 });
  assert.equal(first.total, 12);
  assert.equal(first.pageCount, 3);
  for (let p = 0; p < first.pageCount; p++) {
    const r = await idx.search('deployment pipeline fact', { pageSize: 5, page: p });
    assert.equal(r.page, p);
    seen.push(...r.hits.map((h) => h.id));
  }
  assert.equal(new Set(seen).size, 12);
  const beyond = await idx.search('deployment pipeline fact', { pageSize: 5, page: 7 });
  assert.equal(beyond.hits.length, 0);
  await idx.close();
});

test('adjacent chunks of one file are merged into one hit', async () => {
  const idx = await ArchivalIndex.open({ dir: tmp(), embedder: new LocalHashEmbedder() });
  const body = Array.from({ length: 120 }, (_, i) => `  tokenBucket.refill(${i}); // rate limiter refill step ${i}`).join('\n');
  await idx.replaceFile('src/limiter.ts', 'h', chunkText('src/limiter.ts', body));
  const chunks = chunkText('src/limiter.ts', body).length;
  assert.ok(chunks >= 3);
  const r = await idx.search('rate limiter token bucket refill');
  const hit = r.hits[0]!;
  assert.ok(hit.endLine! - hit.startLine! + 1 > chunkText('src/limiter.ts', body)[0]!.endLine, 'first hit spans more than one chunk');
  assert.ok(r.total < chunks, `merged: ${r.total} hits from ${chunks} chunks`);
  await idx.close();
});

test('replace, rename and remove a file', async () => {
  const idx = await filled(tmp());
  await idx.replaceFile('src/router.ts', 'h2', chunkText('src/router.ts', 'export const dispatcher = 1; // dispatches requests'));
  assert.equal(idx.fileHashOf('src/router.ts'), 'h2');
  const r = await idx.search('matchRoute pattern', { mode: 'lexical' });
  assert.ok(!r.hits.some((h) => h.path === 'src/router.ts' && /matchRoute/.test(h.text)));
  assert.equal(await idx.renamePath('src', 'lib'), 3); // router, retry, cookies: one chunk each
  assert.equal(idx.hasPath('src/cookies.ts'), false);
  assert.equal(idx.hasPath('lib/cookies.ts'), true);
  const c = await idx.search('parseCookieHeader');
  assert.equal(c.hits[0]!.path, 'lib/cookies.ts');
  assert.equal(await idx.removePath('lib/cookies.ts'), 1);
  assert.equal(idx.hasPath('lib/cookies.ts'), false);
  await idx.close();
});

test('survives reopen: journal replay, shards after flush, memories', async () => {
  const dir = tmp();
  const idx = await filled(dir);
  await idx.insertMemory('deploys go through the staging cluster first');
  await idx.flush();
  await idx.replaceFile('src/extra.ts', 'h', chunkText('src/extra.ts', 'export const websocketHeartbeat = 30_000;'));
  await idx.removePath('docs/readme.md');
  await idx.close();
  const again = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
  assert.equal(again.count('workspace'), 4);
  assert.equal(again.count('memory'), 1);
  assert.equal(again.hasPath('docs/readme.md'), false);
  assert.equal((await again.search('websocketHeartbeat')).hits[0]!.path, 'src/extra.ts');
  assert.equal((await again.search('staging cluster', { source: 'memory' })).total, 1);
  await again.close();
});

test('an index opened with another dimension is refused; another embedder gets its own index and the memories', async () => {
  const dir = tmp();
  const idx = await filled(dir);
  await idx.insertMemory('the API key lives in the OS keychain');
  await idx.close();
  const folder = path.join(
    dir,
    readdirSync(dir).find((f) => f.startsWith('local-hash'))!,
  );
  await assert.rejects(
    ChunkStore.open({ dir: folder, embedderId: 'local-hash-v1-384', dimensions: 256 }),
    /384-dimensional.*256-dimensional|cannot be mixed/s,
  );
  const other = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder({ dimensions: 256 }) });
  assert.notEqual(other.folder, idx.folder);
  assert.equal(other.count('workspace'), 0, 'workspace chunks are not carried over: they are re-indexed');
  assert.equal(other.count('memory'), 1, 'memories are re-embedded from the memory log');
  await other.close();
});

test('a corrupt shard cache is rebuilt from the Vectra copy; a corrupt Vectra copy from the cache', async () => {
  const dir = tmp();
  const idx = await filled(dir);
  await idx.flush();
  const folder = idx.folder;
  await idx.close();
  const shard = readdirSync(folder).find((f) => f.startsWith('shard-'))!;
  const cache = path.join(folder, shard, 'cache.bin');
  const size = statSync(cache).size;
  writeFileSync(cache, Buffer.alloc(size, 7)); // same size, garbage
  const notices: string[] = [];
  const again = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder(), log: (m) => notices.push(m) });
  assert.ok(
    notices.some((n) => /rebuilt from its Vectra copy/.test(n)),
    notices.join('\n'),
  );
  assert.equal((await again.search('parseCookieHeader')).hits[0]!.path, 'src/cookies.ts');
  await again.close();

  truncateSync(path.join(folder, shard, 'index.pb'), 100);
  const notices2: string[] = [];
  const third = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder(), log: (m) => notices2.push(m) });
  await new Promise((r) => setTimeout(r, 300)); // the Vectra copy is repaired in the background
  assert.ok(
    notices2.some((n) => /rewritten from the cache/.test(n)),
    notices2.join('\n'),
  );
  assert.equal((await third.search('parseCookieHeader')).hits[0]!.path, 'src/cookies.ts');
  await third.close();

  // both copies gone: the shard is dropped with a notice, the index still opens
  rmSync(path.join(folder, shard), { recursive: true });
  const notices3: string[] = [];
  const fourth = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder(), log: (m) => notices3.push(m) });
  assert.ok(
    notices3.some((n) => /damaged beyond repair/.test(n)),
    notices3.join('\n'),
  );
  assert.equal(fourth.count('workspace'), 0);
  await fourth.close();
});

test('a torn journal tail is dropped, earlier entries kept', async () => {
  const dir = tmp();
  const idx = await filled(dir);
  await idx.close();
  const journal = path.join(
    idx.folder,
    readdirSync(idx.folder).find((f) => f.startsWith('journal-'))!,
  );
  writeFileSync(journal, '{"op":"put","r":{"id":"x"', { flag: 'a' });
  const notices: string[] = [];
  const again = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder(), log: (m) => notices.push(m) });
  assert.equal(again.count('workspace'), 4);
  assert.ok(notices.some((n) => /torn write/.test(n)));
  await again.close();
});
