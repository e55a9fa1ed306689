import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NO_FOLDER, workspaceStorageDir, workspaceStorageKey } from '../../../src/core/storage/workspaceStorageDir';

test('the key is 16 hex of sha256 and ignores folder order', () => {
  const a = workspaceStorageKey(['file:///b', 'file:///a']);
  assert.match(a, /^[0-9a-f]{16}$/);
  assert.equal(a, workspaceStorageKey(['file:///a', 'file:///b']));
  assert.notEqual(a, workspaceStorageKey(['file:///a']));
  assert.equal(workspaceStorageKey([]), NO_FOLDER);
});

test('the folder is created under workspaces/ with a workspace.json naming the folders', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'wsdir-'));
  const dir = await workspaceStorageDir(root, ['file:///home/u/proj', 'file:///home/u/lib']);
  assert.equal(path.dirname(dir), path.join(root, 'workspaces'));
  const desc = JSON.parse(readFileSync(path.join(dir, 'workspace.json'), 'utf8'));
  assert.deepEqual(desc.folders, ['file:///home/u/lib', 'file:///home/u/proj']);
  assert.equal(desc.key, path.basename(dir));
  const again = await workspaceStorageDir(root, ['file:///home/u/lib', 'file:///home/u/proj']);
  assert.equal(again, dir);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'workspace.json'), 'utf8')).createdAt, desc.createdAt);
  const none = await workspaceStorageDir(root, []);
  assert.equal(path.basename(none), NO_FOLDER);
  assert.ok(existsSync(path.join(none, 'workspace.json')));
});
