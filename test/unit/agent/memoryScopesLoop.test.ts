/**
 * Memory scopes, blocks the agent shapes and archival memory per agent, in the real loop: the
 * real `openai` client against the scripted server, real recall, agent files, archival index and
 * shared memory files on disk (agentHarness.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sendMessage, toolCall, type RecordedChatRequest } from '../../fixtures/fakeOpenAIServer';
import { Agent } from '../../../src/core/agent/agent';
import { createAgentState } from '../../../src/core/agent/agentState';
import { openMemoryScopes, type MemoryScopes } from '../../../src/core/memory/memoryScopes';
import { makeHarness, lastToolResults, stepRequests, type Harness } from './agentHarness';

function systemOf(req: RecordedChatRequest): string {
  return req.body.messages[0]!.content as string;
}

/** An agent of `h`'s stores whose shared blocks live in `root` (the state folder) under workspace `ws`. */
async function scopedAgent(h: Harness, root: string, ws: string, contextWindow = 8192): Promise<{ agent: Agent; scopes: MemoryScopes }> {
  const scopes = openMemoryScopes({
    userFile: path.join(root, 'user', 'blocks.json'),
    workspaceFile: path.join(root, ws, 'blocks.json'),
    readOnly: false,
  });
  await scopes.load();
  const created = createAgentState({ name: `Agent ${ws}` });
  const state = { ...created, coreMemory: (await scopes.adopt(created.coreMemory, created.name))! };
  await h.states.save(state);
  return { agent: Agent.fromState({ ...h.deps, scopes }, { contextWindow, replyNudge: false }, state), scopes };
}

test("two open windows on one state folder: what one learns about the user is in the other's prompt at its next step", async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'memgpt-state-'));
  const h = await makeHarness();
  try {
    const a = await scopedAgent(h, root, 'ws-a');
    const b = await scopedAgent(h, root, 'ws-b');
    h.server.enqueue(sendMessage('hi from b'));
    await b.agent.handle({ type: 'user_message', text: 'hello' });
    assert.doesNotMatch(systemOf(stepRequests(h.server).at(-1)!), /purple/);

    h.server.enqueue(
      toolCall('core_memory_append', { label: 'human', content: 'Favourite colour: purple.', request_heartbeat: true }),
      sendMessage('Noted.'),
    );
    await a.agent.handle({ type: 'user_message', text: 'my favourite colour is purple' });
    assert.equal(lastToolResults(h.server)[0]!.status, 'OK');

    // B was open the whole time: its next step reads the change.
    h.server.enqueue(sendMessage('Purple, I know.'));
    await b.agent.handle({ type: 'user_message', text: 'what do you know about me?' });
    const system = systemOf(stepRequests(h.server).at(-1)!);
    assert.match(system, /<human characters="\d+\/2000" scope="user">[\s\S]*Favourite colour: purple\./);
    // B's own file holds only its own blocks: the user's block is not copied into it.
    const saved = await h.states.load(b.agent.id);
    assert.deepEqual(
      saved.coreMemory.blocks.map((x) => x.label),
      ['persona'],
    );
  } finally {
    await h.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('replace refuses an ambiguous match unless asked to replace all; nothing changes on a refusal', async () => {
  const h = await makeHarness();
  try {
    await h.agent.editCoreMemory('human', 'Likes tea. Likes cake.');
    h.server.enqueue(
      toolCall('core_memory_replace', { label: 'human', old_content: 'Likes', new_content: 'Loves', request_heartbeat: true }),
    );
    h.server.enqueue(
      toolCall('core_memory_replace', {
        label: 'human',
        old_content: 'Likes',
        new_content: 'Loves',
        replace_all: true,
        request_heartbeat: true,
      }),
    );
    h.server.enqueue(sendMessage('done'));
    await h.agent.handle({ type: 'user_message', text: 'I love both' });
    const steps = stepRequests(h.server);
    const refusal = JSON.parse(steps.at(-2)!.body.messages.at(-1)!.content as string) as { status: string; message: string };
    assert.equal(refusal.status, 'Failed');
    assert.match(refusal.message, /old_content occurs 2 times in memory block 'human'.*nothing was changed.*replace_all=true/);
    assert.match(systemOf(steps.at(-2)!), /Likes tea\. Likes cake\./, 'unchanged after the refusal');
    assert.equal(lastToolResults(h.server)[0]!.status, 'OK');
    assert.equal(h.agent.coreMemory.get('human'), 'Loves tea. Loves cake.');
  } finally {
    await h.close();
  }
});

test('the agent creates, renames and deletes a block through core_memory_block; the deleted text stays in recall', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(
      toolCall('core_memory_block', {
        action: 'create',
        label: 'conventions',
        description: 'Coding rules of this repository.',
        limit: 800,
        request_heartbeat: true,
      }),
      toolCall('core_memory_append', { label: 'conventions', content: 'Tests live beside the code.', request_heartbeat: true }),
      toolCall('core_memory_block', { action: 'rename', label: 'conventions', new_label: 'repo_rules', request_heartbeat: true }),
      sendMessage('Recorded.'),
    );
    await h.agent.handle({ type: 'user_message', text: 'tests live beside the code here' });
    const system = systemOf(stepRequests(h.server).at(-1)!);
    assert.match(
      system,
      /<repo_rules characters="27\/800" description="Coding rules of this repository\.">\nTests live beside the code\.\n<\/repo_rules>/,
    );
    assert.doesNotMatch(system, /<conventions/);

    h.server.enqueue(
      toolCall('core_memory_block', { action: 'create', label: 'too_big', description: 'x', limit: 5000, request_heartbeat: true }),
    );
    h.server.enqueue(
      toolCall('core_memory_block', { action: 'delete', label: 'repo_rules', request_heartbeat: true }),
      sendMessage('Removed.'),
    );
    await h.agent.handle({ type: 'user_message', text: 'forget the rules block' });
    const steps = stepRequests(h.server);
    const budget = JSON.parse(steps.at(-2)!.body.messages.at(-1)!.content as string) as { status: string; message: string };
    assert.equal(budget.status, 'Failed');
    assert.match(budget.message, /limits of all blocks may add up to 12000 characters and \d+ are left/);
    const deleted = lastToolResults(h.server)[0]!;
    assert.equal(deleted.status, 'OK');
    assert.match(deleted.message, /Deleted core memory block "repo_rules"\. It held:\nTests live beside the code\./);
    assert.equal(h.agent.coreMemory.has('repo_rules'), false);
    // Saved with the agent: a restart shows the same blocks.
    const again = await h.restart();
    assert.deepEqual(again.coreMemory.labels, ['persona', 'human', 'project']);
  } finally {
    await h.close();
  }
});

