import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeRig, type RuntimeRig } from '../../fixtures/runtimeRig';
import type { WorkspaceRuntimeOptions } from '../../../src/core/runtime/workspaceRuntime';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { type UserMessageNotice } from '../../../src/core/runtime/workspaceRuntime';
import type { AgentEvent } from '../../../src/core/agent/events';
import type { RuntimeActivity } from '../../../src/core/runtime/runtimePort';

type Fixture = RuntimeRig;

function fixture(): Promise<Fixture> {
  return runtimeRig({
    prefix: 'runtime',
    models: ['local-model', 'other-model'],
    files: {
      'src/billing.ts': 'export function computeInvoiceTotal(lines: number[]): number {\n  return lines.reduce((a, b) => a + b, 0);\n}\n',
      'README.md': '# Project\n\nInvoices are totalled in src/billing.ts.\n',
      '.env': 'OPENAI_API_KEY=sk-canary-should-never-be-indexed\n',
    },
  });
}

const open = (f: Fixture, extra: Partial<WorkspaceRuntimeOptions> = {}) => f.open(extra);

test('a user message runs through the real agent and model client, persisted and reported', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    const events: AgentEvent[] = [];
    const users: UserMessageNotice[] = [];
    const activities: RuntimeActivity['kind'][] = [];
    runtime.chat.onEvent((e) => events.push(e));
    runtime.chat.onUserMessage((u) => users.push(u));
    runtime.onDidChangeActivity((a) => activities.push(a.kind));
    f.server.enqueue(sendMessage('Hello from the model'));
    const outcome = await runtime.chat.handle({ type: 'user_message', text: 'hi' }, { source: 'editor' });
    assert.equal(outcome.reason, 'done');
    assert.deepEqual(outcome.messages, ['Hello from the model']);
    assert.deepEqual(users, [{ text: 'hi', source: 'editor' }]);
    assert.ok(events.some((e) => e.type === 'message_complete' && e.text === 'Hello from the model'));
    assert.deepEqual(activities, ['thinking', 'idle']);
    const agents = await runtime.agents.listAgents();
    assert.equal(agents.length, 1);
    const stats = await runtime.memory.memoryStats();
    assert.equal(stats.recallCount, 3);
    assert.ok(stats.contextUsage && stats.contextUsage.usedTokens > 0);
    const history = await runtime.chat.conversation(undefined, 50);
    assert.equal(history.length, 3);
    await runtime.close();

    // A new runtime (a reload) finds the same agent and conversation.
    const again = await open(f);
    assert.equal((await again.chat.conversation(undefined, 50)).length, 3);
    assert.equal((await again.agents.listAgents())[0]!.id, agents[0]!.id);
    await again.close();
  } finally {
    await f.close();
  }
});

