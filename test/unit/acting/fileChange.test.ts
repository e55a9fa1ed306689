import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CheckpointStore } from '../../../src/core/acting/checkpointStore';
import { ConfinementError } from '../../../src/core/acting/confinement';
import { EditError } from '../../../src/core/acting/editEngine';
import { applyChange, FileChangeError, prepareEdit, prepareWrite, type FileChangeErrorCode } from '../../../src/core/acting/fileChange';

const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'memgpt-acting-change-')));
after(() => rmSync(scratch, { recursive: true, force: true }));
const ws = path.join(scratch, 'ws');
mkdirSync(path.join(ws, 'src'), { recursive: true });
const roots = [{ name: 'ws', path: ws }];
const file = (rel: string) => path.join(ws, rel);

async function refused(code: FileChangeErrorCode, p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof FileChangeError && err.code === code);
}

test('edit: prepare writes nothing; apply writes, keeps the mode, and records the checkpoint first', async () => {
  writeFileSync(file('src/run.sh'), '#!/bin/sh\necho old\n');
  chmodSync(file('src/run.sh'), 0o755);
  const change = await prepareEdit(roots, { path: 'src/run.sh', old_string: 'echo old', new_string: 'echo new' });
  assert.equal(readFileSync(file('src/run.sh'), 'utf8'), '#!/bin/sh\necho old\n', 'preparing writes nothing');
  assert.match(change.diff, /^-echo old\n\+echo new$/m);
  const store = await CheckpointStore.open(path.join(scratch, 'storage'));
  await applyChange(roots, change, { store, turnId: 'turn-1' });
  assert.equal(readFileSync(file('src/run.sh'), 'utf8'), '#!/bin/sh\necho new\n');
  assert.equal(statSync(file('src/run.sh')).mode & 0o777, 0o755);
  const cp = store.forTurn('turn-1')!;
  await store.restore(cp.id, async (p) => path.join(ws, p));
  assert.equal(readFileSync(file('src/run.sh'), 'utf8'), '#!/bin/sh\necho old\n');
});

test('a plan made stale by a change in between is refused, whoever made it', async () => {
  writeFileSync(file('src/a.ts'), 'let a = 1;\n');
  const change = await prepareEdit(roots, { path: 'src/a.ts', old_string: 'a = 1', new_string: 'a = 2' });
  writeFileSync(file('src/a.ts'), 'let a = 1; // the user typed this meanwhile\n');
  await refused('stale', applyChange(roots, change));
  assert.equal(readFileSync(file('src/a.ts'), 'utf8'), 'let a = 1; // the user typed this meanwhile\n');
  const create = await prepareWrite(roots, { path: 'src/new.ts', content: 'x' });
  writeFileSync(file('src/new.ts'), 'someone else');
  await refused('stale', applyChange(roots, create));
});

test('write: creates files in new folders with a /dev/null diff, overwrites with a real diff', async () => {
  const created = await prepareWrite(roots, { path: 'lib/deep/new.ts', content: 'export const x = 1;\n' });
  assert.equal(created.existed, false);
  assert.match(created.diff, /^--- \/dev\/null\n\+\+\+ b\/lib\/deep\/new\.ts\n@@ -0,0 \+1,1 @@\n\+export const x = 1;\n$/);
  await applyChange(roots, created);
  assert.equal(readFileSync(file('lib/deep/new.ts'), 'utf8'), 'export const x = 1;\n');
  const over = await prepareWrite(roots, { path: 'lib/deep/new.ts', content: 'export const x = 2;\n' });
  assert.deepEqual([over.existed, over.added, over.removed, over.firstLine], [true, 1, 1, 1]);
});

test('missing, binary, non-UTF-8 and refused paths fail before anything is written', async () => {
  await refused('missing', prepareEdit(roots, { path: 'src/none.ts', old_string: 'a', new_string: 'b' }));
  writeFileSync(file('src/img.bin'), Buffer.from([1, 0, 2]));
  await refused('binary', prepareEdit(roots, { path: 'src/img.bin', old_string: 'a', new_string: 'b' }));
  writeFileSync(file('src/latin1.txt'), Buffer.from('caf\xe9\n', 'latin1'));
  await refused('not-utf8', prepareWrite(roots, { path: 'src/latin1.txt', content: 'x' }));
  await assert.rejects(prepareWrite(roots, { path: '.env', content: 'X=1' }), ConfinementError);
  await assert.rejects(prepareWrite(roots, { path: '../escape.txt', content: 'x' }), ConfinementError);
  assert.equal(existsSync(path.join(scratch, 'escape.txt')), false);
  writeFileSync(file('src/dup.ts'), 'x\nx\n');
  await assert.rejects(
    prepareEdit(roots, { path: 'src/dup.ts', old_string: 'x', new_string: 'y' }),
    (e: unknown) => e instanceof EditError && e.code === 'ambiguous',
  );
});
