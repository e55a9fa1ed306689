import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CheckpointError, CheckpointStore, type CheckpointErrorCode } from '../../../src/core/acting/checkpointStore';
import { confineFile } from '../../../src/core/acting/confinement';

const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'memgpt-acting-cp-')));
after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;

function setup(files: Record<string, string>) {
  const base = path.join(scratch, `case${n++}`);
  const ws = path.join(base, 'ws');
  const storage = path.join(base, 'storage', 'checkpoints');
  mkdirSync(ws, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    writeFileSync(path.join(ws, rel), text);
  }
  const roots = [{ name: 'ws', path: ws }];
  const at = (rel: string) => ({ path: rel, abs: path.join(ws, rel) });
  const resolve = async (p: string) => (await confineFile(roots, p)).abs;
  const read = (rel: string) => (existsSync(path.join(ws, rel)) ? readFileSync(path.join(ws, rel), 'utf8') : undefined);
  const write = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    writeFileSync(path.join(ws, rel), text);
  };
  return { ws, storage, at, resolve, read, write };
}

async function refused(code: CheckpointErrorCode, p: Promise<unknown>): Promise<CheckpointError> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => ((caught = err), true));
  assert.ok(caught instanceof CheckpointError, String(caught));
  assert.equal(caught.code, code, caught.message);
  return caught;
}

test("a turn's checkpoint records files before their first change, grows as the turn touches more, and restores", async () => {
  const t = setup({ 'src/a.ts': 'A0', 'src/b.ts': 'B0' });
  const store = await CheckpointStore.open(t.storage);
  const first = await store.snapshot('turn-1', [t.at('src/a.ts')]);
  assert.equal(first.turnId, 'turn-1');
  assert.deepEqual(
    first.files.map((f) => [f.path, f.existed, f.bytes]),
    [['src/a.ts', true, 2]],
  );
  t.write('src/a.ts', 'A1');
  // Later in the same turn: a is already recorded (its first content wins), b and a new file are added.
  const grown = await store.snapshot('turn-1', [t.at('src/a.ts'), t.at('src/b.ts'), t.at('new/dir/c.ts')]);
  assert.equal(grown.id, first.id);
  assert.deepEqual(
    grown.files.map((f) => [f.path, f.existed]),
    [
      ['src/a.ts', true],
      ['src/b.ts', true],
      ['new/dir/c.ts', false],
    ],
  );
  t.write('src/a.ts', 'A2');
  t.write('src/b.ts', 'B1');
  t.write('new/dir/c.ts', 'C1');
  const list = await store.list();
  assert.deepEqual(
    list.map((c) => c.id),
    [first.id],
  );
  assert.ok(!Number.isNaN(Date.parse(list[0]!.time)));

  const report = await store.restore(first.id, t.resolve);
  assert.deepEqual(report, { checkpoints: [first.id], restored: ['src/a.ts', 'src/b.ts'], deleted: ['new/dir/c.ts'] });
  assert.deepEqual([t.read('src/a.ts'), t.read('src/b.ts'), t.read('new/dir/c.ts')], ['A0', 'B0', undefined]);
  // Nothing of this lives in the workspace (never the user's git or folders).
  assert.deepEqual(readdirSync(t.ws).sort(), ['new', 'src']);
});

test('restoring an older turn rolls back later turns too (or only that turn when asked)', async () => {
  const t = setup({ 'f.txt': 'v0', 'g.txt': 'g0' });
  const store = await CheckpointStore.open(t.storage);
  const c1 = await store.snapshot('t1', [t.at('f.txt')]);
  t.write('f.txt', 'v1');
  const c2 = await store.snapshot('t2', [t.at('f.txt'), t.at('g.txt'), t.at('h.txt')]);
  t.write('f.txt', 'v2');
  t.write('g.txt', 'g2');
  t.write('h.txt', 'h2');
  assert.deepEqual(
    (await store.list()).map((c) => c.id),
    [c2.id, c1.id],
  );
  const only = await store.restore(c1.id, t.resolve, { alsoLater: false });
  assert.deepEqual(only.checkpoints, [c1.id]);
  assert.deepEqual([t.read('f.txt'), t.read('g.txt'), t.read('h.txt')], ['v0', 'g2', 'h2']);
  t.write('f.txt', 'v2');
  const all = await store.restore(c1.id, t.resolve);
  assert.deepEqual(all.checkpoints, [c2.id, c1.id]);
  assert.deepEqual([t.read('f.txt'), t.read('g.txt'), t.read('h.txt')], ['v0', 'g0', undefined]);
});

