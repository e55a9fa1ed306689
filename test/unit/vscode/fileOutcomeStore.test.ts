import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { FileOutcomeStore, OUTCOMES_FILE } from '../../../src/vscode/fileOutcomeStore';

const dir = mkdtempSync(path.join(os.tmpdir(), 'outcomes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('how turns ended is on disk when update resolves, and a new window (a reload) reads it back', async () => {
  const store = FileOutcomeStore.in(dir, () => false);
  await store.update('memgpt.chat.turnOutcomes.a1', [{ afterSeq: 16, kind: 'failed', message: 'rejected (400)' }]);
  assert.deepEqual(FileOutcomeStore.in(dir, () => false).get('memgpt.chat.turnOutcomes.a1'), [
    { afterSeq: 16, kind: 'failed', message: 'rejected (400)' },
  ]);
});

test('a read-only window keeps outcomes for itself and never writes the file', async () => {
  const other = mkdtempSync(path.join(os.tmpdir(), 'outcomes-ro-'));
  try {
    const store = FileOutcomeStore.in(other, () => true);
    await store.update('k', [1]);
    assert.deepEqual(store.get('k'), [1]);
    assert.equal(existsSync(path.join(other, OUTCOMES_FILE)), false);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('a damaged file starts empty (view data only; the conversation is in recall) and is replaced at the next write', async () => {
  const other = mkdtempSync(path.join(os.tmpdir(), 'outcomes-bad-'));
  try {
    writeFileSync(path.join(other, OUTCOMES_FILE), '{"half');
    const store = FileOutcomeStore.in(other, () => false);
    assert.equal(store.get('k'), undefined);
    await store.update('k', ['x']);
    assert.deepEqual(JSON.parse(readFileSync(path.join(other, OUTCOMES_FILE), 'utf8')), { k: ['x'] });
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});
