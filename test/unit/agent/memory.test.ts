import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contextLengthError,
  content,
  sendMessage,
  toolCall,
  type FakeResponder,
  type FakeStep,
  type RecordedRequest,
} from '../../fixtures/fakeOpenAIServer';
import type { ChatMessage } from '../../../src/core/interfaces/chatModel';
import { createTokenCounter } from '../../../src/core/tokens/tokenCounter';
import { REPLY_RESERVE_TOKENS } from '../../../src/core/limits';
import { makeHarness, lastToolResults, stepRequests, summaryRequests } from './agentHarness';

/** About `words` * 2 tokens of varied text (so the tokenizer sees ordinary words). */
function filler(i: number, words = 150): string {
  return Array.from({ length: words }, (_, k) => `w${(k * 7 + i * 13) % 211}x`).join(' ');
}

function messagesOf(req: RecordedRequest): ChatMessage[] {
  return (req.body as { messages: ChatMessage[] }).messages;
}

function hasTools(req: RecordedRequest): boolean {
  return ((req.body as { tools?: unknown[] }).tools?.length ?? 0) > 0;
}

/** Summaries are numbered; each one says which summary it saw before (to check recursion). */
function summarisingResponder(
  step: (req: RecordedRequest, n: number) => FakeStep,
): FakeResponder & { summaries: string[]; sawPrevious: boolean[] } {
  const summaries: string[] = [];
  const sawPrevious: boolean[] = [];
  let steps = 0;
  const r = ((req: RecordedRequest) => {
    if (!hasTools(req)) {
      const prompt = messagesOf(req)
        .map((m) => m.content ?? '')
        .join('\n');
      const prev = summaries.at(-1);
      sawPrevious.push(prev === undefined ? true : prompt.includes(prev));
      const text = `SUMMARY-${summaries.length + 1} (after ${prev ?? 'nothing'})`;
      summaries.push(text);
      return content(text);
    }
    return step(req, steps++);
  }) as FakeResponder & { summaries: string[]; sawPrevious: boolean[] };
  r.summaries = summaries;
  r.sawPrevious = sawPrevious;
  return r;
}

/** Every assistant tool call is directly followed by its results; no result without its call. */
function assertToolPairsIntact(messages: ChatMessage[], label: string): void {
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m.role === 'assistant' && m.tool_calls?.length) {
      const ids = m.tool_calls.map((c) => c.id);
      const following = messages.slice(i + 1, i + 1 + ids.length);
      assert.deepEqual(
        following.map((f) => (f.role === 'tool' ? f.tool_call_id : `not a tool message: ${f.role}`)),
        ids,
        `${label}: results follow call at ${i}`,
      );
    }
    if (m.role === 'tool') {
      const prev = messages
        .slice(0, i)
        .reverse()
        .find((x) => x.role !== 'tool');
      assert.ok(
        prev && prev.role === 'assistant' && prev.tool_calls?.some((c) => c.id === m.tool_call_id),
        `${label}: tool result ${i} has its call`,
      );
    }
  }
}

test('the memory-pressure alert fires once at the threshold and is re-armed by a flush', async () => {
  const responder = summarisingResponder(() => sendMessage('ok'));
  const h = await makeHarness({ server: { responder } });
  try {
    const usageAtAlert: number[] = [];
    let alerts = 0;
    let flushes = 0;
    const order: string[] = [];
    h.agent.onEvent((e) => {
      if (e.type === 'system_event' && e.kind === 'memory_pressure') {
        alerts++;
        order.push('alert');
        usageAtAlert.push(h.agent.usage().usedTokens);
      }
      if (e.type === 'system_event' && e.kind === 'summary') {
        flushes++;
        order.push('flush');
      }
    });
    for (let i = 0; i < 30 && flushes < 2; i++) await h.agent.handle({ type: 'user_message', text: filler(i) });
    assert.ok(flushes >= 2, 'the queue was flushed at least twice');
    // Exactly one alert before each flush (it is re-armed only by a flush).
    const firstFlush = order.indexOf('flush');
    assert.equal(order.slice(0, firstFlush).filter((x) => x === 'alert').length, 1);
    assert.ok(alerts >= 2, 're-armed after the flush');
    assert.ok(alerts <= flushes + 1);
    // The alert was sent when usage was past the threshold, and the model saw it.
    const budget = 8192 - REPLY_RESERVE_TOKENS;
    assert.ok(usageAtAlert[0]! > budget * 0.75 * 0.9, `alert at ${usageAtAlert[0]} tokens`);
    const sawAlert = stepRequests(h.server).some((r) =>
      messagesOf(r).some((m) => m.role === 'user' && /conversation history will soon reach its maximum length/.test(m.content)),
    );
    assert.ok(sawAlert);
  } finally {
    await h.close();
  }
});

