/** The symbol index in step with the workspace index: edit, delete, rename, reopen, damage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';
import { SYMBOL_LOG_FILE, SYMBOL_NAMES_FILE, SymbolIndex } from '../../../src/core/index/symbolIndex';
import { encodeLogLine } from '../../../src/core/storage/appendLog';
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

test('symbols: a reader answers "is this a defined name" from the names table, and replays the log for anything else or when the table is stale', async () => {
  const root = workspace();
  const store = mkdtempSync(path.join(os.tmpdir(), 'symidx-'));
  const { archival, indexer } = await open(root, store);
  await indexer.indexAll();
  const expected = archival.symbols.find('LruCache');
  await indexer.dispose();
  await archival.close();
  const namesFile = path.join(archival.folder, SYMBOL_NAMES_FILE);
  assert.ok(existsSync(namesFile), 'the writer leaves the names table beside the log when it closes');
  const table = JSON.parse(readFileSync(namesFile, 'utf8')) as { names: string[] };
  assert.deepEqual(table.names, ['LruCache', 'get', 'warm', 'warm_cache']);

  const reports: string[] = [];
  let reader = await SymbolIndex.open(archival.folder, { readOnly: true, log: (m) => reports.push(m) });
  assert.equal(reader.defines('LruCache'), true);
  assert.equal(reader.defines('lrucache'), false, 'exact spelling, as the table it stands for');
  assert.equal(reader.defines('Missing'), false);
  // anything else reads the log, with the same answers as the writer had
  assert.deepEqual(reader.find('LruCache'), expected);
  assert.equal(reader.fileCount, 3);
  await reader.close();

  // a writer appended after the table was written (it is still running, or it crashed): the table is stale
  const line = encodeLogLine({
    op: 'put',
    path: 'src/late.ts',
    hash: 'h',
    defs: [['lateArrival', 'function', 1, 1, 3, '', 'function lateArrival()', '']],
    refs: [],
  });
  appendFileSync(path.join(archival.folder, SYMBOL_LOG_FILE), line);
  reader = await SymbolIndex.open(archival.folder, { readOnly: true });
  assert.equal(reader.defines('lateArrival'), true, 'a stale table is not trusted: the log answers');
  assert.equal(reader.defines('LruCache'), true);
  await reader.close();

  // a damaged table is derived data: the log answers, and the log says why
  writeFileSync(namesFile, '{"version":1,"names":[');
  reader = await SymbolIndex.open(archival.folder, { readOnly: true, log: (m) => reports.push(m) });
  assert.equal(reader.defines('lateArrival'), true);
  await reader.close();
  assert.ok(
    reports.some((m) => m.includes(SYMBOL_NAMES_FILE) && m.includes('damaged')),
    reports.join('\n'),
  );

  // the next writer brings the table up to date
  const writer = await SymbolIndex.open(archival.folder);
  await writer.close();
  assert.ok((JSON.parse(readFileSync(namesFile, 'utf8')) as { names: string[] }).names.includes('lateArrival'));
});
