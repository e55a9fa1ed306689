/**
 * The real agent loop on the Anthropic client against the scripted Messages API server: every
 * request the agent makes must be one the API accepts (the fake validates like the real one),
 * tool use maps to our functions, and the cache breakpoints sit on the stable prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnthropicChatModel } from '../../../src/core/llm/anthropicChatModel';
import { createTokenCounter } from '../../../src/core/tokens/tokenCounter';
import { FileRecallStore } from '../../../src/core/memory/recallStore';
import { AgentStateStore } from '../../../src/core/agent/agentStateStore';
import { ArchivalIndex } from '../../../src/core/index/archivalIndex';
import { LocalHashEmbedder } from '../../../src/core/embed/localEmbedder';
import { NodeWorkspace } from '../../../src/core/workspace/nodeWorkspace';
import { Agent } from '../../../src/core/agent/agent';
import {
  contextTooLong,
  startFakeAnthropicServer,
  text,
  toolUse,
  type AnthropicStep,
  type FakeAnthropicServer,
  type RecordedAnthropicRequest,
} from '../../fixtures/fakeAnthropicServer';

const KEY = 'sk-ant-api03-agent-test-key-0123456789';

interface Rig {
  server: FakeAnthropicServer;
  agent: Agent;
  summaries: number;
  /** Steps for agent requests (summaries are answered apart, so they never take one). */
  enqueue(...steps: AnthropicStep[]): void;
  close(): Promise<void>;
}

