/**
 * A laptop with the shared index in reach indexes only what differs from the publish: files with
 * the published content are catalogued, not chunked or embedded, and searches answer them from
 * the shared index. A file that changes, or every such file once the server is gone, is indexed
 * here. Against a real PostgreSQL wire-protocol server (PGlite behind pglite-socket) of its own,
 * which the last test stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { OverlayArchivalStore } from '../../../src/core/team/overlayStore';
import { PgArchivalStore } from '../../../src/core/team/pgArchivalStore';
import { useTeamServer } from './teamFixture';

const team = useTeamServer();
const { tmp, writeTree } = team;

const COMMIT = 'e'.repeat(40);

/** Twelve modules, each with a function of its own name, so every file is found by one word. */
function files(): Record<string, string> {
  const out: Record<string, string> = {};
  const names = ['router', 'retry', 'cookies', 'session', 'ledger', 'invoice', 'tensor', 'bucket', 'socket', 'schema', 'cursor', 'journal'];
  for (const n of names) {
    out[`src/${n}.ts`] =
      `/** Works on a ${n}. */\nexport function handle${n[0]!.toUpperCase()}${n.slice(1)}Thing(input: string): string {\n` +
      `  // the ${n} module turns its input into a ${n} record\n  return input.trim() + '${n}';\n}\n\n` +
      `export class ${n[0]!.toUpperCase()}${n.slice(1)}Store {\n  items: string[] = [];\n  add(x: string): void {\n    this.items.push(x);\n  }\n}\n`;
  }
  out['docs/guide.md'] = '# Guide\n\nHow the modules fit together: routers, retries and cookies.\n';
  return out;
}

test('shared index: symbols are published with the commit; find_symbol and file_outline answer files left to it, local changes win', async () => {
  const repoId = 'repo-symbols';
  const connection = team.connection;
  const ci = await team.indexWorkspace(team.writeWorkspace(files(), 'sym-ci-'));
  const result = await team.publish(repoId, COMMIT, ci);
  assert.equal(result.symbolFiles, 12, 'every code file has its symbols published (the markdown file has none)');
  await ci.close();

  const root = tmp('sym-laptop-');
  writeTree(root, {
    ...files(),
    'src/retry.ts': 'export function zebraQuokkaRetry(): number {\n  return 3;\n}\n',
  });
  rmSync(path.join(root, 'src/cookies.ts'));
  const local = await ArchivalIndex.open({ dir: tmp('sym-laptop-idx-'), embedder: new LocalHashEmbedder() });
  const late: { indexer?: WorkspaceIndexer } = {};
  const overlay = new OverlayArchivalStore({
    local,
    openShared: () => PgArchivalStore.open({ connection, repoId, commit: COMMIT, embedder: local.embedder }),
    covered: {
      all: () => late.indexer!.sharedFiles(),
      hashOf: (p) => late.indexer!.sharedHashOf(p),
      count: () => late.indexer!.sharedCount(),
    },
  });
  const indexer = (late.indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: root }], archival: local, published: overlay }));
  try {
    const run = await indexer.indexAll();
    assert.deepEqual([run.indexed, run.shared], [1, 11]);
    assert.equal(local.symbols.has('src/ledger.ts'), false, 'the laptop did not parse ledger.ts');
    await overlay.symbolsReady();
    const symbols = overlay.symbols;

    const ledger = symbols.find('handleLedgerThing');
    assert.deepEqual(
      ledger.definitions.map((d) => [d.path, d.kind, d.line]),
      [['src/ledger.ts', 'function', 2]],
      'a definition in a file only the publish holds',
    );
    assert.equal(symbols.find('LedgerStore.add').definitions[0]?.path, 'src/ledger.ts');
    const outline = symbols.outline('src/ledger.ts')?.map((d) => d.name) ?? [];
    assert.ok(
      outline.includes('handleLedgerThing') && outline.includes('LedgerStore'),
      `file_outline of a file left to the publish: ${outline}`,
    );
    // The local edit wins: the published definition of retry.ts is gone, the new one is found.
    assert.deepEqual(symbols.find('handleRetryThing').definitions, []);
    assert.equal(symbols.find('zebraQuokkaRetry').definitions[0]?.path, 'src/retry.ts');
    // A deleted file's symbols never show.
    assert.deepEqual(symbols.find('handleCookiesThing').definitions, []);
    assert.equal(symbols.outline('src/cookies.ts'), undefined);
    assert.ok(symbols.match('Store').some((d) => d.path === 'src/tensor.ts' && d.name === 'TensorStore'));
    assert.ok(!symbols.match('Store').some((d) => d.path === 'src/cookies.ts'));
    assert.equal(symbols.fileCount, 11, '10 files from the publish, retry.ts from here');

    // A file left to the publish is edited here: its local symbols replace the published ones.
    writeFileSync(path.join(root, 'src/tensor.ts'), 'export function tensorOfPenguins(): number {\n  return 4;\n}\n');
    await indexer.indexFile(path.join(root, 'src/tensor.ts'));
    assert.deepEqual(symbols.find('handleTensorThing').definitions, []);
    assert.equal(symbols.find('tensorOfPenguins').definitions[0]?.path, 'src/tensor.ts');
  } finally {
    await overlay.close();
    await indexer.dispose();
    await local.close();
  }
});

