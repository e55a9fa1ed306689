/**
 * Issue 13, item 4: derived data (the archival index of the workspace) never blocks and never
 * vanishes in silence. A damaged manifest or shard is rebuilt with a notice; remembered items
 * (primary data, in memories.jsonl) come back; the workspace is indexed again on the next run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';

function workspace(): { root: string; wsDir: string; dir: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'memgpt-derived-'));
  const wsDir = path.join(root, 'ws');
  const src = path.join(wsDir, 'src');
  mkdirSync(src, { recursive: true });
  writeFileSync(
    path.join(src, 'billing.ts'),
    'export function computeInvoiceTotal(lines: number[]): number {\n  return lines.reduce((a, b) => a + b, 0);\n}\n',
  );
  writeFileSync(
    path.join(src, 'cookies.ts'),
    'export function parseCookieHeader(header: string): Map<string, string> {\n  return new Map(header.split(";").map((p) => p.split("=") as [string, string]));\n}\n',
  );
  return { root, wsDir, dir: path.join(root, 'archival') };
}

/** An index of the workspace, flushed to a shard, plus one remembered item. */
async function indexed(wsDir: string, dir: string): Promise<string> {
  const archival = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder() });
  const indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: wsDir }], archival });
  await indexer.indexAll();
  await archival.insertMemory('the staging database is called blue-heron');
  await archival.flush();
  await indexer.dispose();
  await archival.close();
  return archival.folder;
}

async function reopen(wsDir: string, dir: string): Promise<{ archival: ArchivalIndex; notices: string[]; reindex(): Promise<void> }> {
  const notices: string[] = [];
  const archival = await ArchivalIndex.open({ dir, embedder: new LocalHashEmbedder(), notice: (m) => notices.push(m) });
  return {
    archival,
    notices,
    async reindex() {
      const indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: wsDir }], archival });
      await indexer.indexAll();
      await indexer.dispose();
    },
  };
}

async function assertRecovered(wsDir: string, dir: string, pattern: RegExp): Promise<void> {
  const { archival, notices, reindex } = await reopen(wsDir, dir);
  try {
    assert.ok(
      notices.some((n) => pattern.test(n) && /re-?index/i.test(n)),
      `the user is told what was rebuilt: ${JSON.stringify(notices)}`,
    );
    assert.equal(archival.count('memory'), 1, 'the remembered item survives (re-embedded from memories.jsonl)');
    await reindex();
    assert.equal(archival.count('workspace') > 0, true, 'the next index run brings the workspace back');
    const hits = (await archival.search('invoice total')).hits;
    assert.equal(hits[0]?.path, 'src/billing.ts');
  } finally {
    await archival.close();
  }
}

test('an archival manifest of {} is rebuilt with a notice, not refused as "newer"', async () => {
  const { wsDir, dir } = workspace();
  const folder = await indexed(wsDir, dir);
  writeFileSync(path.join(folder, 'manifest.json'), '{}');
  await assertRecovered(wsDir, dir, /manifest\.json/);
});

test('a half-written archival manifest is rebuilt with a notice', async () => {
  const { wsDir, dir } = workspace();
  const folder = await indexed(wsDir, dir);
  const manifest = path.join(folder, 'manifest.json');
  truncateSync(manifest, Math.floor(statSync(manifest).size / 2));
  await assertRecovered(wsDir, dir, /manifest\.json/);
});

test('a half-written texts.bin: the shard is dropped with a notice, memories restored, the workspace re-indexed', async () => {
  const { wsDir, dir } = workspace();
  const folder = await indexed(wsDir, dir);
  const shard = readdirSync(folder).find((f) => f.startsWith('shard-'))!;
  const texts = path.join(folder, shard, 'texts.bin');
  truncateSync(texts, Math.floor(statSync(texts).size / 2));
  await assertRecovered(wsDir, dir, /texts\.bin|shard/);
});

test('an index written by a newer version is kept aside, not deleted, and a fresh one is built', async () => {
  const { wsDir, dir } = workspace();
  const folder = await indexed(wsDir, dir);
  const manifest = path.join(folder, 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), schema: 99 }));
  const { archival, notices } = await reopen(wsDir, dir);
  try {
    assert.ok(
      notices.some((n) => /newer/.test(n) && /kept/.test(n)),
      JSON.stringify(notices),
    );
    assert.equal(archival.count('memory'), 1);
    assert.equal(readdirSync(dir).filter((n) => n.startsWith(`${path.basename(folder)}.newer-`)).length, 1, 'the newer index is kept');
  } finally {
    await archival.close();
  }
});