/** Summary requests (no tools) are answered by the responder; agent steps come from the queue. */
async function rig(): Promise<Rig> {
  const dir = mkdtempSync(path.join(tmpdir(), 'memgpt-anthropic-'));
  mkdirSync(path.join(dir, 'ws'));
  const queue: AnthropicStep[] = [];
  const r = { summaries: 0, enqueue: (...more: AnthropicStep[]) => void queue.push(...more) } as Rig;
  const server = await startFakeAnthropicServer({
    apiKey: KEY,
    responder: (req): AnthropicStep | undefined =>
      (req.body.tools?.length ?? 0) === 0 ? text(`SUMMARY-${++r.summaries}: the user talked about tea.`) : queue.shift(),
  });
  const model = new AnthropicChatModel({ baseUrl: server.url, apiKey: KEY, model: 'claude-sonnet-4-5', maxRetries: 0 });
  const recall = await FileRecallStore.open(path.join(dir, 'recall'));
  const states = await AgentStateStore.open(path.join(dir, 'agents'));
  const archival = await ArchivalIndex.open({ dir: path.join(dir, 'archival'), embedder: new LocalHashEmbedder() });
  const deps = {
    model,
    counter: await createTokenCounter('claude-sonnet-4-5'),
    recall,
    archival,
    workspace: new NodeWorkspace([{ name: 'ws', path: path.join(dir, 'ws') }]),
    states,
  };
  const state = await states.create({ name: 'Anthropic agent' });
  r.server = server;
  r.agent = Agent.fromState(deps, { contextWindow: 8192, replyNudge: false }, state);
  r.close = async () => {
    await r.agent.idle();
    await recall.close();
    await archival.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return r;
}

const steps = (server: FakeAnthropicServer): RecordedAnthropicRequest[] =>
  server.messageRequests().filter((q) => (q.body.tools?.length ?? 0) > 0);

function breakpoints(req: RecordedAnthropicRequest): string[] {
  const out: string[] = [];
  req.body.tools?.forEach((t, i) => t.cache_control && out.push(`tool:${i === req.body.tools!.length - 1 ? 'last' : i}`));
  req.body.system?.forEach((s, i) => s.cache_control && out.push(`system:${i === req.body.system!.length - 1 ? 'last' : i}`));
  req.body.messages.forEach((m, i) =>
    m.content.forEach((b) => {
      if (!b.cache_control) return;
      const isSummary = b.type === 'text' && b.text.includes('The following is a summary of the previous messages');
      out.push(isSummary ? 'summary' : i === req.body.messages.length - 1 ? 'newest' : `message:${i}`);
    }),
  );
  return out;
}

test('anthropic agent: a tool_use turn (core_memory_append with request_heartbeat, then send_message) through the real loop', async () => {
  const r = await rig();
  try {
    r.enqueue(
      {
        kind: 'reply',
        text: 'The user likes tea; saving that.',
        toolUses: [{ name: 'core_memory_append', input: { label: 'human', content: 'Likes green tea.', request_heartbeat: true } }],
      },
      toolUse('send_message', { message: 'Noted: you like green tea.' }),
    );
    const events: string[] = [];
    r.agent.onEvent((e) => events.push(e.type));
    const result = await r.agent.handle({ type: 'user_message', text: 'I like green tea.' });
    assert.equal(result.reason, 'done', result.error);
    assert.deepEqual(result.messages, ['Noted: you like green tea.']);
    assert.match(r.agent.coreMemory.get('human'), /Likes green tea\./);
    assert.ok(events.includes('monologue_delta') && events.includes('message_delta'), 'streamed to the front end');

    const [first, second] = steps(r.server);
    assert.ok(first && second, 'two steps: the heartbeat called the model again');
    // The second request carries the call and its result, in Anthropic's shape, with the server's id.
    const assistant = second.body.messages.at(-2)!;
    assert.equal(assistant.role, 'assistant');
    const use = assistant.content.find((b) => b.type === 'tool_use');
    assert.ok(use && use.type === 'tool_use' && use.name === 'core_memory_append' && /^toolu_/.test(use.id));
    assert.deepEqual(use.input, { label: 'human', content: 'Likes green tea.', request_heartbeat: true });
    const result0 = second.body.messages.at(-1)!.content[0]!;
    assert.ok(result0.type === 'tool_result' && result0.tool_use_id === use.id);
    assert.equal((JSON.parse(result0.type === 'tool_result' ? result0.content : '{}') as { status: string }).status, 'OK');
    // The key travels only in its header.
    for (const q of r.server.requests) {
      assert.equal(q.headers['x-api-key'], KEY);
      assert.ok(!JSON.stringify(q.body).includes(KEY));
    }
    // Breakpoints on the stable prefix (and the newest message); the memory edit changed the system message.
    assert.deepEqual(breakpoints(first), ['tool:last', 'system:last', 'newest']);
    assert.deepEqual(breakpoints(second), ['tool:last', 'system:last', 'newest']);
    assert.ok(second.usage!.cache_read_input_tokens > 0, 'the tools were read from the cache on the second step');
  } finally {
    await r.close();
  }
});

test('anthropic agent: a 400 context-length error flushes to a summary, which carries a cache breakpoint; the prefix is then read from the cache', async () => {
  const r = await rig();
  try {
    for (let i = 0; i < 5; i++) {
      r.enqueue(toolUse('send_message', { message: `reply ${i}` }));
      const done = await r.agent.handle({ type: 'user_message', text: `message ${i}: I like tea number ${i}. ${'words '.repeat(60)}` });
      assert.equal(done.reason, 'done', done.error);
    }
    const before = steps(r.server).length;
    r.enqueue(contextTooLong(), toolUse('send_message', { message: 'still here' }), toolUse('send_message', { message: 'and again' }));
    const result = await r.agent.handle({ type: 'user_message', text: 'one more' });
    assert.equal(result.reason, 'done', result.error);
    assert.deepEqual(result.messages, ['still here']);
    assert.equal(r.summaries, 1, 'the context-length error made the agent summarise');
    const [failed, retried] = steps(r.server).slice(before);
    assert.ok(failed && retried);
    assert.ok(retried.body.messages.length < failed.body.messages.length, 'the retry is shorter');
    assert.deepEqual(breakpoints(retried), ['tool:last', 'system:last', 'summary', 'newest']);
    const summaryBlock = retried.body.messages[0]!.content[0]!;
    assert.ok(summaryBlock.type === 'text' && summaryBlock.text.includes('SUMMARY-1'));

    // The next turn sends the same system message, tools and summary: read from the cache.
    const next = await r.agent.handle({ type: 'user_message', text: 'and now?' });
    assert.deepEqual(next.messages, ['and again']);
    const last = steps(r.server).at(-1)!;
    assert.deepEqual(breakpoints(last), ['tool:last', 'system:last', 'summary', 'newest']);
    const summaryPrefixTokens = Math.ceil(
      (JSON.stringify(last.body.tools).length + JSON.stringify(last.body.system).length + JSON.stringify(last.body.messages[0]).length) /
        4 /
        2,
    );
    assert.ok(
      last.usage!.cache_read_input_tokens >= summaryPrefixTokens,
      `cache read ${last.usage!.cache_read_input_tokens} covers the stable prefix`,
    );
  } finally {
    await r.close();
  }
});
