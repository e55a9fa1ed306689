/**
 * Issue 13, item 3: primary data (agents, recall) is never replaced in silence. A damaged or
 * missing pointer, agent file or recall log is recovered where it can be, the damaged file is
 * kept aside, and the runtime carries a notice that the chat, the CLI's stderr and `memory` show.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeRig, type RuntimeRig } from '../../fixtures/runtimeRig';
import type { WorkspaceRuntimeOptions } from '../../../src/core/runtime/workspaceRuntime';
import { randomBytes } from 'node:crypto';
import { readdir, rm, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { sendMessage } from '../../fixtures/fakeOpenAIServer';
import { type WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';

type Fixture = RuntimeRig;

function fixture(): Promise<Fixture> {
  return runtimeRig({ prefix: 'resets', files: { 'README.md': '# Project\n' } });
}

const open = (f: Fixture, extra: Partial<WorkspaceRuntimeOptions> = {}) => f.open(extra);

/**
 * Two agents: "Older" (talked to first) and "Main" (talked to last, the active one), each with a
 * conversation. Returns the storage folder and the agents' ids.
 */
async function twoAgents(f: Fixture): Promise<{ dir: string; mainId: string; olderId: string }> {
  const runtime = await open(f);
  const older = await runtime.agents.createAgent({ name: 'Older' });
  f.server.enqueue(sendMessage('hello from older'));
  await runtime.chat.handle({ type: 'user_message', text: 'hi older' });
  const main = await runtime.agents.createAgent({ name: 'Main' });
  f.server.enqueue(sendMessage('hello from main'));
  await runtime.chat.handle({ type: 'user_message', text: 'remember the blue door' });
  const dir = runtime.storage.dir;
  await runtime.close();
  // The older agent's file is older on disk too, whatever the clock's resolution.
  const past = new Date(Date.now() - 3_600_000);
  await utimes(path.join(dir, 'agents', `${older.id}.json`), past, past);
  return { dir, mainId: main.id, olderId: older.id };
}

async function oneTurnAfter(f: Fixture): Promise<WorkspaceRuntime> {
  const runtime = await open(f);
  f.server.enqueue(sendMessage('still here'));
  const outcome = await runtime.chat.handle({ type: 'user_message', text: 'what did I ask you to remember?' });
  assert.equal(outcome.reason, 'done', outcome.error);
  return runtime;
}

async function keptAside(dir: string, name: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith(`${name}.corrupt-`) || n.startsWith(`${name}.tail-`));
}