test('shared index: a laptop indexes only the files that differ from the publish, and follows changes, reverts and a lost server', async () => {
  const repoId = 'repo-skip';
  const connection = team.connection;
  // CI: the whole commit, indexed and published.
  const ci = await team.indexWorkspace(team.writeWorkspace(files(), 'skip-ci-'));
  const published = await team.publish(repoId, COMMIT, ci);
  const ciFiles = ci.indexedPaths().length;
  const ciChunks = ci.count('workspace');
  await ci.close();

  // The laptop: the same checkout with one file edited and one added.
  const root = tmp('skip-laptop-');
  writeTree(root, {
    ...files(),
    'src/retry.ts': 'export function zebraQuokkaRetry(): number {\n  // a fixed pause instead of backoff\n  return 3;\n}\n',
    'src/extra.ts': 'export function kiwiExtraHelper(): void {\n  // only on this laptop\n}\n',
  });
  const local = await ArchivalIndex.open({ dir: tmp('skip-laptop-idx-'), embedder: new LocalHashEmbedder() });
  const late: { indexer?: WorkspaceIndexer } = {};
  const notices: string[] = [];
  const overlay = new OverlayArchivalStore({
    local,
    openShared: () => PgArchivalStore.open({ connection, repoId, commit: COMMIT, embedder: local.embedder, connectTimeoutMs: 500 }),
    notice: (m) => notices.push(m),
    covered: {
      all: () => late.indexer!.sharedFiles(),
      hashOf: (p) => late.indexer!.sharedHashOf(p),
      count: () => late.indexer!.sharedCount(),
    },
    retryAfterMs: 60_000,
  });
  const indexer = (late.indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: root }], archival: local, published: overlay }));
  const reconciles: Promise<unknown>[] = [];
  overlay.onDidChange(() => reconciles.push(late.indexer!.indexAll()));
  try {
    // Without the shared index this laptop would index all 14 files, as CI did (13 + the new one).
    assert.deepEqual([ciFiles, published.files], [13, 13]);
    const run = await indexer.indexAll();
    assert.equal(run.indexed, 2, 'only the edited and the new file are chunked and embedded here');
    assert.equal(run.shared, 12, 'the twelve files with the published content are left to the shared index');
    const laptopChunks = local.count('workspace');
    assert.ok(laptopChunks > 0 && laptopChunks * 4 < ciChunks, `laptop ${laptopChunks} chunks vs CI ${ciChunks}`);
    assert.deepEqual(
      [...(await indexer.sharedFiles()).keys()].sort(),
      Object.keys(files())
        .filter((p) => p !== 'src/retry.ts')
        .sort(),
    );

    // Searches: shared for the untouched files, local for the edited and new ones, never the published edit.
    assert.equal((await overlay.search('handleLedgerThing ledger record')).hits[0]?.path, 'src/ledger.ts');
    const edited = await overlay.search('zebraQuokkaRetry fixed pause');
    assert.equal(edited.hits[0]?.path, 'src/retry.ts');
    assert.match(edited.hits[0]!.text, /zebraQuokkaRetry/);
    assert.ok((await overlay.search('handleRetryThing retry record')).hits.every((h) => !h.text.includes('handleRetryThing')));
    assert.equal((await overlay.search('kiwiExtraHelper')).hits[0]?.path, 'src/extra.ts');

    // A second pass touches nothing; reopening keeps the decision (the catalog remembers it).
    const again = await indexer.indexAll();
    assert.deepEqual([again.indexed, again.shared, again.unchanged], [0, 12, 2]);

    // A file left to the shared index is edited: indexed here at its save, and its published version hides.
    writeFileSync(path.join(root, 'src/ledger.ts'), 'export function ledgerOfOstrichEggs(): number {\n  return 12;\n}\n');
    assert.equal(typeof (await indexer.indexFile(path.join(root, 'src/ledger.ts'))), 'number');
    assert.equal((await indexer.sharedFiles()).has('src/ledger.ts'), false);
    assert.equal((await overlay.search('ledgerOfOstrichEggs ostrich eggs')).hits[0]?.path, 'src/ledger.ts');
    const ledger = await overlay.search('handleLedgerThing ledger record');
    assert.ok(
      ledger.hits.every((h) => !h.text.includes('handleLedgerThing')),
      'the published version of an edited file never shows',
    );

    // The edit of retry.ts is reverted to the committed text: its local chunks go, the publish answers again.
    writeFileSync(path.join(root, 'src/retry.ts'), files()['src/retry.ts']!);
    assert.equal(await indexer.indexFile(path.join(root, 'src/retry.ts')), 'shared');
    assert.equal(local.hasPath('src/retry.ts'), false);
    const reverted = await overlay.search('handleRetryThing retry record');
    assert.equal(reverted.hits[0]?.path, 'src/retry.ts');
    assert.ok(reverted.hits.every((h) => !h.text.includes('zebraQuokkaRetry')));

    // The server goes away: the next search falls back, says so, and the files left to it are indexed here.
    const leftBefore = (await indexer.sharedFiles()).size;
    assert.equal(leftBefore, 12);
    await team.server.stop();
    const fallback = await overlay.search('handleBucketThing bucket record');
    assert.equal(overlay.status().shared, 'unavailable');
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /unreachable/);
    assert.match(notices[0]!, /12 files left to the shared index are indexed here now/);
    assert.ok(
      fallback.hits.every((h) => h.path !== 'src/bucket.ts'),
      'not indexed here yet when the server went',
    );
    assert.equal(reconciles.length, 1, 'losing the publish asks for one pass');
    const recovered = (await reconciles[0]) as { indexed: number; shared: number };
    assert.deepEqual([recovered.indexed, recovered.shared], [12, 0]);
    assert.equal((await indexer.sharedFiles()).size, 0);
    assert.equal((await overlay.search('handleBucketThing bucket record')).hits[0]?.path, 'src/bucket.ts', 'now answered locally');
    assert.equal(local.indexedPaths().length, 14, 'the local index holds the whole workspace again');
  } finally {
    await overlay.close();
    await indexer.dispose();
    await local.close();
  }
});
