/**
 * Memory saved before scopes and before remembered items had owners, opened by this version
 * through the AgentDirectory (as the extension and the CLI do), with real stores on disk: nothing
 * is lost, the old files are converted, and the user is told.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AgentDirectory } from '../../../src/core/agent/agentDirectory';
import { CoreMemory } from '../../../src/core/memory/coreMemory';
import { openMemoryScopes } from '../../../src/core/memory/memoryScopes';
import { MEMORY_LOG_FILE } from '../../../src/core/index/archivalIndex';
import { makeHarness } from './agentHarness';

test('an old agent and old remembered items: human moves to the user, the items to the agent in use, a notice for each; a new agent sees none of them', async () => {
  const h = await makeHarness();
  const root = mkdtempSync(path.join(tmpdir(), 'memgpt-state-'));
  try {
    await h.agent.idle();
    const old = await h.states.load(h.agentId);
    const core = CoreMemory.fromJSON(old.coreMemory);
    core.setBlock('human', 'Name: Lin. Reviews code in the morning.');
    await h.states.save({ ...old, coreMemory: core.toJSON() });
    assert.equal(old.coreMemory.scoped, undefined, 'saved the way earlier versions did');
    await h.archival.insertMemory('The build cache lives in .cache/build and is safe to delete.');
    const logBefore = readFileSync(path.join(h.dir, 'archival', MEMORY_LOG_FILE), 'utf8');

    const notices: string[] = [];
    const notice = (_key: string, message: string) => notices.push(message);
    const scopes = openMemoryScopes({
      userFile: path.join(root, 'user', 'blocks.json'),
      workspaceFile: path.join(root, 'ws', 'blocks.json'),
      readOnly: false,
      notice,
    });
    const { model, counter, archival, workspace } = h.deps;
    const directory = new AgentDirectory({
      states: h.states,
      recall: h.recall,
      scopes,
      notice,
      deps: { model, counter, archival, workspace },
      settings: { contextWindow: 8192, replyNudge: false },
    });
    const agent = await directory.active();
    assert.equal(agent.id, h.agentId);
    assert.equal(agent.coreMemory.scopeOf('human'), 'user');
    assert.equal(agent.coreMemory.get('human'), 'Name: Lin. Reviews code in the morning.');
    const user = JSON.parse(readFileSync(path.join(root, 'user', 'blocks.json'), 'utf8')) as { blocks: { label: string; value: string }[] };
    assert.equal(user.blocks.find((b) => b.label === 'human')!.value, 'Name: Lin. Reviews code in the morning.');
    const saved = await h.states.load(h.agentId);
    assert.equal(saved.coreMemory.scoped, true);
    assert.deepEqual(
      saved.coreMemory.blocks.map((b) => b.label),
      ['persona'],
    );

    assert.equal(notices.length, 2, notices.join('\n'));
    assert.match(notices[0]!, /"Test agent" was converted to scopes.*'human' is now in the user memory.*Nothing was deleted/);
    assert.match(notices[1]!, /The 1 item\(s\) stored before that were given to agent "Test agent"/);
    assert.equal(h.archival.memoriesOf(h.agentId).length, 1);
    // The log was appended to, never rewritten: the old line is still there, first.
    const logAfter = readFileSync(path.join(h.dir, 'archival', MEMORY_LOG_FILE), 'utf8');
    assert.ok(logAfter.startsWith(logBefore) && logAfter.length > logBefore.length);

    // A second open converts nothing more.
    await directory.reset(h.agentId);
    assert.equal(notices.length, 2);
    assert.equal(
      (await directory.active()).coreMemory.get('human'),
      'Name: Lin. Reviews code in the morning.',
      'a reset leaves the user memory alone',
    );

    const second = await directory.create({ name: 'Second' });
    const now = await directory.active();
    assert.equal(now.id, second.id);
    assert.equal(h.archival.count('memory', second.id), 0);
    assert.match(now.contextMessages()[0]!.content as string, /\n0 total memories you created are stored in archival memory/);
    assert.match(now.coreMemory.get('human'), /Name: Lin\./, 'the new agent knows the user');
  } finally {
    await h.close();
    rmSync(root, { recursive: true, force: true });
  }
});