test('flushes keep tool pairs together, summaries are recursive, and an evicted fact is found by conversation_search', async () => {
  let searchNow = false;
  const responder = summarisingResponder((req, n) => {
    const last = messagesOf(req).at(-1)!;
    if (searchNow && last.role === 'user')
      return toolCall('conversation_search', { query: 'PostgreSQL-FACT-4711', request_heartbeat: true });
    if (last.role === 'tool') return sendMessage(`done ${n}`);
    // Most turns search (heartbeat) then answer, so the queue is full of tool pairs.
    return toolCall('conversation_search', { query: `w${n % 50}x`, request_heartbeat: true });
  });
  const h = await makeHarness({ server: { responder } });
  try {
    await h.agent.handle({ type: 'user_message', text: 'Remember: our database is PostgreSQL-FACT-4711.' });
    for (let i = 0; i < 40 && responder.summaries.length < 3; i++) await h.agent.handle({ type: 'user_message', text: filler(i, 120) });
    assert.ok(responder.summaries.length >= 3, `three flushes (got ${responder.summaries.length})`);
    assert.ok(responder.sawPrevious.every(Boolean), 'every summary request contained the previous summary');
    for (const [i, req] of stepRequests(h.server).entries()) assertToolPairsIntact(messagesOf(req), `request ${i}`);
    // After a flush the summary message sits right after the system message.
    const last = stepRequests(h.server).at(-1)!;
    assert.match(messagesOf(last)[1]!.content as string, /hidden from view due to conversation memory constraints[\s\S]*SUMMARY-/);
    // The fact left the context...
    assert.ok(!messagesOf(last).some((m) => (m.content ?? '').includes('PostgreSQL-FACT-4711')), 'the fact was evicted');
    const snapshot = h.agent.snapshot();
    assert.ok(snapshot.counters.flushes >= 3);
    assert.ok((snapshot.summary?.recallIdsCovered ?? 0) > 0);
    // ...and conversation_search finds it in recall.
    searchNow = true;
    await h.agent.handle({ type: 'user_message', text: 'What database do we use?' });
    const results = lastToolResults(h.server);
    assert.equal(results[0]!.status, 'OK');
    assert.match(results[0]!.message, /Showing 1 of 1 results \(page 0\/0\):[\s\S]*PostgreSQL-FACT-4711/);
  } finally {
    await h.close();
  }
});

test('conversation_search pages: header, next page, page out of range', async () => {
  const h = await makeHarness();
  try {
    for (let i = 0; i < 12; i++) h.server.enqueue(sendMessage(`noted ${i}`));
    for (let i = 0; i < 12; i++) await h.agent.handle({ type: 'user_message', text: `zebra number ${i}` });
    // conversation_search leaves out what is in the context window: start from an empty queue (recall keeps all).
    await h.agent.idle();
    await h.states.save({ ...h.agent.snapshot(), inContextIds: [] });
    await h.restart();
    h.server.enqueue(
      toolCall('conversation_search', { query: 'zebra', page: 0, request_heartbeat: true }),
      toolCall('conversation_search', { query: 'zebra', page: 2, request_heartbeat: true }),
      toolCall('conversation_search', { query: 'zebra', page: 9, request_heartbeat: true }),
      sendMessage('ok'),
    );
    await h.agent.handle({ type: 'user_message', text: 'search' });
    const reqs = stepRequests(h.server);
    const resultOf = (r: RecordedRequest) => JSON.parse(messagesOf(r).at(-1)!.content as string) as { status: string; message: string };
    const p0 = resultOf(reqs.at(-3)!);
    const p2 = resultOf(reqs.at(-2)!);
    const p9 = resultOf(reqs.at(-1)!);
    // 12 user messages, plus the query message itself ("search" does not match).
    assert.match(p0.message, /^Showing 5 of 12 results \(page 0\/2\):/);
    assert.equal(p0.message.split('\n').filter((l) => l.startsWith('- ')).length, 5);
    assert.match(p0.message, /zebra number 11/, 'equally relevant: newest first');
    assert.match(p2.message, /^Showing 2 of 12 results \(page 2\/2\):/);
    assert.equal(p9.status, 'Failed');
    assert.match(p9.message, /Page 9 does not exist: there are 12 results on 3 page\(s\), numbered 0 to 2/);
  } finally {
    await h.close();
  }
});

