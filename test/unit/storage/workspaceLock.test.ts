import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { WorkspaceLock } from '../../../src/core/storage/workspaceLock';
import { bundledChild, startChild } from './childProcess';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'lock-'));

test('a second acquire fails while the holder process lives, and succeeds once it is killed (stale)', async () => {
  const dir = tmp();
  const child = startChild(bundledChild('lockChild'), [dir]);
  try {
    const line = JSON.parse(await child.waitForLine((l) => l.startsWith('{'))) as { acquired: boolean; pid: number };
    assert.equal(line.acquired, true);
    const attempt = await new WorkspaceLock(dir).tryAcquire();
    assert.equal(attempt.acquired, false);
    if (attempt.acquired) return;
    assert.equal(attempt.holder?.pid, line.pid);
    assert.equal(attempt.holder?.hostname, hostname());
    assert.equal(attempt.holder?.owner, 'test child');
    assert.match(attempt.reason, /holds this workspace's memory; this window is read-only until it closes/);
    assert.match(attempt.reason, new RegExp(`pid ${line.pid}`));
  } finally {
    await child.kill();
  }
  const after = await new WorkspaceLock(dir, { refresh: false }).tryAcquire();
  assert.equal(after.acquired, true, "the dead holder's lock is stale and taken over");
  if (after.acquired) {
    assert.equal(after.holder.pid, process.pid);
    await after.release();
  }
  assert.deepEqual(readdirSync(dir), [], 'release removes the lock; no temp or guard files remain');
});

test('in one process: held lock blocks, release frees, double release is harmless', async () => {
  const dir = tmp();
  const a = await new WorkspaceLock(dir, { refresh: false }).tryAcquire();
  assert.equal(a.acquired, true);
  // Our own pid is alive, so the lock is not stale even for ourselves.
  const b = await new WorkspaceLock(dir, { refresh: false }).tryAcquire();
  assert.equal(b.acquired, false);
  if (a.acquired) {
    await a.release();
    await a.release();
  }
  const c = await new WorkspaceLock(dir, { refresh: false }).tryAcquire();
  assert.equal(c.acquired, true);
  if (c.acquired) await c.release();
});

test('release never removes a lock someone else took over', async () => {
  const dir = tmp();
  const lock = new WorkspaceLock(dir, { refresh: false });
  const a = await lock.tryAcquire();
  assert.ok(a.acquired);
  // Simulate a takeover: another holder's record replaces ours.
  const other = { ...a.holder, pid: process.pid, nonce: 'someone-else' };
  writeFileSync(lock.file, JSON.stringify(other));
  await a.release();
  assert.equal(JSON.parse(readFileSync(lock.file, 'utf8')).nonce, 'someone-else');
});

test('a lock not refreshed for a long time is stale even if its pid is alive', async () => {
  const dir = tmp();
  const lock = new WorkspaceLock(dir, { refresh: false });
  const old = new Date(Date.now() - 24 * 3600_000).toISOString();
  writeFileSync(
    lock.file,
    JSON.stringify({ pid: process.pid, hostname: 'elsewhere', acquiredAt: old, refreshedAt: old, owner: '', nonce: 'x' }),
  );
  const a = await lock.tryAcquire();
  assert.equal(a.acquired, true);
  if (a.acquired) await a.release();
});

test('an unreadable lock file is respected while fresh and taken over when old', async () => {
  const dir = tmp();
  const lock = new WorkspaceLock(dir, { refresh: false });
  writeFileSync(lock.file, '');
  const fresh = await lock.tryAcquire();
  assert.equal(fresh.acquired, false);
  const past = new Date(Date.now() - 60_000);
  utimesSync(lock.file, past, past);
  const old = await lock.tryAcquire();
  assert.equal(old.acquired, true);
  if (old.acquired) await old.release();
});

test('two processes racing for a stale lock: exactly one wins', async () => {
  const dir = tmp();
  const lock = new WorkspaceLock(dir);
  writeFileSync(
    lock.file,
    JSON.stringify({
      pid: 2 ** 22 + 7,
      hostname: hostname(),
      acquiredAt: 'x',
      refreshedAt: new Date().toISOString(),
      owner: '',
      nonce: 'dead',
    }),
  );
  const script = bundledChild('lockChild');
  const children = Array.from({ length: 4 }, () => startChild(script, [dir]));
  try {
    const results = await Promise.all(
      children.map(async (c) => JSON.parse(await c.waitForLine((l) => l.startsWith('{'))) as { acquired: boolean }),
    );
    assert.equal(results.filter((r) => r.acquired).length, 1, JSON.stringify(results));
  } finally {
    await Promise.all(children.map((c) => c.kill()));
  }
});
