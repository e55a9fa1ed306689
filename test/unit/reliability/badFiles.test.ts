import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsModule from 'node:fs';
import { mkdtempSync, mkdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildHostileWorkspace } from '../../fixtures/reliability/hostileWorkspace';
import { makeRig } from '../../fixtures/reliability/agentRig';
import { sendMessage } from '../../fixtures/fakeOpenAIServer';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { WorkspaceIndexer } from '../../../src/core/index/workspaceIndexer';
import { readIndexableFile } from '../../../src/core/index/discovery';
import { NodeWorkspace } from '../../../src/core/workspace/nodeWorkspace';
import { askAboutSelectionMessage, rememberedSelectionText } from '../../../src/core/events/selection';
import { ASK_SELECTION_MAX_CHARS, INDEX_MAX_FILE_BYTES, REMEMBER_SELECTION_MAX_CHARS } from '../../../src/core/limits';

const HUGE_BYTES = 100 * 1024 * 1024;

/**
 * Counts the bytes of `target` that any read pulls into memory, whichever
 * fs API the code under test uses (fs.promises.readFile or a FileHandle).
 */
async function countBytesRead<T>(target: string, run: () => Promise<T>): Promise<{ value: T; bytes: number }> {
  const promises = fsModule.promises;
  let bytes = 0;
  const handleOf = new WeakMap<object, string>();
  const probe = await promises.open(__filename, 'r');
  const proto = Object.getPrototypeOf(probe) as {
    readFile: (...a: unknown[]) => Promise<Buffer | string>;
    read: (...a: unknown[]) => Promise<{ bytesRead: number }>;
  };
  await probe.close();
  const orig = { readFile: promises.readFile, open: promises.open, handleReadFile: proto.readFile, handleRead: proto.read };
  const same = (p: unknown) => typeof p === 'string' && path.resolve(p) === path.resolve(target);
  promises.readFile = (async (...args: Parameters<typeof promises.readFile>) => {
    const out = await orig.readFile(...args);
    if (same(args[0])) bytes += out.length;
    return out;
  }) as typeof promises.readFile;
  promises.open = (async (...args: Parameters<typeof promises.open>) => {
    const h = await orig.open(...args);
    if (same(args[0])) handleOf.set(h, target);
    return h;
  }) as typeof promises.open;
  proto.readFile = async function (this: object, ...args: unknown[]) {
    const out = await orig.handleReadFile.apply(this, args);
    if (handleOf.has(this)) bytes += out.length;
    return out;
  };
  proto.read = async function (this: object, ...args: unknown[]) {
    const out = await orig.handleRead.apply(this, args);
    if (handleOf.has(this)) bytes += out.bytesRead;
    return out;
  };
  try {
    return { value: await run(), bytes };
  } finally {
    promises.readFile = orig.readFile;
    promises.open = orig.open;
    proto.readFile = orig.handleReadFile;
    proto.read = orig.handleRead;
  }
}

function badWorkspace() {
  const root = mkdtempSync(path.join(tmpdir(), 'memgpt-badfiles-'));
  const ws = buildHostileWorkspace(root);
  mkdirSync(path.join(ws.wsDir, 'logs'), { recursive: true });
  const huge = path.join(ws.wsDir, 'logs', 'huge.txt');
  writeFileSync(huge, 'the start of a huge log\n');
  truncateSync(huge, HUGE_BYTES); // sparse: 100 MB that costs no disk
  return { root, ws, huge };
}

