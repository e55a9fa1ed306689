import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openWorkspaceStorage } from '../../../src/core/runtime/workspaceStorage';
import { ReadOnlyLogError } from '../../../src/core/storage/appendLog';
import { ReadOnlyAgentsError } from '../../../src/core/agent/agentStateStore';
import { RECALL_LOG_FILE } from '../../../src/core/memory/recallStore';
import { readSchemaVersion } from '../../../src/core/storage/schemaVersion';
import { STORAGE_MIGRATIONS } from '../../../src/core/storage/layout';

const FOLDERS = ['file:///home/dev/project'];

test("two windows on one workspace: the second is read-only, sees the first one's memory, and writes nothing", async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'wstore-'));
  const first = await openWorkspaceStorage(root, FOLDERS, { owner: 'window 1' });
  assert.equal(first.readOnly, false);
  assert.equal(await readSchemaVersion(first.dir), STORAGE_MIGRATIONS.length);
  const agent = await first.agents.create({ name: 'Main' });
  const t = new Date().toISOString();
  await first.recall.append([
    { agentId: agent.id, time: t, kind: 'user', message: { role: 'user', content: 'the deploy key lives in vault' } },
  ]);

  const second = await openWorkspaceStorage(root, FOLDERS, { owner: 'window 2' });
  try {
    assert.equal(second.dir, first.dir);
    assert.equal(second.readOnly, true);
    assert.match(
      second.readOnlyReason ?? '',
      /window 1 \(pid \d+ on .*\) holds this workspace's memory; this window is read-only until it closes/,
    );
    assert.equal(second.lockHolder?.owner, 'window 1');
    assert.equal((await second.agents.load(agent.id)).name, 'Main');
    assert.equal(second.recall.search(agent.id, 'vault', 0).total, 1);
    await assert.rejects(
      second.recall.append([{ agentId: agent.id, time: t, kind: 'user', message: { role: 'user', content: 'x' } }]),
      ReadOnlyLogError,
    );
    await assert.rejects(second.agents.save(agent), ReadOnlyAgentsError);
    await assert.rejects(second.agents.create({ name: 'Other' }), ReadOnlyAgentsError);

    // The first window keeps writing; a write in flight looks like a torn tail to a reader.
    await first.recall.append([{ agentId: agent.id, time: t, kind: 'assistant', message: { role: 'assistant', content: 'vault noted' } }]);
    const logFile = path.join(first.layout.recallDir, RECALL_LOG_FILE);
    appendFileSync(logFile, '1234abcd {"id":"r9","se');
    const size = statSync(logFile).size;
    assert.equal(await second.recall.refresh(), 1, 'the reader picks up the finished append only');
    assert.equal(second.recall.search(agent.id, 'vault', 0).total, 2);
    const third = await openWorkspaceStorage(root, FOLDERS);
    assert.equal(third.readOnly, true);
    assert.equal(third.recall.count(agent.id), 2);
    assert.equal(statSync(logFile).size, size, "a read-only open never truncates the writer's unfinished line");
    await third.close();
  } finally {
    await second.close();
    await first.close();
  }

  // With the first window gone, the next one writes, and repairs the tail the crash left.
  const next = await openWorkspaceStorage(root, FOLDERS);
  try {
    assert.equal(next.readOnly, false);
    assert.equal(next.recall.openReport.tornPartialLine, true);
    assert.equal(next.recall.count(), 2);
    assert.equal(await next.agents.activeAgentId(), agent.id);
  } finally {
    await next.close();
  }
});
