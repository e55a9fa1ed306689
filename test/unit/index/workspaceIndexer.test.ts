import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, renameSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { WorkspaceIndexer, type IndexProgress } from '../../../src/core/index/workspaceIndexer';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import type { Embedder } from '../../../src/core/interfaces/embedder';

/** The real local embedder, counting which paths it was asked to embed. */
class CountingEmbedder implements Embedder {
  private readonly inner = new LocalHashEmbedder();
  readonly id = this.inner.id;
  readonly dimensions = this.inner.dimensions;
  embedded: string[] = [];
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    this.embedded.push(...texts.map((t) => t.split('\n')[0]!));
    return this.inner.embed(texts, signal);
  }
}

function workspace(n: number): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ws-'));
  for (let i = 0; i < n; i++) {
    mkdirSync(path.join(root, 'src'), { recursive: true });
    writeFileSync(
      path.join(root, 'src', `mod${i}.ts`),
      `export function feature${i}(x: number): number {\n  return x * ${i}; // feature ${i}\n}\n`,
    );
  }
  writeFileSync(path.join(root, '.env'), 'SECRET=1');
  return root;
}

async function setup(root: string, store = mkdtempSync(path.join(os.tmpdir(), 'wsidx-'))) {
  const embedder = new CountingEmbedder();
  const archival = await ArchivalIndex.open({ dir: store, embedder });
  const indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: root }], archival });
  return { embedder, archival, indexer, store };
}

test('indexAll indexes everything once, then only what changed; deletes and secrets', async () => {
  const root = workspace(6);
  const { embedder, archival, indexer } = await setup(root);
  const progress: IndexProgress[] = [];
  indexer.onProgress((p) => progress.push(p));
  const first = await indexer.indexAll();
  assert.equal(first.indexed, 6);
  assert.equal(archival.count('workspace'), 6);
  assert.ok(!embedder.embedded.some((p) => p.includes('.env')), 'secret never embedded');
  assert.equal(progress.at(-1)!.phase, 'done');
  assert.ok(progress.some((p) => p.phase === 'indexing' && p.currentFile === 'src/mod0.ts' && p.filesTotal === 6));

  embedder.embedded = [];
  const second = await indexer.indexAll();
  assert.equal(second.indexed, 0);
  assert.equal(second.unchanged, 6);
  assert.deepEqual(embedder.embedded, []);

  writeFileSync(path.join(root, 'src', 'mod2.ts'), 'export const changed = true;\n');
  rmSync(path.join(root, 'src', 'mod5.ts'));
  const later = new Date(Date.now() + 5000);
  utimesSync(path.join(root, 'src', 'mod1.ts'), later, later); // touched, same content
  const third = await indexer.indexAll();
  assert.deepEqual(embedder.embedded, ['src/mod2.ts']);
  assert.equal(third.indexed, 1);
  assert.equal(third.removed, 1);
  assert.equal(archival.hasPath('src/mod5.ts'), false);
  await indexer.dispose();
  await archival.close();
});

test('reopen reconciles changes made while closed, re-embedding only those files', async () => {
  const root = workspace(4);
  const s1 = await setup(root);
  await s1.indexer.indexAll();
  await s1.indexer.dispose();
  await s1.archival.close();
  writeFileSync(path.join(root, 'src', 'mod3.ts'), 'export const whileClosed = 1;\n');
  writeFileSync(path.join(root, 'src', 'new.ts'), 'export const added = 2;\n');
  rmSync(path.join(root, 'src', 'mod0.ts'));
  const s2 = await setup(root, s1.store);
  const r = await s2.indexer.indexAll();
  assert.deepEqual(s2.embedder.embedded.sort(), ['src/mod3.ts', 'src/new.ts']);
  assert.equal(r.removed, 1);
  assert.equal(s2.archival.count('workspace'), 4);
  await s2.archival.close();
});

test('save, create, delete and rename touch only that file', async () => {
  const root = workspace(3);
  const { embedder, archival, indexer } = await setup(root);
  await indexer.indexAll();
  embedder.embedded = [];
  writeFileSync(path.join(root, 'src', 'mod1.ts'), 'export const saved = "again";\n');
  assert.equal(await indexer.indexFile(path.join(root, 'src', 'mod1.ts')), 1);
  assert.equal(await indexer.indexFile(path.join(root, 'src', 'mod1.ts')), 'unchanged');
  assert.equal(await indexer.indexFile(path.join(root, '.env')), 'secret');
  assert.deepEqual(embedder.embedded, ['src/mod1.ts']);
  embedder.embedded = [];
  renameSync(path.join(root, 'src', 'mod2.ts'), path.join(root, 'src', 'renamed.ts'));
  await indexer.renameFile(path.join(root, 'src', 'mod2.ts'), path.join(root, 'src', 'renamed.ts'));
  assert.deepEqual(embedder.embedded, [], 'a rename re-embeds nothing');
  assert.equal(archival.hasPath('src/renamed.ts'), true);
  assert.equal(archival.hasPath('src/mod2.ts'), false);
  rmSync(path.join(root, 'src', 'mod0.ts'));
  assert.equal(await indexer.removeFile(path.join(root, 'src', 'mod0.ts')), 1);
  assert.equal(archival.count('workspace'), 2);
  const again = await indexer.indexAll();
  assert.equal(again.indexed, 0, 'the catalog followed the single-file events');
  await archival.close();
});

test('a second indexAll while one runs is queued, never concurrent; cancel and pause', async () => {
  const root = workspace(30);
  const { archival, indexer } = await setup(root);
  let active = 0;
  let maxActive = 0;
  indexer.onProgress((p) => {
    if (p.phase === 'discovering') maxActive = Math.max(maxActive, ++active);
    if (p.phase === 'done' || p.phase === 'cancelled') active--;
  });
  const a = indexer.indexAll();
  const b = indexer.indexAll();
  const c = indexer.indexAll();
  assert.equal(b, c, 'calls during a run share one queued run');
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.indexed, 30);
  assert.equal(rb.indexed, 0);
  assert.equal(maxActive, 1);

  for (let i = 0; i < 30; i++) writeFileSync(path.join(root, 'src', `mod${i}.ts`), `export const v${i} = ${i + 100};\n`);
  const ctl = new AbortController();
  let done = 0;
  const sub = indexer.onProgress((p) => {
    if (p.phase === 'indexing' && p.filesDone === 3) ctl.abort();
    done = p.filesDone;
  });
  const cancelled = await indexer.indexAll({ signal: ctl.signal });
  sub.dispose();
  assert.equal(cancelled.cancelled, true);
  assert.ok(done < 30);

  indexer.pause();
  const run = indexer.indexAll();
  let finished = false;
  void run.then(() => (finished = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(finished, false, 'paused run does not finish');
  indexer.resume();
  const resumed = await run;
  assert.ok(resumed.indexed > 0 && resumed.indexed <= 30);
  assert.equal((await indexer.indexAll()).indexed, 0);
  await archival.close();
});
