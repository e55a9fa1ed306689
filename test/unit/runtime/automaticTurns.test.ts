/**
 * Automatic turns (login, timer) give way to the user: the real `openai` client against the
 * scripted server on 127.0.0.1 and a real WorkspaceRuntime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { badKey, hang, sendMessage, startFakeOpenAIServer, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import { testRuntimeConfig } from '../../fixtures/runtimeRig';
import type { AgentEvent } from '../../../src/core/agent/events';
import { deliverLogin } from '../../../src/core/events/agentWakeups';

interface Fixture {
  server: FakeOpenAIServer;
  open(): Promise<WorkspaceRuntime>;
  close(): Promise<void>;
}

async function fixture(): Promise<Fixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'memgpt-automatic-'));
  const folder = path.join(root, 'project');
  await mkdir(folder, { recursive: true });
  const server = await startFakeOpenAIServer({ models: ['chat-model'] });
  return {
    server,
    open: () =>
      WorkspaceRuntime.open({
        storageRoot: path.join(root, 'state'),
        folders: [{ name: 'project', path: folder }],
        trusted: true,
        config: testRuntimeConfig({ model: 'chat-model', baseUrl: server.url }),
      }),
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('the login turn at window open gives way to the user: with a server that never answers it, the first message is answered promptly', async (t) => {
  const f = await fixture();
  try {
    const runtime = await f.open();
    const finished: string[] = [];
    const errors: AgentEvent[] = [];
    runtime.chat.onEvent((e) => {
      if (e.type === 'turn_finished') finished.push(e.reason);
      if (e.type === 'error') errors.push(e);
    });
    f.server.enqueue(hang(), sendMessage('Hi! I am here.'));
    const login = deliverLogin(runtime.chat, true);
    await until('the login turn to ask the model', () => f.server.chatRequests().length === 1);
    assert.equal(runtime.chat.isBusy(), true);

    const started = Date.now();
    const turn = await runtime.chat.handle({ type: 'user_message', text: 'hello?' }, { source: 'chat' });
    const elapsed = Date.now() - started;
    assert.deepEqual(turn.messages, ['Hi! I am here.']);
    t.diagnostic(`the user's message was answered ${elapsed} ms after it was sent`);
    // Far below the request deadline (30 s) the user would have waited behind the hung request before.
    assert.ok(elapsed < 10_000, `answered in ${elapsed} ms`);
    assert.equal(await login, 'ran');
    assert.deepEqual(finished, ['preempted', 'done'], 'the login turn ended as pre-empted, not as a stop the user made');
    assert.deepEqual(errors, [], 'no error reached the conversation');
    const second = JSON.stringify(f.server.chatRequests()[1]!.body.messages);
    assert.match(second, /\\"type\\":\\"login\\"/, 'the agent still learns about the login');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('an automatic turn that fails is returned, not reported as an error of the conversation', async () => {
  const f = await fixture();
  try {
    const runtime = await f.open();
    const errors: AgentEvent[] = [];
    runtime.chat.onEvent((e) => e.type === 'error' && errors.push(e));
    f.server.enqueue(badKey());
    const outcome = await runtime.chat.handle({ type: 'timer', text: 'tick' });
    assert.equal(outcome.reason, 'error');
    assert.ok(outcome.error);
    assert.deepEqual(errors, []);
    await runtime.close();
  } finally {
    await f.close();
  }
});