test('a context-length error flushes and retries once; a second one ends the turn without looping', async () => {
  let overflowing = false;
  const responder = summarisingResponder(() => (overflowing ? contextLengthError('openai') : sendMessage('fine')));
  const h = await makeHarness({ server: { responder } });
  try {
    for (let i = 0; i < 6; i++) await h.agent.handle({ type: 'user_message', text: `message ${i}: ${filler(i, 40)}` });
    const before = stepRequests(h.server).length;
    h.server.enqueue(contextLengthError('vllm'));
    const r = await h.agent.handle({ type: 'user_message', text: 'one more' });
    assert.equal(r.reason, 'done');
    assert.deepEqual(r.messages, ['fine']);
    const reqs = stepRequests(h.server).slice(before);
    assert.equal(reqs.length, 2, 'the failed request and one retry');
    assert.ok(messagesOf(reqs[1]!).length < messagesOf(reqs[0]!).length, 'the retry is shorter');
    assert.equal(summaryRequests(h.server).length, 1, 'one summary was written');
    // The server keeps refusing: one flush and one retry only, then an error.
    const count = h.server.chatRequests().length;
    const stepsBefore = stepRequests(h.server).length;
    overflowing = true;
    const r2 = await h.agent.handle({ type: 'user_message', text: 'and another' });
    assert.equal(r2.reason, 'error');
    assert.match(r2.error ?? '', /maximum context length/i);
    assert.equal(stepRequests(h.server).length - stepsBefore, 2, 'the request and one retry');
    assert.ok(h.server.chatRequests().length - count <= 3, 'bounded: two step calls and at most one summary');
  } finally {
    await h.close();
  }
});

test('cancel mid-stream keeps the partial message and leaves the queue consistent', async () => {
  const h = await makeHarness();
  try {
    const text = 'This is a long answer that streams slowly so the user can press Stop before it ends. '.repeat(4);
    h.server.enqueue(sendMessage(text, { chunkDelayMs: 15, argumentChunkSize: 4 }));
    const controller = new AbortController();
    const off = h.agent.onEvent((e) => {
      if (e.type === 'message_delta' && h.events.filter((x) => x.type === 'message_delta').length >= 5) controller.abort();
    });
    const r = await h.agent.handle({ type: 'user_message', text: 'explain' }, { signal: controller.signal });
    off();
    assert.equal(r.reason, 'cancelled');
    assert.equal(r.messages.length, 1);
    const partial = r.messages[0]!;
    assert.ok(partial.length > 0 && partial.length < text.length, `partial (${partial.length} of ${text.length})`);
    assert.ok(text.startsWith(partial));
    const complete = h.events.find((e) => e.type === 'message_complete');
    assert.ok(complete && complete.type === 'message_complete' && complete.partial === true);
    // Recall holds the partial call and a result that says what happened.
    const records = h.recall.records(h.agentId);
    const tool = records.at(-1)!.message;
    assert.equal(tool.role, 'tool');
    assert.match(tool.content, /Cancelled by the user while this message was being written/);
    // The next request is valid: the cut-off call has its result.
    h.server.enqueue(sendMessage('ok'));
    await h.agent.handle({ type: 'user_message', text: 'go on' });
    const next = stepRequests(h.server).at(-1)!;
    assertToolPairsIntact(messagesOf(next), 'after cancel');
    assert.ok(messagesOf(next).some((m) => m.role === 'assistant' && m.tool_calls?.[0]?.function.arguments.includes(partial.slice(0, 20))));
  } finally {
    await h.close();
  }
});

