/**
 * The extension API (MemGPT client shape) in the real extension host, against the scripted model
 * server started inside the host. Needs the extension's wiring (activate returns MemGptClientApi);
 * a missing wiring fails the suite.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { sendMessage, startFakeOpenAIServer, toolCall, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import type { MemGptClientApi } from '../../../src/vscode/api';
import { activatedExtension } from '../support/extensionApi';

const NOT_WIRED = 'the extension does not return MemGptClientApi yet (registerEditorIntegration is not wired in extension.ts)';

async function clientApi(): Promise<MemGptClientApi | undefined> {
  const api = (await activatedExtension()).exports as unknown as Partial<MemGptClientApi>;
  return typeof api.userMessage === 'function' && typeof api.createAgent === 'function' ? (api as MemGptClientApi) : undefined;
}

describe('editor integration: extension API', function () {
  this.timeout(60_000);
  let server: FakeOpenAIServer;
  let api: MemGptClientApi;

  before(async function () {
    const found = await clientApi();
    if (!found) {
      // Wired since the runtime landed: a missing command or API is a failure, never a skip.
      throw new Error(`[editorApi] ${NOT_WIRED}`);
    }
    api = found;
    server = await startFakeOpenAIServer({ models: ['gpt-4o-mini'] });
    const config = vscode.workspace.getConfiguration('memgpt');
    await config.update('baseUrl', server.url, vscode.ConfigurationTarget.Global);
    await config.update('model', 'gpt-4o-mini', vscode.ConfigurationTarget.Global);
    await config.update('contextWindow', 16_000, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await server?.close();
  });

  it('createAgent with presets makes an active agent with its persona preset, sharing the user’s human block', async () => {
    const previous = (await api.listAgents()).find((a) => a.active);
    assert.ok(previous, 'an agent is active before');
    const shared = (await api.getMemory(previous.id)).core.human;
    const { id } = await api.createAgent({ name: 'API test', persona: 'terse', human: 'learner' });
    const agents = await api.listAgents();
    assert.equal(agents.find((a) => a.active)?.id, id);
    const memory = await api.getMemory(id);
    assert.match(memory.core.persona ?? '', /terse coding assistant/);
    // `human` belongs to the user (memgpt.memory.humanScope "user"): what is known about them is not replaced by a preset.
    assert.equal(memory.core.human, shared);
    assert.equal(memory.limits.persona, 2000);
  });

  it('createAgent with own persona text stores that text', async () => {
    const { id } = await api.createAgent({ persona: 'I review pull requests like a pirate.' });
    assert.equal((await api.getMemory(id)).core.persona, 'I review pull requests like a pirate.');
  });

  it('userMessage returns the reply and the function calls, and the memory edit is visible in getMemory', async () => {
    const { id } = await api.createAgent({ name: 'Tea' });
    server.enqueue(
      toolCall('core_memory_append', { label: 'human', content: 'Prefers green tea.', request_heartbeat: true }),
      sendMessage('Noted: you like green tea.'),
    );
    const before = server.chatRequests().length;
    const response = await api.userMessage(id, 'Remember that I like green tea.');
    assert.equal(response.finishReason, 'done', response.error);
    assert.deepEqual(response.reply, ['Noted: you like green tea.']);
    const append = response.functionCalls.find((f) => f.name === 'core_memory_append');
    assert.equal(append?.status, 'OK', append?.result);
    assert.ok(response.events.some((e) => e.type === 'turn_finished'));
    assert.equal(server.chatRequests().length - before, 2, 'one call, then the heartbeat');
    const request = server.chatRequests()[before]!;
    const lastUser = request.body.messages.filter((m) => m.role === 'user').at(-1);
    assert.match(String(lastUser?.content), /green tea/);
    const memory = await api.getMemory(id);
    assert.match(memory.core.human ?? '', /Prefers green tea\./);
    assert.ok(memory.recallCount >= 3, `recall holds the turn (${memory.recallCount})`);
  });

  it('onEvent streams the events of the active agent; unknown agents get a clear error', async () => {
    const { id } = await api.createAgent({ name: 'Events' });
    const seen: string[] = [];
    const sub = api.onEvent((e) => seen.push(e.type));
    server.enqueue(sendMessage('Hi!'));
    await api.userMessage(id, 'Hello');
    sub.dispose();
    assert.ok(seen.includes('message_complete') && seen.includes('turn_finished'), seen.join(','));
    await assert.rejects(api.userMessage('no-such-agent', 'hi'), /No agent with id "no-such-agent"/);
  });
});