test('identical contents are stored once; permission bits come back; checkpoints survive a reopen', async () => {
  const t = setup({ 'a.sh': '#!/bin/sh\necho same\n', 'b.sh': '#!/bin/sh\necho same\n' });
  chmodSync(path.join(t.ws, 'a.sh'), 0o755);
  const store = await CheckpointStore.open(t.storage);
  const cp = await store.snapshot('t', [t.at('a.sh'), t.at('b.sh')]);
  const blobs = readdirSync(path.join(t.storage, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.equal(blobs.length, 1);
  t.write('a.sh', 'changed');
  chmodSync(path.join(t.ws, 'a.sh'), 0o644);
  const reopened = await CheckpointStore.open(t.storage);
  assert.deepEqual(
    (await reopened.list()).map((c) => c.id),
    [cp.id],
  );
  assert.equal(reopened.forTurn('t')?.id, cp.id);
  await reopened.restore(cp.id, t.resolve);
  assert.equal(t.read('a.sh'), '#!/bin/sh\necho same\n');
  assert.equal(statSync(path.join(t.ws, 'a.sh')).mode & 0o777, 0o755);
});

test('bounded: a big file, too many files and a full turn are refused with clear errors; old checkpoints make room', async () => {
  const t = setup({ 'big.txt': 'x'.repeat(200), 'a.txt': 'a'.repeat(60), 'b.txt': 'b'.repeat(60), 'c.txt': 'c'.repeat(60) });
  const store = await CheckpointStore.open(t.storage, { maxFileBytes: 100, maxTotalBytes: 130, maxFilesPerTurn: 2, maxCount: 10 });
  assert.match((await refused('file-too-large', store.snapshot('t0', [t.at('big.txt')]))).message, /big\.txt is 200 bytes/);
  await refused('too-many-files', store.snapshot('t0', [t.at('a.txt'), t.at('b.txt'), t.at('c.txt')]));
  assert.deepEqual(await store.list(), [], 'a refused snapshot stores nothing');
  const c1 = await store.snapshot('t1', [t.at('a.txt')]);
  const c2 = await store.snapshot('t2', [t.at('b.txt')]);
  // 60 + 60 + 60 > 130: the oldest checkpoint is dropped to make room.
  const c3 = await store.snapshot('t3', [t.at('c.txt')]);
  assert.deepEqual(
    (await store.list()).map((c) => c.id),
    [c3.id, c2.id],
  );
  await refused('unknown-checkpoint', store.restore(c1.id, t.resolve));
  // One turn needing more than the whole store is refused, whatever could be dropped.
  const small = await CheckpointStore.open(path.join(t.storage, '..', 'small'), { maxTotalBytes: 100 });
  await small.snapshot('turn', [t.at('a.txt')]);
  const full = await refused('store-full', small.snapshot('turn', [t.at('b.txt')]));
  assert.match(full.message, /need 120 bytes of checkpoint space; the store holds at most 100\. The change was not made/);
  assert.equal(small.forTurn('turn')?.files.length, 1, 'the turn keeps what it had');
  const kept = readdirSync(path.join(t.storage, 'blobs'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  assert.ok(kept <= 2, `dropped checkpoints take their blobs with them (${kept} left)`);
  const many = await CheckpointStore.open(path.join(t.storage, '..', 'many'), { maxCount: 3 });
  for (let i = 0; i < 5; i++) await many.snapshot(`turn${i}`, [t.at('a.txt')]);
  assert.deepEqual(
    (await many.list()).map((c) => c.turnId),
    ['turn4', 'turn3', 'turn2'],
  );
});

test('restore re-checks paths and blobs before writing anything', async () => {
  const t = setup({ 'src/a.ts': 'A0', 'src/b.ts': 'B0' });
  const outside = path.join(scratch, `outside${n}`);
  mkdirSync(outside);
  const store = await CheckpointStore.open(t.storage);
  const cp = await store.snapshot('t', [t.at('src/a.ts'), t.at('src/b.ts')]);
  t.write('src/a.ts', 'A1');
  // The folder of b is replaced by a link out of the workspace: restoring must not write through it.
  rmSync(path.join(t.ws, 'src/b.ts'));
  rmSync(path.join(t.ws, 'src'), { recursive: true });
  symlinkSync(outside, path.join(t.ws, 'src'));
  await refused('refused-path', store.restore(cp.id, t.resolve));
  assert.deepEqual(readdirSync(outside), [], 'nothing was written outside');
  // A damaged blob stops the restore before any file is written.
  rmSync(path.join(t.ws, 'src'));
  t.write('src/a.ts', 'A1');
  const blob = cp.files[1]!.blob!;
  writeFileSync(path.join(t.storage, 'blobs', blob.slice(0, 2), blob), 'tampered');
  await refused('corrupt-blob', store.restore(cp.id, t.resolve));
  assert.equal(t.read('src/a.ts'), 'A1');
});

test('a damaged record is set aside and the rest stay usable; orphan blobs are swept', async () => {
  const t = setup({ 'a.txt': 'a', 'b.txt': 'b' });
  const store = await CheckpointStore.open(t.storage);
  const good = await store.snapshot('t1', [t.at('a.txt')]);
  const bad = await store.snapshot('t2', [t.at('b.txt')]);
  writeFileSync(path.join(t.storage, 'checkpoints', `${bad.id}.json`), '{"schemaVersion":1,"id":');
  mkdirSync(path.join(t.storage, 'blobs', 'ff'), { recursive: true });
  writeFileSync(path.join(t.storage, 'blobs', 'ff', 'f'.repeat(64)), 'orphan');
  const reopened = await CheckpointStore.open(t.storage);
  assert.deepEqual(
    (await reopened.list()).map((c) => c.id),
    [good.id],
  );
  assert.ok(readdirSync(path.join(t.storage, 'checkpoints')).some((f) => f.includes('.corrupt-')));
  assert.equal(existsSync(path.join(t.storage, 'blobs', 'ff', 'f'.repeat(64))), false);
});

test('concurrent snapshots of one turn never interleave (one record, every file once)', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 20; i++) files[`f${i}.txt`] = `content ${i}`;
  const t = setup(files);
  const store = await CheckpointStore.open(t.storage);
  await Promise.all(Object.keys(files).map((f) => store.snapshot('turn', [t.at(f), t.at('f0.txt')])));
  const list = await store.list();
  assert.equal(list.length, 1);
  assert.equal(list[0]!.files.length, 20);
});