test('restart restores queue, summary, core memory, counters and the pressure flag', async () => {
  const responder = summarisingResponder((req) => {
    const last = messagesOf(req).at(-1)!;
    if (last.role === 'user' && /remember/.test(last.content))
      return toolCall('core_memory_append', { label: 'project', content: 'Tests use node:test.', request_heartbeat: true });
    return sendMessage('ok');
  });
  const h = await makeHarness({ server: { responder } });
  try {
    await h.agent.handle({ type: 'user_message', text: 'please remember how tests run' });
    for (let i = 0; i < 30 && responder.summaries.length < 1; i++) await h.agent.handle({ type: 'user_message', text: filler(i) });
    await h.agent.enqueue({ type: 'file_saved', path: 'src/app.ts' });
    const before = h.agent.snapshot();
    const contextBefore = h.agent.contextMessages();
    assert.ok(before.summary, 'a summary exists');
    assert.ok(before.inContextIds.length > 0);

    const agent = await h.restart();
    const after = agent.snapshot();
    assert.deepEqual(after.inContextIds, before.inContextIds);
    assert.deepEqual(after.summary, before.summary);
    assert.deepEqual(after.coreMemory, before.coreMemory);
    assert.deepEqual(after.counters, before.counters);
    assert.equal(after.pressureWarned, before.pressureWarned);
    assert.match(agent.coreMemory.get('project'), /Tests use node:test/);
    assert.deepEqual(agent.contextMessages(), contextBefore, 'the next request is the same as before the restart');
    // The queued file event is seen at the next step.
    await agent.handle({ type: 'user_message', text: 'hi again' });
    const last = stepRequests(h.server).at(-1)!;
    assert.ok(messagesOf(last).some((m) => m.role === 'user' && /"type":"file_saved"/.test(m.content)));
  } finally {
    await h.close();
  }
});

test('a 2048-token window: 50 turns with tool chains and summaries never overflow or loop', async () => {
  const counter = await createTokenCounter('gpt-4o-mini');
  let steps = 0;
  const responder: FakeResponder = (req) => {
    if (!hasTools(req)) {
      // A long-winded summariser: the agent must cut it to size.
      return content(`Summary: ${filler(steps, 300)}`);
    }
    const last = messagesOf(req).at(-1)!;
    steps++;
    if (last.role === 'user' && steps % 3 === 0) return toolCall('conversation_search', { query: 'w1x', request_heartbeat: true });
    if (last.role === 'user' && steps % 5 === 0)
      return toolCall('archival_memory_insert', { content: filler(steps, 60), request_heartbeat: true });
    return sendMessage(`answer ${steps}: ${filler(steps, 40)}`);
  };
  const h = await makeHarness({ server: { responder }, settings: { contextWindow: 2048 } });
  try {
    for (let i = 0; i < 50; i++) {
      const text = i === 25 ? `a pasted log: ${filler(i, 900)}` : `turn ${i}: ${filler(i, 30 + (i % 4) * 20)}`;
      const r = await h.agent.handle({ type: 'user_message', text });
      assert.equal(r.reason, 'done', `turn ${i}: ${r.error ?? ''}`);
      assert.ok(r.steps <= 3, `turn ${i} took ${r.steps} steps`);
    }
    const budget = 2048 - REPLY_RESERVE_TOKENS;
    for (const [i, req] of stepRequests(h.server).entries()) {
      const tokens = counter.countRequest(messagesOf(req), req.body.tools ?? []);
      assert.ok(tokens <= budget, `step request ${i} has ${tokens} tokens (budget ${budget})`);
      assertToolPairsIntact(messagesOf(req), `request ${i}`);
    }
    for (const [i, req] of summaryRequests(h.server).entries()) {
      const tokens = counter.countMessages(messagesOf(req));
      assert.ok(tokens <= 2048, `summary request ${i} has ${tokens} tokens`);
    }
    assert.ok(summaryRequests(h.server).length >= 5, 'many flushes happened');
    assert.ok(h.server.chatRequests().length < 50 * 4, `bounded number of model calls (${h.server.chatRequests().length})`);
  } finally {
    await h.close();
  }
});
