/** The symbol index in step with the workspace index: edit, delete, rename, reopen, damage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';
import { SYMBOL_LOG_FILE } from '../../../src/core/index/symbolIndex';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';

async function open(root: string, store: string) {
  const archival = await ArchivalIndex.open({ dir: store, embedder: new LocalHashEmbedder() });
  const indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: root }], archival });
  return { archival, indexer };
}

function workspace(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sym-'));
  mkdirSync(path.join(root, 'src'), { recursive: true });
  writeFileSync(
    path.join(root, 'src', 'cache.ts'),
    `/** Keeps recent entries. */\nexport class LruCache {\n  get(key: string): number { return 0; }\n}\n`,
  );
  writeFileSync(
    path.join(root, 'src', 'use.ts'),
    `import { LruCache } from './cache';\nconst c = new LruCache();\nexport function warm(): void {\n  c.get('a');\n}\n`,
  );
  writeFileSync(path.join(root, 'tool.py'), `def warm_cache(cache):\n    """Fills the cache."""\n    return LruCache()\n`);
  return root;
}

test('symbols: definitions first, then references; outline; incremental on edit, delete and rename; kept across reopen', async () => {
  const root = workspace();
  const store = mkdtempSync(path.join(os.tmpdir(), 'symidx-'));
  let { archival, indexer } = await open(root, store);
  await indexer.indexAll();

  const found = archival.symbols.find('LruCache');
  assert.deepEqual(
    found.definitions.map((d) => `${d.kind} ${d.path}:${d.line}`),
    ['class src/cache.ts:2'],
  );
  assert.equal(found.definitions[0]!.doc, 'Keeps recent entries.');
  assert.deepEqual(
    found.references.map((r) => `${r.path}:${r.line}`),
    ['src/use.ts:1', 'src/use.ts:2', 'tool.py:3'],
  );
  assert.deepEqual(
    archival.symbols.find('LruCache.get').definitions.map((d) => `${d.kind} ${d.container}.${d.name}`),
    ['method LruCache.get'],
  );
  assert.deepEqual(
    archival.symbols.outline('src/cache.ts')!.map((d) => `${d.startLine} ${d.kind} ${d.name}`),
    ['1 class LruCache', '3 method get'],
  );
  assert.deepEqual(
    archival.symbols.match('warm').map((d) => d.name),
    ['warm', 'warm_cache'],
  );

  // edit: the class is renamed, the old name has no definition any more
  writeFileSync(path.join(root, 'src', 'cache.ts'), `export class RecentCache {\n  get(key: string): number { return 0; }\n}\n`);
  await indexer.indexFile(path.join(root, 'src', 'cache.ts'));
  assert.equal(archival.symbols.find('LruCache').definitions.length, 0);
  assert.equal(archival.symbols.find('RecentCache').definitions[0]!.path, 'src/cache.ts');

  // rename: the symbols follow the file without a new parse
  renameSync(path.join(root, 'src', 'cache.ts'), path.join(root, 'src', 'recent.ts'));
  await indexer.renameFile(path.join(root, 'src', 'cache.ts'), path.join(root, 'src', 'recent.ts'));
  assert.equal(archival.symbols.find('RecentCache').definitions[0]!.path, 'src/recent.ts');
  assert.equal(archival.symbols.outline('src/cache.ts'), undefined);

  // delete
  rmSync(path.join(root, 'tool.py'));
  await indexer.removeFile(path.join(root, 'tool.py'));
  assert.equal(archival.symbols.find('warm_cache').definitions.length, 0);
  assert.ok(!archival.symbols.find('LruCache').references.some((r) => r.path === 'tool.py'));

  await archival.flush(); // chunks go from the journal into a shard: their symbols field must survive it
  await indexer.dispose();
  await archival.close();
  ({ archival, indexer } = await open(root, store));
  assert.equal(archival.symbols.find('RecentCache').definitions[0]!.path, 'src/recent.ts', 'kept across reopen');
  const records = [...archival.store.live()].map((l) => l.record);
  assert.ok(
    records.some((r) => r.path === 'src/recent.ts' && r.symbols === 'RecentCache get'),
    'chunk symbols read back from a shard',
  );
  assert.equal(archival.symbols.fileCount, 2);
  await archival.close();
});

test('symbols: a damaged symbol log line is skipped and the file it described is parsed again by the next index run', async () => {
  const root = workspace();
  const store = mkdtempSync(path.join(os.tmpdir(), 'symidx-'));
  let { archival, indexer } = await open(root, store);
  await indexer.indexAll();
  await indexer.dispose();
  await archival.close();
  // the log loses everything (a torn write or a user deleting it): the chunks are still there
  writeFileSync(path.join(archival.folder, SYMBOL_LOG_FILE), '');
  appendFileSync(path.join(archival.folder, SYMBOL_LOG_FILE), 'garbage\n');
  ({ archival, indexer } = await open(root, store));
  assert.equal(archival.symbols.fileCount, 0);
  const run = await indexer.indexAll();
  assert.equal(run.indexed, 3, 'every code file is parsed again');
  assert.equal(archival.symbols.find('LruCache').definitions.length, 1);
  await archival.close();
});