test('a damaged active.json: the most recently used agent carries on, the damaged file is kept, the user is told', async () => {
  const f = await fixture();
  try {
    const { dir, mainId } = await twoAgents(f);
    await writeFile(path.join(dir, 'agents', 'active.json'), '{"agentId": "3f2');
    const runtime = await oneTurnAfter(f);
    assert.equal((await runtime.agent()).id, mainId, 'the conversation goes on with the agent used last, not a new one');
    assert.equal((await runtime.agents.listAgents()).length, 2, 'no agent was created');
    const history = await runtime.chat.conversation(undefined, 50);
    assert.ok(
      history.some((r) => JSON.stringify(r.message).includes('blue door')),
      'the old conversation is still shown',
    );
    assert.equal((await keptAside(path.join(dir, 'agents'), 'active.json')).length, 1, 'the damaged pointer was kept aside');
    const notices = runtime.memory.notices();
    assert.ok(
      notices.some((n) => /active\.json/.test(n) && /Main/.test(n)),
      `a notice names the file and the agent picked: ${JSON.stringify(notices)}`,
    );
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a deleted active.json: the most recently used agent carries on, and the user is told', async () => {
  const f = await fixture();
  try {
    const { dir, mainId } = await twoAgents(f);
    await rm(path.join(dir, 'agents', 'active.json'));
    const runtime = await oneTurnAfter(f);
    assert.equal((await runtime.agent()).id, mainId);
    assert.equal((await runtime.agents.listAgents()).length, 2, 'no agent was created');
    assert.ok(
      runtime.memory.notices().some((n) => /active\.json/.test(n) && /Main/.test(n)),
      JSON.stringify(runtime.memory.notices()),
    );
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a deleted agent file: the agent comes back under its id with its conversation from recall, and the user is told', async () => {
  const f = await fixture();
  try {
    const { dir, mainId } = await twoAgents(f);
    await rm(path.join(dir, 'agents', `${mainId}.json`));
    const runtime = await oneTurnAfter(f);
    assert.equal((await runtime.agent()).id, mainId, 'the active agent is restored, not replaced');
    const history = await runtime.chat.conversation(undefined, 50);
    assert.ok(
      history.some((r) => JSON.stringify(r.message).includes('blue door')),
      'its conversation is shown again',
    );
    assert.ok(
      runtime.memory.notices().some((n) => n.includes(`${mainId}.json`) && /core memory/i.test(n)),
      JSON.stringify(runtime.memory.notices()),
    );
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a damaged agent file: kept aside, the agent comes back from recall, and the user is told', async () => {
  const f = await fixture();
  try {
    const { dir, mainId } = await twoAgents(f);
    await writeFile(path.join(dir, 'agents', `${mainId}.json`), '{"schemaVersion": 1, "id": "');
    const runtime = await oneTurnAfter(f);
    assert.equal((await runtime.agent()).id, mainId);
    assert.equal((await keptAside(path.join(dir, 'agents'), `${mainId}.json`)).length, 1);
    assert.ok(
      runtime.memory.notices().some((n) => n.includes(`${mainId}.json`)),
      JSON.stringify(runtime.memory.notices()),
    );
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('recall.log of random bytes: kept aside, and the user is told the history is gone', async () => {
  const f = await fixture();
  try {
    const { dir } = await twoAgents(f);
    await writeFile(path.join(dir, 'recall', 'recall.log'), randomBytes(4096));
    const runtime = await open(f);
    // Kept aside beside the log as recall.log.<why>-<time>; the derived search index lives there too.
    assert.equal(
      (await readdir(path.join(dir, 'recall'))).filter((n) => /^recall\.log\..+/.test(n)).length,
      1,
      'the damaged bytes were kept aside',
    );
    assert.ok(
      runtime.memory.notices().some((n) => /recall\.log/.test(n)),
      JSON.stringify(runtime.memory.notices()),
    );
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('recall.log deleted: the user is told, instead of a silent "0 messages"', async () => {
  const f = await fixture();
  try {
    const { dir } = await twoAgents(f);
    await rm(path.join(dir, 'recall', 'recall.log'));
    const runtime = await open(f);
    assert.ok(
      runtime.memory.notices().some((n) => /recall\.log/.test(n) && /Main/.test(n)),
      JSON.stringify(runtime.memory.notices()),
    );
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a read-only window recovers in memory only: it shows the same agent, says why, and writes nothing', async () => {
  const f = await fixture();
  try {
    const { dir, mainId } = await twoAgents(f);
    await writeFile(path.join(dir, 'agents', 'active.json'), 'garbage');
    const before = (await readdir(path.join(dir, 'agents'))).sort();
    const runtime = await open(f, { readOnly: true });
    const active = (await runtime.agents.listAgents()).find((a) => a.active);
    assert.equal(active?.id, mainId);
    assert.ok(
      runtime.memory.notices().some((n) => /active\.json/.test(n)),
      JSON.stringify(runtime.memory.notices()),
    );
    assert.deepEqual((await readdir(path.join(dir, 'agents'))).sort(), before, 'nothing moved or written');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a fresh workspace has no notices', async () => {
  const f = await fixture();
  try {
    const runtime = await oneTurnAfter(f);
    assert.deepEqual(runtime.memory.notices(), []);
    await runtime.close();
    const again = await oneTurnAfter(f);
    assert.deepEqual(again.memory.notices(), []);
    await again.close();
  } finally {
    await f.close();
  }
});