test("at a 2048-token window the prompt keeps MemGPT's functions only (no block shaping), and a turn runs", async () => {
  const h = await makeHarness({ settings: { contextWindow: 2048 } });
  try {
    const names = h.agent.toolSchemas.map((s) => s.function.name);
    assert.ok(!names.includes('core_memory_block'), 'no room for more blocks at this size');
    assert.ok(names.includes('core_memory_replace') && names.includes('core_memory_append'));
    h.server.enqueue(
      toolCall('core_memory_block', { action: 'create', label: 'todo', description: 'Open tasks.', limit: 300, request_heartbeat: true }),
      sendMessage('ok'),
    );
    const r = await h.agent.handle({ type: 'user_message', text: 'keep a todo list' });
    assert.equal(r.reason, 'done');
    assert.deepEqual(r.messages, ['ok']);
    const refused = stepRequests(h.server).at(-1)!.body.messages.at(-1)!;
    assert.match(refused.content as string, /No function named \\"core_memory_block\\"/);
  } finally {
    await h.close();
  }
});

test('remembered items belong to the agent that remembered them: another agent neither finds nor counts them', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(
      toolCall('archival_memory_insert', { content: 'The staging database password rotates on Mondays.', request_heartbeat: true }),
      sendMessage('Stored.'),
    );
    await h.agent.handle({ type: 'user_message', text: 'remember the rotation schedule' });
    await h.archival.flush();

    const other = Agent.fromState(h.deps, { contextWindow: 8192, replyNudge: false }, await h.states.create({ name: 'Newcomer' }));
    h.server.enqueue(
      toolCall('archival_memory_search', { query: 'staging database rotates', request_heartbeat: true }),
      sendMessage('nothing'),
    );
    await other.handle({ type: 'user_message', text: 'what rotates?' });
    assert.match(systemOf(stepRequests(h.server).at(-1)!), /\n0 total memories you created are stored in archival memory/);
    assert.doesNotMatch(lastToolResults(h.server)[0]!.message, /rotates on Mondays/);

    h.server.enqueue(
      toolCall('archival_memory_search', { query: 'staging database rotates', request_heartbeat: true }),
      sendMessage('Mondays'),
    );
    await h.agent.handle({ type: 'user_message', text: 'what rotates?' });
    assert.match(systemOf(stepRequests(h.server).at(-1)!), /\n1 total memories you created are stored in archival memory/);
    assert.match(lastToolResults(h.server)[0]!.message, /rotates on Mondays/);
    await other.idle();
  } finally {
    await h.close();
  }
});