test('indexing a workspace of bad files: binary, 100 MB, invalid UTF-8, symlink loops and links out, secrets', async () => {
  const { root, ws, huge } = badWorkspace();
  const archival = await ArchivalIndex.open({ dir: path.join(root, 'archival'), embedder: new LocalHashEmbedder() });
  try {
    const indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: ws.wsDir }], archival });
    const { value: result, bytes } = await countBytesRead(huge, () => indexer.indexAll());
    assert.equal(result.cancelled, false);
    assert.ok(bytes <= INDEX_MAX_FILE_BYTES, `the 100 MB file was not read into memory (${bytes} bytes read)`);
    const indexed = archival.indexedPaths().sort();
    assert.deepEqual(indexed, ['README.md', 'data/latin1.txt', 'docs/NOTES.md', 'src/app.ts', 'src/util/strings.ts']);
    const latin1 = await archival.search('caf ok', { source: 'workspace', pathGlob: 'data/**' });
    assert.match(latin1.hits[0]!.text, /caf\uFFFD/, 'invalid UTF-8 is indexed with replacement characters');
    for (const canary of Object.values(ws.canaries)) {
      const r = await archival.search(canary, { mode: 'lexical' });
      assert.ok(
        r.hits.every((h) => !h.text.includes(canary)),
        `${canary} is not in the index`,
      );
    }
    // A second run over the same files changes nothing.
    const again = await indexer.indexAll();
    assert.equal(again.indexed, 0);
    assert.equal(again.unchanged, indexed.length);
    await indexer.dispose();
  } finally {
    await archival.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('readIndexableFile refuses a 100 MB file without reading it (also when it grew after discovery)', async () => {
  const { root, huge } = badWorkspace();
  try {
    const { value, bytes } = await countBytesRead(huge, () => readIndexableFile(huge, INDEX_MAX_FILE_BYTES));
    assert.deepEqual(value, { ok: false, reason: 'too-large' });
    assert.ok(bytes <= INDEX_MAX_FILE_BYTES, `${bytes} bytes of a ${HUGE_BYTES}-byte file were read to refuse it`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the workspace functions on bad files: clear refusals, no hang on loops, the 100 MB file never read', async () => {
  const { root, ws, huge } = badWorkspace();
  try {
    const w = new NodeWorkspace([{ name: 'ws', path: ws.wsDir }]);
    await assert.rejects(w.readFile('logs/huge.txt', 1, 10), /too large to read \(104857600 bytes, limit \d+\)\. Use search_text/);
    await assert.rejects(w.readFile('assets/blob.bin', 1, 10), /binary file/);
    const latin1 = await w.readFile('data/latin1.txt', 1, 10);
    assert.match(latin1.text, /caf\uFFFD/);
    // A loop inside the workspace resolves to the real file (still inside): no hang, no escape.
    const looped = await w.readFile('src/loop/src/loop/src/app.ts', 1, 5);
    assert.match(looped.text, /the entry point/);
    const { value: listing, bytes } = await countBytesRead(huge, async () => {
      const l = await w.listFiles(undefined, 0);
      const s = await w.searchText('/./', undefined, 0);
      return { l, s };
    });
    assert.equal(bytes, 0, 'search_text skips files over its size limit without reading them');
    assert.ok(!listing.l.paths.some((p) => p.includes('loop/')), 'the symlink loop is not walked');
    assert.ok(listing.s.matches.every((m) => m.path !== 'logs/huge.log' && m.path !== 'assets/blob.bin'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('files deleted, replaced by folders or by dangling links while indexing: the run finishes and the index matches the disk', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'memgpt-midindex-'));
  const wsDir = path.join(root, 'ws');
  mkdirSync(path.join(wsDir, 'src'), { recursive: true });
  const N = 120;
  for (let i = 0; i < N; i++) writeFileSync(path.join(wsDir, 'src', `f${i}.ts`), `export const value${i} = ${i};\n`.repeat(20));
  const archival = await ArchivalIndex.open({ dir: path.join(root, 'archival'), embedder: new LocalHashEmbedder() });
  try {
    const indexer = new WorkspaceIndexer({ roots: [{ name: 'ws', path: wsDir }], archival });
    let sabotaged = false;
    indexer.onProgress((p) => {
      if (sabotaged || p.phase !== 'indexing' || p.filesDone < 30) return;
      sabotaged = true;
      for (let i = 60; i < N; i += 2) unlinkSync(path.join(wsDir, 'src', `f${i}.ts`));
      unlinkSync(path.join(wsDir, 'src', 'f61.ts'));
      mkdirSync(path.join(wsDir, 'src', 'f61.ts'));
      unlinkSync(path.join(wsDir, 'src', 'f63.ts'));
      fsModule.symlinkSync(path.join(root, 'nowhere'), path.join(wsDir, 'src', 'f63.ts'));
    });
    const first = await indexer.indexAll();
    assert.ok(sabotaged, 'files were removed mid-run');
    assert.equal(first.cancelled, false);
    assert.ok(first.skipped > 0, `vanished files were skipped (${first.skipped})`);
    const onDisk = fsModule
      .readdirSync(path.join(wsDir, 'src'), { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => `src/${e.name}`)
      .sort();
    const afterFirst = new Set(archival.indexedPaths());
    assert.deepEqual(
      onDisk.filter((p) => !afterFirst.has(p)),
      [],
      'every file still on disk was indexed',
    );
    // Files deleted after they were indexed wait for their delete event, or for the next reconcile:
    const second = await indexer.indexAll();
    assert.equal(second.indexed, 0, 'nothing left to index on the next run');
    assert.equal(second.removed, afterFirst.size - onDisk.length, 'the next run drops exactly the vanished files');
    assert.deepEqual(archival.indexedPaths().sort(), onDisk);
    await indexer.dispose();
  } finally {
    await archival.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('huge selections: Remember selection and Ask about selection cap 5 MB with a note; the agent still fits its window', async () => {
  const line = 'const x = "🙂 a long line of code that repeats";\n';
  const text = line.repeat(Math.ceil(5_000_000 / line.length));
  const remembered = rememberedSelectionText({ path: 'src/big.ts', startLine: 1, endLine: 100_000, text });
  assert.equal(remembered.truncated, true);
  assert.ok(remembered.text.length <= REMEMBER_SELECTION_MAX_CHARS + 200);
  assert.match(remembered.text, /^From src\/big\.ts:1-100000:\n/);
  assert.match(remembered.text, /\[cut: the first \d+ of \d+ characters were kept\]$/);
  assert.doesNotThrow(() => encodeURIComponent(remembered.text), 'no lone surrogate at the cut');
  const asked = askAboutSelectionMessage({ path: 'src/big.ts', startLine: 1, endLine: 100_000, text: text + '````' }, 'why?');
  assert.ok(asked.message.length <= ASK_SELECTION_MAX_CHARS + 400);
  assert.doesNotThrow(() => encodeURIComponent(asked.message));

  const rig = await makeRig({ settings: { contextWindow: 4096 } });
  try {
    const id = await rig.archival.insertMemory(remembered.text, { path: 'src/big.ts', startLine: 1, endLine: 100_000 });
    await rig.agent.enqueue({ type: 'selection_remembered', path: 'src/big.ts', startLine: 1, endLine: 100_000, memoryId: id });
    rig.server.enqueue(sendMessage('That is a lot of code.'));
    // The user pastes the whole selection into the chat of a 4k-token window.
    const r = await rig.agent.handle({ type: 'user_message', text: asked.message });
    assert.equal(r.reason, 'done', r.error);
    const req = rig.server.chatRequests().at(-1)!;
    assert.ok(JSON.stringify(req.body.messages).length < 4096 * 4, 'the request fits the window (the in-context copy was cut)');
    const stored = rig.records().find((x) => x.kind === 'user' && (x.message.content ?? '').includes('why?'))!;
    assert.ok((stored.message.content ?? '').length >= asked.message.length, 'recall keeps the whole message');
  } finally {
    await rig.close();
  }
});