test('an empty model setting uses the first model the server lists', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f, { config: { ...f.config, model: '' } });
    f.server.enqueue(sendMessage('ok'));
    await runtime.chat.handle({ type: 'user_message', text: 'hi' });
    assert.equal(f.server.chatRequests()[0]!.body.model, 'local-model');
    await runtime.configure({ ...f.config, model: 'other-model' });
    f.server.enqueue(sendMessage('ok again'));
    const outcome = await runtime.chat.handle({ type: 'user_message', text: 'again' });
    assert.deepEqual(outcome.messages, ['ok again']);
    assert.equal(f.server.chatRequests()[1]!.body.model, 'other-model', 'a settings change rebuilds the model client');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('no server: the turn fails with a clear error event instead of throwing', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f, { config: { ...f.config, model: '', baseUrl: 'http://127.0.0.1:9/v1' } });
    const events: AgentEvent[] = [];
    runtime.chat.onEvent((e) => events.push(e));
    const outcome = await runtime.chat.handle({ type: 'user_message', text: 'hi' });
    assert.equal(outcome.reason, 'error');
    assert.match(outcome.error ?? '', /did not list its models/);
    assert.ok(events.some((e) => e.type === 'error'));
    assert.equal(events[events.length - 1]!.type, 'turn_finished');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('index, search, remember: workspace chunks and memories, secrets never indexed', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    const progress: string[] = [];
    runtime.index.onIndexProgress((p) => progress.push(p.phase));
    const summary = await runtime.index.indexWorkspace({});
    assert.equal(summary.indexed, 2, 'billing.ts and README.md; .env is a secret');
    assert.ok(progress.includes('done'));
    const hits = await runtime.memory.searchArchival('computeInvoiceTotal', { limit: 5 });
    assert.equal(hits[0]?.path, 'src/billing.ts');
    const secret = await runtime.memory.searchArchival('sk-canary-should-never-be-indexed', { limit: 5 });
    assert.ok(secret.every((h) => !h.text.includes('sk-canary')));
    const id = await runtime.memory.remember('The invoice total ignores discounts.', { path: 'src/billing.ts', startLine: 1, endLine: 3 });
    assert.ok(id);
    const found = await runtime.memory.searchMemory('discounts', { limit: 5 });
    assert.ok(found.archival.some((h) => h.source === 'memory' && h.id === id));
    assert.deepEqual(runtime.memory.archivalCounts().memory, 1);

    // Rebuild drops the workspace chunks and re-indexes; the memory stays.
    const rebuilt = await runtime.index.indexWorkspace({ rebuild: true });
    assert.equal(rebuilt.indexed, 2);
    assert.equal(runtime.memory.archivalCounts().memory, 1);
    // Unchanged files are not re-indexed on the next run.
    const again = await runtime.index.indexWorkspace({});
    assert.equal(again.indexed, 0);
    assert.equal(again.unchanged, 2);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('restricted mode: no indexing, no file functions offered; trust enables both live', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f, { trusted: false });
    await assert.rejects(runtime.index.indexWorkspace({}), /Restricted Mode/);
    f.server.enqueue(sendMessage('ok'));
    await runtime.chat.handle({ type: 'user_message', text: 'hi' });
    const names = (f.server.chatRequests()[0]!.body.tools ?? []).map((t) => t.function.name);
    assert.ok(!names.includes('read_file'), `no file functions when untrusted: ${names.join(', ')}`);
    await runtime.setWorkspaceTrusted(true);
    f.server.enqueue(sendMessage('ok'));
    await runtime.chat.handle({ type: 'user_message', text: 'again' });
    const trustedNames = (f.server.chatRequests()[1]!.body.tools ?? []).map((t) => t.function.name);
    assert.ok(trustedNames.includes('read_file'), 'file functions after trust');
    assert.equal((await runtime.index.indexWorkspace({})).indexed, 2);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('agents: create with own persona text, switch, core memory edit reaches the agent, export and import', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    const first = (await runtime.agents.listAgents())[0]!;
    const created = await runtime.agents.createAgent({
      name: 'Reviewer',
      persona: 'I review pull requests strictly.',
      humanPreset: 'learner',
    });
    const agents = await runtime.agents.listAgents();
    assert.equal(agents.length, 2);
    assert.equal(agents.find((a) => a.active)!.id, created.id);
    const blocks = await runtime.memory.coreMemory();
    assert.equal(blocks.find((b) => b.label === 'persona')!.value, 'I review pull requests strictly.');
    await assert.rejects(runtime.memory.setCoreMemoryBlock('human', 'x'.repeat(100_000)), /limit/);
    await runtime.memory.setCoreMemoryBlock('human', 'Name: Ada');
    f.server.enqueue(sendMessage('Hi Ada'));
    await runtime.chat.handle({ type: 'user_message', text: 'hello' });
    const request = f.server.chatRequests()[0]!.body.messages;
    assert.match(request[0]!.content as string, /Name: Ada/);
    assert.ok(
      request.some(
        (m) => typeof m.content === 'string' && m.content.includes('"type":"core_memory_edited"') && m.content.includes('"label":"human"'),
      ),
    );

    const exported = (await runtime.agents.exportAgent(created.id)) as { agent: { name: string } };
    assert.equal(exported.agent.name, 'Reviewer');
    const imported = await runtime.agents.importAgent(exported);
    assert.notEqual(imported.id, created.id);
    await runtime.agents.switchAgent(first.id);
    assert.equal((await runtime.agents.listAgents()).find((a) => a.active)!.id, first.id);
    assert.equal((await runtime.memory.coreMemory(created.id)).find((b) => b.label === 'human')!.value, 'Name: Ada');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('clear view hides the conversation (also after reopening) but keeps recall', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    f.server.enqueue(sendMessage('one'));
    await runtime.chat.handle({ type: 'user_message', text: 'first' });
    await runtime.chat.clearView();
    assert.equal((await runtime.chat.conversation(undefined, 50)).length, 0);
    f.server.enqueue(sendMessage('two'));
    await runtime.chat.handle({ type: 'user_message', text: 'second' });
    const visible = await runtime.chat.conversation(undefined, 50);
    assert.equal(visible.length, 3);
    assert.equal(await runtime.chat.hasConversationBefore(visible[0]!.seq), false);
    assert.equal((await runtime.memory.memoryStats()).recallCount, 6);
    await runtime.close();
    const again = await open(f);
    assert.equal((await again.chat.conversation(undefined, 50)).length, 3);
    await again.close();
  } finally {
    await f.close();
  }
});

