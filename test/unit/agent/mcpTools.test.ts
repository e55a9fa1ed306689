/**
 * MCP tools through the real agent loop: the real openai client against the scripted model
 * server, the real McpHub with the SDK-written test server as a stdio process, a scripted
 * approver in place of the user. The model calls an MCP function; the user is asked and accepts
 * (or declines), and the result is what the model reads next and what recall keeps.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Agent } from '../../../src/core/agent/agent';
import type { AgentEvent } from '../../../src/core/agent/events';
import type { ApprovalAnswer, ApprovalRequest } from '../../../src/core/interfaces/approval';
import { McpHub } from '../../../src/core/mcpClient/mcpHub';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { bundleMcpTestServer } from '../../fixtures/mcpTestServer';
import { makeHarness, stepRequests, toolResultIn, type Harness } from './agentHarness';

let fixtureDir = '';
let fixture = '';

before(async () => {
  fixtureDir = mkdtempSync(path.join(tmpdir(), 'memgpt-mcp-agent-fixture-'));
  fixture = await bundleMcpTestServer(fixtureDir);
});

after(() => rmSync(fixtureDir, { recursive: true, force: true }));

interface McpHarness extends Harness {
  hub: McpHub;
  asked: ApprovalRequest[];
  events: AgentEvent[];
}

async function mcpHarness(answer: (r: ApprovalRequest) => ApprovalAnswer, options: { trusted?: boolean } = {}): Promise<McpHarness> {
  const h = await makeHarness();
  const asked: ApprovalRequest[] = [];
  const hub = new McpHub({
    folders: () => [{ name: 'ws', path: path.join(h.dir, 'ws') }],
    trusted: () => options.trusted ?? true,
    settingServers: () => ({ servers: { tools: { command: process.execPath, args: [fixture] } } }),
    approver: () => ({
      request: (r) => {
        asked.push(r);
        return Promise.resolve(answer(r));
      },
    }),
    log: () => undefined,
    timeouts: { turnWaitMs: 20_000 },
  });
  const state = await h.states.load(h.agentId);
  h.deps.external = hub;
  h.agent = Agent.fromState(h.deps, { contextWindow: 8192, replyNudge: false }, state);
  const events: AgentEvent[] = [];
  h.agent.onEvent((e) => events.push(e));
  const close = h.close.bind(h);
  return Object.assign(h, {
    hub,
    asked,
    events,
    close: async () => {
      await hub.close();
      await close();
    },
  });
}

test('the model calls an MCP tool, the user approves, and the result reaches the model and recall', async () => {
  const h = await mcpHarness(() => ({ decision: 'accept' }));
  try {
    h.server.enqueue(toolCall('mcp__tools__add', { a: 1234, b: 4321, request_heartbeat: true }, { id: 'call-add' }));
    h.server.enqueue(sendMessage('The sum is 5555.'));
    const result = await h.agent.handle({ type: 'user_message', text: 'Add 1234 and 4321 with the tool.' });
    assert.equal(result.reason, 'done', result.error);
    assert.deepEqual(result.messages, ['The sum is 5555.']);

    // The functions were offered with MemGPT's own, from the first request of the turn.
    const first = stepRequests(h.server)[0]!;
    const offered = (first.body.tools ?? []).map((t) => t.function.name);
    assert.ok(offered.includes('mcp__tools__add'), offered.join(', '));
    assert.ok(offered.includes('send_message'));

    assert.equal(h.asked.length, 1);
    assert.equal(h.asked[0]!.kind, 'tool');
    assert.equal(h.asked[0]!.callId, 'call-add', 'the question sits on the call the chat shows');

    const read = toolResultIn(stepRequests(h.server)[1]!, 'call-add')!;
    assert.equal(read.status, 'OK');
    assert.match(read.message, /5555/);

    // Kept in recall like every function result, so a later conversation_search finds it.
    const found = h.recall.search(h.agentId, '5555', 0, 10).records;
    assert.ok(
      found.some((r) => r.kind === 'tool' && r.message.role === 'tool' && r.message.content.includes('5555')),
      'the result is in recall',
    );
    const finished = h.events.find((e) => e.type === 'function_call_finished' && e.name === 'mcp__tools__add');
    assert.ok(finished && finished.type === 'function_call_finished' && finished.status === 'OK');
  } finally {
    await h.close();
  }
});

test('a long MCP result is cut to the budget of any function result, with a note, in the prompt and in recall', async () => {
  const h = await mcpHarness(() => ({ decision: 'accept' }));
  try {
    h.server.enqueue(toolCall('mcp__tools__big', { chars: 60_000, request_heartbeat: true }, { id: 'call-big' }));
    h.server.enqueue(sendMessage('That was long.'));
    await h.agent.handle({ type: 'user_message', text: 'Get the long text.' });
    const read = toolResultIn(stepRequests(h.server)[1]!, 'call-big')!;
    assert.equal(read.status, 'OK');
    assert.ok(read.message.length < 20_000, `cut: ${read.message.length} characters`);
    assert.match(read.message, /truncated: the result was \d+ characters/);
    const kept = h.recall.search(h.agentId, 'truncated', 0, 10).records.find((r) => r.kind === 'tool');
    assert.ok(kept && (kept.message.content ?? '').length < 25_000, 'recall keeps the same bounded result');
  } finally {
    await h.close();
  }
});

test("a declined MCP call is not run; the model reads the user's reason, and recall keeps it", async () => {
  const h = await mcpHarness(() => ({ decision: 'reject', reason: 'not that server today' }));
  try {
    h.server.enqueue(toolCall('mcp__tools__crash', { request_heartbeat: true }, { id: 'call-crash' }));
    h.server.enqueue(sendMessage('Understood, I will not use it.'));
    const result = await h.agent.handle({ type: 'user_message', text: 'Use the crash tool.' });
    assert.equal(result.reason, 'done', result.error);
    const read = toolResultIn(stepRequests(h.server)[1]!, 'call-crash')!;
    assert.equal(read.status, 'Failed');
    assert.match(read.message, /not approved — the user declined: not that server today/);
    assert.equal(h.hub.servers()[0]!.state.kind, 'running', 'the tool never ran');
    const found = h.recall.search(h.agentId, 'declined', 0, 10).records;
    assert.ok(found.some((r) => r.kind === 'tool' && r.message.role === 'tool' && r.message.content.includes('not that server today')));
  } finally {
    await h.close();
  }
});

test('a tool of a server that crashed mid-turn fails that call, and the turn goes on', async () => {
  const h = await mcpHarness(() => ({ decision: 'accept' }));
  try {
    h.server.enqueue(toolCall('mcp__tools__crash', { request_heartbeat: true }, { id: 'c1' }));
    h.server.enqueue(toolCall('mcp__tools__echo', { text: 'anyone?', request_heartbeat: true }, { id: 'c2' }));
    h.server.enqueue(sendMessage('The tool server stopped; I will go on without it.'));
    const result = await h.agent.handle({ type: 'user_message', text: 'Try the tools.' });
    assert.equal(result.reason, 'done', result.error);
    const steps = stepRequests(h.server);
    const crash = toolResultIn(steps[1]!, 'c1')!;
    assert.equal(crash.status, 'Failed');
    assert.match(crash.message, /exited/);
    const echo = toolResultIn(steps[2]!, 'c2')!;
    assert.equal(echo.status, 'Failed');
    assert.match(echo.message, /not available|stopped|not running/);
    assert.deepEqual(result.messages, ['The tool server stopped; I will go on without it.']);
  } finally {
    await h.close();
  }
});

test('in an untrusted workspace no MCP function is offered and no server runs', async () => {
  const h = await mcpHarness(() => ({ decision: 'accept' }), { trusted: false });
  try {
    h.server.enqueue(sendMessage('Hello.'));
    await h.agent.handle({ type: 'user_message', text: 'Hi' });
    const offered = (stepRequests(h.server)[0]!.body.tools ?? []).map((t) => t.function.name);
    assert.ok(!offered.some((n) => n.startsWith('mcp__')), offered.join(', '));
    assert.equal(h.hub.servers()[0]!.state.kind, 'untrusted');
  } finally {
    await h.close();
  }
});
