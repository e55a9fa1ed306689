/**
 * Issue 13, item 5: one durability layer (src/core/storage) for everything on disk. The index's
 * weaker twin is gone; memories.jsonl and the index journals are checksummed append logs that
 * skip a damaged line in the middle instead of cutting everything after it; old-format files are
 * migrated, not reset; and a read-only window leaves every file byte-identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { chunkText } from '../../../src/core/index/chunker';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import type { RuntimeConfig } from '../../../src/core/runtime/runtimeConfig';
import { REPO } from '../cli/cliHarness';
import { testRuntimeConfig } from '../../fixtures/runtimeRig';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'memgpt-durable-'));

test('the index has no durability layer of its own: src/core/index/atomicFile.ts is gone and nothing imports it', () => {
  assert.equal(existsSync(path.join(REPO, 'src', 'core', 'index', 'atomicFile.ts')), false);
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (
        p.endsWith('.ts') &&
        /from '\.\/atomicFile'|index\/atomicFile'/.test(readFileSync(p, 'utf8')) &&
        !p.includes(`${path.sep}storage${path.sep}`)
      )
        offenders.push(p);
    }
  };
  walk(path.join(REPO, 'src'));
  assert.deepEqual(offenders, []);
});

test('memories.jsonl of the old format loads (a damaged line in the middle skipped, not the rest) and is migrated', async () => {
  const dir = tmp();
  const legacy = [
    JSON.stringify({ id: 'mem-1', text: 'the staging database is called blue-heron', time: '2026-01-01T00:00:00.000Z' }),
    '{"id":"mem-2","text":"damaged in the mid',
    JSON.stringify({
      id: 'mem-3',
      text: 'deploys happen on Tuesdays only',
      time: '2026-01-02T00:00:00.000Z',
      path: 'docs/ops.md',
      startLine: 3,
      endLine: 4,
    }),
    JSON.stringify({ id: 'mem-4', text: 'the release manager is Ada', time: '2026-01-03T00:00:00.000Z' }),
  ];
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'memories.jsonl'), `${legacy.join('\n')}\n`);
  const notices: string[] = [];
  const idx = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder(), notice: (m) => notices.push(m) });
  try {
    assert.equal(idx.count('memory'), 3, 'the items before and after the damaged line are both kept');
    assert.equal((await idx.search('release manager', { source: 'memory' })).hits[0]?.id, 'mem-4');
    await idx.insertMemory('a new item after the migration');
  } finally {
    await idx.close();
  }
  const lines = readFileSync(path.join(dir, 'memories.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const checksummed = lines.filter((l) => /^[0-9a-f]{8} \{/.test(l));
  assert.equal(checksummed.length, 4, `migrated to checksummed lines, the new one appended: ${lines.join('\n')}`);
  assert.ok(
    lines.some((l) => l.includes('damaged in the mid')),
    'the damaged line is kept in the file, not deleted',
  );
  assert.ok(
    notices.some((n) => /memories\.jsonl/.test(n)),
    `the damaged line is reported: ${JSON.stringify(notices)}`,
  );
  const again = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
  assert.equal(again.count('memory'), 4);
  await again.close();
});

test('an index journal with a damaged line in the middle keeps the entries after it', async () => {
  const dir = tmp();
  const idx = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
  for (const name of ['a', 'b', 'c', 'd'])
    await idx.replaceFile(`src/${name}.ts`, `h-${name}`, chunkText(`src/${name}.ts`, `export const ${name}Value = '${name}';\n`));
  await idx.close();
  const journal = path.join(
    idx.folder,
    readdirSync(idx.folder).find((f) => f.startsWith('journal-'))!,
  );
  const lines = readFileSync(journal, 'utf8').split('\n');
  lines[1] = lines[1]!.replace(/.$/, '#'); // the second file's line: same length, wrong checksum
  writeFileSync(journal, lines.join('\n'));
  const again = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
  try {
    assert.deepEqual(again.indexedPaths().sort(), ['src/a.ts', 'src/c.ts', 'src/d.ts']);
  } finally {
    await again.close();
  }
});

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), `${s.size}:${createHash('sha1').update(readFileSync(p)).digest('hex')}:${s.mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

test('a read-only window leaves every file byte-identical, even with repairs pending', async () => {
  const root = tmp();
  const folder = path.join(root, 'project');
  await mkdir(path.join(folder, 'src'), { recursive: true });
  for (const name of ['billing', 'cookies', 'router']) {
    await writeFile(
      path.join(folder, 'src', `${name}.ts`),
      `export function ${name}Handler(input: string): string {\n  return input + '${name}';\n}\n`,
    );
  }
  const config: RuntimeConfig = testRuntimeConfig();
  const options = { storageRoot: path.join(root, 'state'), folders: [{ name: 'project', path: folder }], trusted: true, config };
  const writer = await WorkspaceRuntime.open(options);
  await writer.index.indexWorkspace({});
  await writer.memory.remember('the staging database is called blue-heron', { path: 'src/billing.ts', startLine: 1, endLine: 3 });
  await writer.files.fileChanged(path.join(folder, 'src', 'router.ts')); // unchanged: nothing new
  await writeFile(path.join(folder, 'src', 'extra.ts'), 'export const extraValue = 1;\n');
  await writer.files.fileChanged(path.join(folder, 'src', 'extra.ts')); // in the journal, not yet in a shard
  const storageDir = writer.storage.dir;
  const indexFolder = path.join(
    storageDir,
    'archival',
    readdirSync(path.join(storageDir, 'archival')).find((n) => n.startsWith('local-hash'))!,
  );
  await writer.close();

  // Repairs a writer would make on open: a torn journal tail, a damaged shard cache (rebuilt from
  // the Vectra copy), an old-format memory missing from the index, a torn recall tail, a lost active.json.
  const journal = path.join(
    indexFolder,
    readdirSync(indexFolder).find((f) => f.startsWith('journal-'))!,
  );
  writeFileSync(journal, '0badc0de {"op":"put"', { flag: 'a' });
  const shard = path.join(
    indexFolder,
    readdirSync(indexFolder).find((f) => f.startsWith('shard-'))!,
  );
  const cache = path.join(shard, 'cache.bin');
  writeFileSync(cache, Buffer.alloc(statSync(cache).size, 7));
  writeFileSync(
    path.join(storageDir, 'archival', 'memories.jsonl'),
    `${JSON.stringify({ id: 'mem-legacy', text: 'an old-format memory', time: '2026-01-01T00:00:00.000Z' })}\n`,
    { flag: 'a' },
  );
  writeFileSync(path.join(storageDir, 'recall', 'recall.log'), '0000', { flag: 'a' });
  await rm(path.join(storageDir, 'agents', 'active.json'), { force: true });

  const before = snapshot(root);
  const reader = await WorkspaceRuntime.open({ ...options, readOnly: true });
  try {
    assert.equal(reader.readOnly, true);
    const hits = await reader.memory.searchArchival('cookiesHandler', { limit: 5, source: 'workspace' });
    assert.equal(hits[0]?.path, 'src/cookies.ts', 'the shard is served from its Vectra copy');
    const journalHits = await reader.memory.searchArchival('extraValue', { limit: 5, source: 'workspace' });
    assert.equal(journalHits[0]?.path, 'src/extra.ts', 'the journal is replayed');
    assert.ok(
      (await reader.memory.searchArchival('old-format memory', { limit: 5, source: 'memory' })).some((h) => h.id === 'mem-legacy'),
      'memories missing from the index are searchable',
    );
    await reader.memory.memoryStats();
    await new Promise((r) => setTimeout(r, 300)); // background repairs, if any, would land now
  } finally {
    await reader.close();
  }
  assert.deepEqual(snapshot(root), before, 'no file was created, changed, moved or deleted');
});
