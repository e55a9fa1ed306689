/**
 * memgpt.provider "vscode-lm": the runtime takes its model, window and token counter from the
 * host's model source (in VS Code, the editor's language models) instead of a server URL; a turn
 * may be answered by another model (a chat view's own picker). The host model here is the real
 * OpenAI client on the scripted server, so the real agent loop runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sendMessage, startFakeOpenAIServer, toolCall, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import type { RuntimeConfig } from '../../../src/core/runtime/runtimeConfig';
import type { HostModel, HostModelSource } from '../../../src/core/runtime/hostModels';
import { OpenAIChatModel } from '../../../src/core/llm/openaiChatModel';
import { CalibratedTokenCounter } from '../../../src/core/tokens/calibratedTokenCounter';
import { createTokenCounter } from '../../../src/core/tokens/tokenCounter';
import { createChatModel } from '../../../src/core/runtime/chatModelFactory';
import { ChatModelError } from '../../../src/core/interfaces/chatModel';
import { testRuntimeConfig } from '../../fixtures/runtimeRig';

async function setup(): Promise<{ root: string; folder: string; server: FakeOpenAIServer; config: RuntimeConfig; close(): Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), 'memgpt-hostmodels-'));
  const folder = path.join(root, 'project');
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'README.md'), '# Project\n');
  const server = await startFakeOpenAIServer({ models: ['host-model'] });
  const config: RuntimeConfig = testRuntimeConfig({ model: 'scripted', baseUrl: '', provider: 'vscode-lm', contextWindow: 0 });
  return { root, folder, server, config, close: async () => (await server.close(), await rm(root, { recursive: true, force: true })) };
}

class RecordingSource implements HostModelSource {
  opened: string[] = [];
  counter: CalibratedTokenCounter | null = null;
  constructor(
    private readonly url: string,
    private readonly window: number,
  ) {}
  async open(selector: string): Promise<HostModel> {
    this.opened.push(selector);
    if (selector === 'missing') throw new ChatModelError('not_found', 'No VS Code language model matches MemGPT: Model "missing".');
    this.counter = new CalibratedTokenCounter(await createTokenCounter('host-model'));
    return {
      model: new OpenAIChatModel({ baseUrl: this.url, model: 'host-model', maxRetries: 0 }),
      contextWindow: this.window,
      counter: this.counter,
    };
  }
  async list(): Promise<string[]> {
    return ['host-model', 'other-host-model'];
  }
}

test('provider vscode-lm: the host’s model answers a turn with function calls, planned with its window and counter', async () => {
  const f = await setup();
  try {
    const source = new RecordingSource(f.server.url, 16_000);
    const runtime = await WorkspaceRuntime.open({
      storageRoot: path.join(f.root, 'state'),
      folders: [{ name: 'project', path: f.folder }],
      trusted: true,
      config: f.config,
      hostModels: source,
    });
    f.server.enqueue(toolCall('core_memory_append', { label: 'human', content: 'Prefers short answers.', request_heartbeat: true }));
    f.server.enqueue(sendMessage('Noted.'));
    const outcome = await runtime.chat.handle({ type: 'user_message', text: 'I prefer short answers.' });
    assert.equal(outcome.reason, 'done');
    assert.deepEqual(outcome.messages, ['Noted.']);
    assert.deepEqual(source.opened, ['scripted'], 'memgpt.model is the selector');
    assert.equal(f.server.chatRequests().length, 2);
    assert.match((await runtime.memory.coreMemory()).find((b) => b.label === 'human')!.value, /Prefers short answers/);
    assert.equal(runtime.chat.contextUsage()?.windowTokens, 16_000, 'the host’s window, not the 8192 default of an unknown model');
    assert.deepEqual(await runtime.models.listModels(), ['host-model', 'other-host-model']);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('provider vscode-lm: no matching model, or no host at all, is a clear error for the turn', async () => {
  const f = await setup();
  try {
    const source = new RecordingSource(f.server.url, 16_000);
    const runtime = await WorkspaceRuntime.open({
      storageRoot: path.join(f.root, 'state'),
      folders: [],
      trusted: true,
      config: { ...f.config, model: 'missing' },
      hostModels: source,
    });
    const outcome = await runtime.chat.handle({ type: 'user_message', text: 'hi' });
    assert.equal(outcome.reason, 'error');
    assert.match(outcome.error ?? '', /No VS Code language model matches MemGPT: Model "missing"/);
    await runtime.close();

    const cli = await WorkspaceRuntime.open({ storageRoot: path.join(f.root, 'state2'), folders: [], trusted: true, config: f.config });
    const headless = await cli.chat.handle({ type: 'user_message', text: 'hi' });
    assert.equal(headless.reason, 'error');
    assert.match(headless.error ?? '', /only VS Code can supply/);
    await assert.rejects(cli.models.listModels(), /available only inside VS Code/);
    await cli.close();
    assert.throws(() => createChatModel(f.config, 'x'), /only VS Code can supply/);
  } finally {
    await f.close();
  }
});

test('a turn can be answered by another model (a chat view’s picker) while the agent keeps its own', async () => {
  const f = await setup();
  const other = await startFakeOpenAIServer({ models: ['picked'] });
  try {
    const config: RuntimeConfig = { ...f.config, provider: 'openai', baseUrl: f.server.url, model: 'host-model' };
    const runtime = await WorkspaceRuntime.open({ storageRoot: path.join(f.root, 'state'), folders: [], trusted: true, config });
    other.enqueue(sendMessage('From the picked model.'));
    const outcome = await runtime.chat.handle(
      { type: 'user_message', text: 'hi' },
      { model: new OpenAIChatModel({ baseUrl: other.url, model: 'picked', maxRetries: 0 }) },
    );
    assert.deepEqual(outcome.messages, ['From the picked model.']);
    assert.equal(other.chatRequests().length, 1);
    assert.equal(f.server.chatRequests().length, 0, 'the configured model was not asked');
    f.server.enqueue(sendMessage('From the configured model.'));
    assert.deepEqual((await runtime.chat.handle({ type: 'user_message', text: 'again' })).messages, ['From the configured model.']);
    await runtime.close();
  } finally {
    await other.close();
    await f.close();
  }
});

test('a turn started while new settings are still being read runs on the new settings', async () => {
  const f = await setup();
  const other = await startFakeOpenAIServer({ models: ['next-model'] });
  try {
    const config: RuntimeConfig = { ...f.config, provider: 'openai', baseUrl: f.server.url, model: 'host-model' };
    const runtime = await WorkspaceRuntime.open({ storageRoot: path.join(f.root, 'state'), folders: [], trusted: true, config });
    // The key of the new settings comes from an asynchronous store; the user sends at once.
    const slowConfig = new Promise<RuntimeConfig>((resolve) =>
      setTimeout(() => resolve({ ...config, baseUrl: other.url, model: 'next-model' }), 200),
    );
    const applied = runtime.configure(slowConfig);
    other.enqueue(sendMessage('On the new server.'));
    const outcome = await runtime.chat.handle({ type: 'user_message', text: 'hi' });
    await applied;
    assert.deepEqual(outcome.messages, ['On the new server.']);
    assert.equal(f.server.chatRequests().length, 0, 'the old settings were not used');
    await runtime.close();
  } finally {
    await other.close();
    await f.close();
  }
});