test('a second runtime on the same workspace is read-only and says why', async () => {
  const f = await fixture();
  try {
    const first = await open(f);
    f.server.enqueue(sendMessage('hello'));
    await first.chat.handle({ type: 'user_message', text: 'hi' });
    const second = await open(f, { owner: 'memgpt CLI' });
    assert.equal(second.readOnly, true);
    assert.equal(second.activity().kind, 'read-only');
    const outcome = await second.chat.handle({ type: 'user_message', text: 'hi' }).catch((e: Error) => e);
    assert.ok(outcome instanceof Error && /cannot chat in this window/.test(outcome.message), String(outcome));
    assert.equal((await second.chat.conversation(undefined, 10)).length, 3, 'the read-only window still shows the conversation');
    await second.close();
    await first.close();
  } finally {
    await f.close();
  }
});

test('a tool call to archival search finds workspace code through the runtime', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    await runtime.index.indexWorkspace({});
    f.server.enqueue(
      toolCall('archival_memory_search', { query: 'invoice total', request_heartbeat: true }),
      sendMessage('It is in src/billing.ts:1-3'),
    );
    const outcome = await runtime.chat.handle({ type: 'user_message', text: 'where are invoices totalled?' });
    assert.deepEqual(outcome.messages, ['It is in src/billing.ts:1-3']);
    const second = f.server.chatRequests()[1]!.body.messages;
    const toolResult = second[second.length - 1]!.content as string;
    assert.match(toolResult, /src\/billing\.ts:1-3/);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('core memory limits from the settings apply live to edits and to the view of the blocks', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    const long = 'x'.repeat(2500);
    await assert.rejects(runtime.memory.setCoreMemoryBlock('human', long), /2000 character limit/);
    await runtime.configure({ ...f.config, coreMemoryLimits: { block: 3000, project: 4000 } });
    await runtime.memory.setCoreMemoryBlock('human', long);
    const blocks = await runtime.memory.coreMemory();
    assert.equal(blocks.find((b) => b.label === 'human')!.limit, 3000);
    assert.equal(blocks.find((b) => b.label === 'project')!.limit, 4000);
    assert.equal(blocks.find((b) => b.label === 'human')!.value, long);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a reader opened read-only never takes the lock: a window opening meanwhile becomes the writer', async () => {
  const f = await fixture();
  try {
    const seed = await open(f);
    f.server.enqueue(sendMessage('hello'));
    await seed.chat.handle({ type: 'user_message', text: 'hi' });
    await seed.close();
    const reader = await open(f, { readOnly: true, owner: 'memgpt CLI (search)' });
    assert.equal(reader.readOnly, true);
    assert.equal(reader.storage.lockHolder, null, 'nobody else holds it');
    const writer = await open(f);
    assert.equal(writer.readOnly, false, 'the window is the writer although a reader is open');
    assert.equal((await reader.chat.conversation(undefined, 10)).length, 3);
    const exported = (await reader.agents.exportAgent((await reader.agents.listAgents())[0]!.id)) as { recall: unknown[] };
    assert.equal(exported.recall.length, 3, 'export needs neither the lock nor a model');
    // A reader opened while the writer holds the lock names it.
    const second = await open(f, { readOnly: true });
    assert.match(second.storage.readOnlyReason ?? '', /holds this workspace's memory/);
    await Promise.all([reader.close(), writer.close(), second.close()]);
  } finally {
    await f.close();
  }
});

test('callers at once on a fresh workspace (chat, login event, commands) share one new agent', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    const [agents, , other] = await Promise.all([
      runtime.agents.listAgents(),
      runtime.chat.enqueue({ type: 'login', lastLogin: null }),
      runtime.agent(),
      runtime.memory.memoryStats(),
      runtime.memory.coreMemory(),
    ]);
    const after = await runtime.agents.listAgents();
    assert.equal(after.length, 1, `one agent, got ${after.map((a) => a.name).join(', ')}`);
    assert.equal(agents.length, 1);
    assert.equal(other.id, after[0]!.id);
    f.server.enqueue(sendMessage('ok'));
    await runtime.chat.handle({ type: 'user_message', text: 'hi' });
    const sent = JSON.stringify(f.server.chatRequests()[0]!.body.messages);
    assert.match(sent, /"type\\":\\"login\\"|login/, 'the login event reached the active agent');
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('cancelTurns stops a turn started by another caller, keeping the partial answer', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    f.server.enqueue(
      sendMessage('A long answer that streams slowly enough to be stopped half way through.', { argumentChunkSize: 3, chunkDelayMs: 40 }),
    );
    const events: AgentEvent[] = [];
    const turn = runtime.chat.handle({ type: 'user_message', text: 'explain' }, { source: 'editor', onEvent: (e) => events.push(e) });
    while (!events.some((e) => e.type === 'message_delta')) await new Promise((r) => setTimeout(r, 10));
    runtime.chat.cancelTurns();
    const outcome = await turn;
    assert.equal(outcome.reason, 'cancelled');
    const partial = events.find((e) => e.type === 'message_complete');
    assert.ok(partial && partial.type === 'message_complete' && partial.partial === true);
    assert.equal(runtime.chat.isBusy(), false);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test("on Ollama with no window set, the runtime plans for Ollama's default context, not the model's trained one", async () => {
  const f = await fixture();
  const { createServer, request } = await import('node:http');
  // Ollama's OpenAI-compatible API (forwarded to the scripted server) plus its native /api/version.
  const upstream = new URL(f.server.url);
  const ollama = createServer((req, res) => {
    if (req.url === '/api/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.12.0"}');
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((r) => ollama.listen(0, '127.0.0.1', r));
  const port = (ollama.address() as { port: number }).port;
  const logs: string[] = [];
  try {
    const config = { ...f.config, model: 'llama3.1', contextWindow: 0, baseUrl: `http://127.0.0.1:${port}/v1` };
    const runtime = await open(f, { config, log: (_level, m) => logs.push(m) });
    f.server.enqueue(sendMessage('hi'));
    await runtime.chat.handle({ type: 'user_message', text: 'hello' });
    assert.equal(runtime.chat.contextUsage()?.windowTokens, 4096);
    assert.ok(
      logs.some((m) => /OLLAMA_CONTEXT_LENGTH/.test(m)),
      'the user is told why and what to do',
    );
    await runtime.configure({ ...config, contextWindow: 32_768 });
    f.server.enqueue(sendMessage('hi'));
    await runtime.chat.handle({ type: 'user_message', text: 'again' });
    assert.equal(runtime.chat.contextUsage()?.windowTokens, 32_768, 'an explicit window wins');
    await runtime.close();
    // The same model on a server that is not Ollama keeps the table's window.
    const plain = await open(f, { config: { ...config, baseUrl: f.server.url } });
    f.server.enqueue(sendMessage('hi'));
    await plain.chat.handle({ type: 'user_message', text: 'hello' });
    assert.equal(plain.chat.contextUsage()?.windowTokens, 131_072);
    await plain.close();
  } finally {
    ollama.close();
    await f.close();
  }
});
