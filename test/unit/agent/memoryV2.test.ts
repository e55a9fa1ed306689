/**
 * Issue 14 (Memory v2), items 5–8, in the real loop: the real `openai` client against the
 * scripted server, real recall on disk (agentHarness.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { content, sendMessage, toolCall, toolCalls, type FakeResponder, type RecordedRequest } from '../../fixtures/fakeOpenAIServer';
import type { ChatMessage } from '../../../src/core/interfaces/chatModel';
import type { AgentInput } from '../../../src/core/agent/events';
import { deliverLogin, TimerHeartbeat, type WakeSink } from '../../../src/core/events/agentWakeups';
import { FakeTimers } from '../events/fakeTimers';
import { makeHarness, lastToolResults, stepRequests, summaryRequests, type Harness } from './agentHarness';

function messagesOf(req: RecordedRequest): ChatMessage[] {
  return (req.body as { messages: ChatMessage[] }).messages;
}

function hasTools(req: RecordedRequest): boolean {
  return ((req.body as { tools?: unknown[] }).tools?.length ?? 0) > 0;
}

/** About `words` * 2 tokens of varied text. */
function filler(i: number, words = 150): string {
  return Array.from({ length: words }, (_, k) => `w${(k * 7 + i * 13) % 211}x`).join(' ');
}

function bigFile(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `line ${i}: ${filler(i, 12)}`).join('\n');
}

// ─── Item 8: smaller defects ─────────────────────────────────────────────────

test('Retry (a manual heartbeat) runs a step while heartbeats are paused; an automatic one does not', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(toolCall('pause_heartbeats', { minutes: 30 }));
    assert.equal((await h.agent.handle({ type: 'user_message', text: 'quiet please' })).reason, 'paused');
    const before = h.server.chatRequests().length;
    assert.equal((await h.agent.handle({ type: 'heartbeat', reason: 'files changed' })).reason, 'paused');
    assert.equal(h.server.chatRequests().length, before, 'an automatic heartbeat waits for the pause to end');
    h.server.enqueue(sendMessage('Trying again.'));
    const r = await h.agent.handle({ type: 'manual_heartbeat', reason: 'The user asked to try again.' });
    assert.equal(r.reason, 'done');
    assert.equal(r.steps, 1);
    assert.deepEqual(r.messages, ['Trying again.']);
  } finally {
    await h.close();
  }
});

test('a core-memory overflow keeps MemGPT advice to move content to archival memory', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(
      toolCall('core_memory_append', { label: 'human', content: 'x'.repeat(2100), request_heartbeat: true }),
      sendMessage('ok'),
    );
    await h.agent.handle({ type: 'user_message', text: 'remember this' });
    const result = lastToolResults(h.server)[0]!;
    assert.equal(result.status, 'Failed');
    assert.match(result.message, /Exceeds 2000 character limit[\s\S]*moving lower priority content to archival memory/);
  } finally {
    await h.close();
  }
});

test('an over-long summary keeps its start, not its end', async () => {
  const responder: FakeResponder = (req) => {
    if (!hasTools(req)) return content(`FIRST-FACT-START ${filler(1, 600)} LAST-FACT-END`);
    return sendMessage('noted');
  };
  const h = await makeHarness({ server: { responder }, settings: { contextWindow: 2048 } });
  try {
    for (let i = 0; i < 30 && summaryRequests(h.server).length === 0; i++)
      await h.agent.handle({ type: 'user_message', text: `turn ${i}: ${filler(i, 60)}` });
    assert.ok(summaryRequests(h.server).length > 0, 'a flush happened');
    await h.agent.handle({ type: 'user_message', text: 'next' });
    const summary = messagesOf(stepRequests(h.server).at(-1)!)[1]!.content as string;
    assert.match(summary, /hidden from view/);
    assert.match(summary, /FIRST-FACT-START/);
    assert.doesNotMatch(summary, /LAST-FACT-END/);
  } finally {
    await h.close();
  }
});

test('the step limit is checked before memory management: a stopped turn makes no summary request', async () => {
  const h = await makeHarness({ settings: { contextWindow: 2048, stepLimit: 1 }, files: { 'big.txt': bigFile(400) } });
  try {
    h.server.enqueue(
      toolCalls([
        { name: 'read_file', arguments: { path: 'big.txt', request_heartbeat: true } },
        { name: 'read_file', arguments: { path: 'big.txt', start_line: 100, request_heartbeat: true } },
        { name: 'read_file', arguments: { path: 'big.txt', start_line: 200, request_heartbeat: true } },
      ]),
    );
    const r = await h.agent.handle({ type: 'user_message', text: 'read it all' });
    assert.equal(r.reason, 'step_limit');
    assert.equal(summaryRequests(h.server).length, 0, 'no summary request after the last step');
    const kinds = h.events.filter((e) => e.type === 'system_event').map((e) => (e.type === 'system_event' ? e.kind : ''));
    assert.ok(
      !kinds.includes('memory_pressure') && !kinds.includes('summary'),
      `no memory management after the limit: ${kinds.join(', ')}`,
    );
  } finally {
    await h.close();
  }
});

// ─── Item 6: context safety ──────────────────────────────────────────────────

test('a 2048-token window: the question and the newest result survive a mid-turn flush, and an evicted fact is recalled', async () => {
  const FACT = 'PostgreSQL-FACT-4711';
  const QUESTION = 'QUESTION-42: which database do we use?';
  let questionTurn = false;
  const seenInTurn: { question: boolean; newestResult: boolean }[] = [];
  const responder: FakeResponder = (req) => {
    const msgs = messagesOf(req);
    if (!hasTools(req)) return content(`Summary: we chatted about filler words ${filler(3, 20)}.`);
    // The memory-pressure alert may follow the newest result: the model reads past it.
    const last = msgs.filter((m) => !(m.role === 'user' && (m.content ?? '').startsWith('{"type":"system_alert"'))).at(-1)!;
    if (!questionTurn) return sendMessage('noted');
    const question = msgs.some((m) => m.role === 'user' && (m.content ?? '').includes('QUESTION-42'));
    seenInTurn.push({
      question,
      newestResult: last.role === 'tool' || (last.role === 'user' && (last.content ?? '').includes('QUESTION-42')),
    });
    if (last.role === 'user' && (last.content ?? '').includes('QUESTION-42'))
      return toolCall('read_file', { path: 'notes.txt', request_heartbeat: true });
    if (last.role === 'tool' && (last.content ?? '').includes('notes.txt'))
      return toolCall('conversation_search', { query: FACT, request_heartbeat: true });
    if (last.role === 'tool' && (last.content ?? '').includes(FACT) && question) return sendMessage(`We use ${FACT}.`);
    return sendMessage('ok');
  };
  const h = await makeHarness({ server: { responder }, settings: { contextWindow: 2048 }, files: { 'notes.txt': bigFile(300) } });
  try {
    await h.agent.handle({ type: 'user_message', text: `Remember: our database is ${FACT}.` });
    for (let i = 0; i < 40 && summaryRequests(h.server).length < 2; i++)
      await h.agent.handle({ type: 'user_message', text: `turn ${i}: ${filler(i, 50)}` });
    await h.agent.handle({ type: 'user_message', text: `a long aside: ${filler(99, 120)}` });
    const inContext = h.agent.contextMessages().some((m) => (m.content ?? '').includes(FACT));
    assert.ok(!inContext, 'the fact was evicted before the question');
    questionTurn = true;
    const flushesBefore = summaryRequests(h.server).length;
    const r = await h.agent.handle({ type: 'user_message', text: QUESTION });
    assert.equal(r.reason, 'done', r.error ?? '');
    assert.ok(summaryRequests(h.server).length > flushesBefore, 'a flush happened in the middle of the turn');
    assert.ok(seenInTurn.length >= 3, `three steps (${seenInTurn.length})`);
    seenInTurn.forEach((s, i) => {
      assert.ok(s.question, `step ${i} of the turn still shows the question`);
      assert.ok(s.newestResult, `step ${i} ends with the newest result`);
    });
    assert.deepEqual(r.messages, [`We use ${FACT}.`]);
  } finally {
    await h.close();
  }
});

test('150 tool calls in one response do not wedge the agent: the next turn runs normally', async () => {
  const calls = Array.from({ length: 150 }, (_, i) => ({
    name: 'conversation_search',
    arguments: { query: `needle${i}`, request_heartbeat: true },
  }));
  const h = await makeHarness();
  try {
    h.server.enqueue(toolCalls(calls), sendMessage('Searched.'));
    const first = await h.agent.handle({ type: 'user_message', text: 'search everything' });
    assert.notEqual(first.reason, 'error', first.error ?? '');
    h.server.enqueue(sendMessage('Hello again.'));
    const before = h.server.chatRequests().length;
    const next = await h.agent.handle({ type: 'user_message', text: 'hello' });
    assert.equal(next.reason, 'done', next.error ?? '');
    assert.deepEqual(next.messages, ['Hello again.']);
    assert.ok(h.server.chatRequests().length > before, 'a request was sent');
    const after = await h.restart();
    h.server.enqueue(sendMessage('Still here.'));
    assert.equal((await after.handle({ type: 'user_message', text: 'and after a restart?' })).reason, 'done');
  } finally {
    await h.close();
  }
});

// ─── Item 7: cache-friendly prompts ──────────────────────────────────────────

test('the system and summary messages stay byte-identical between steps until memory changes', async () => {
  let phase: 'fill' | 'search' | 'edit' = 'fill';
  let n = 0;
  const responder: FakeResponder = (req) => {
    if (!hasTools(req)) return content('Summary: the user sent filler words.');
    const last = messagesOf(req).at(-1)!;
    if (phase === 'fill') return sendMessage('noted');
    if (phase === 'edit')
      return last.role === 'tool'
        ? sendMessage('saved')
        : toolCall('core_memory_append', { label: 'human', content: 'Likes tea.', request_heartbeat: true });
    return ++n < 6 ? toolCall('conversation_search', { query: `nothing${n}here`, request_heartbeat: true }) : sendMessage('found');
  };
  const h = await makeHarness({ server: { responder }, settings: { contextWindow: 4096 } });
  try {
    for (let i = 0; i < 40 && summaryRequests(h.server).length === 0; i++)
      await h.agent.handle({ type: 'user_message', text: `turn ${i}: ${filler(i, 80)}` });
    assert.ok(summaryRequests(h.server).length > 0, 'a summary exists');
    phase = 'search';
    const from = stepRequests(h.server).length;
    await h.agent.handle({ type: 'user_message', text: 'look around' });
    const steps = stepRequests(h.server).slice(from);
    assert.equal(steps.length, 6);
    const all = h.server.chatRequests();
    const flushesDuring = all.slice(all.indexOf(steps[0]!)).filter((r) => !hasTools(r)).length;
    assert.equal(flushesDuring, 0, 'no flush during the measured turn');
    for (const [i, req] of steps.entries()) {
      assert.equal(messagesOf(req)[0]!.content, messagesOf(steps[0]!)[0]!.content, `step ${i}: the system message is unchanged`);
      assert.equal(messagesOf(req)[1]!.content, messagesOf(steps[0]!)[1]!.content, `step ${i}: the summary message is unchanged`);
    }
    phase = 'edit';
    const before = stepRequests(h.server).length;
    await h.agent.handle({ type: 'user_message', text: 'I like tea' });
    const edit = stepRequests(h.server).slice(before);
    assert.equal(edit.length, 2);
    assert.notEqual(messagesOf(edit[1]!)[0]!.content, messagesOf(edit[0]!)[0]!.content, 'a core-memory edit changes the system message');
    assert.match(messagesOf(edit[1]!)[0]!.content as string, /Likes tea\./);
  } finally {
    await h.close();
  }
});

// ─── Item 5: recall hygiene ──────────────────────────────────────────────────

test('conversation_search ranks the original message first: not the current question, summaries or tool outputs (unless asked), repeats collapsed', async () => {
  const WORD = 'KUBERNETES-ZETA';
  let search: Record<string, unknown> | null = null;
  const responder: FakeResponder = (req) => {
    const msgs = messagesOf(req);
    if (!hasTools(req)) {
      const prompt = msgs.map((m) => m.content ?? '').join('\n');
      // A summariser that keeps the fact (and so repeats it in every later summary).
      return content(
        `Summary: filler chat.${prompt.includes(WORD) ? ` The deploy target is ${WORD} (mentioned earlier, summarised here).` : ''}`,
      );
    }
    const last = msgs.at(-1)!;
    if (last.role === 'user' && (last.content ?? '').includes('read the deploy notes'))
      return toolCall('read_file', { path: 'deploy.md', request_heartbeat: true });
    if (search && last.role === 'user') return toolCall('conversation_search', search);
    return sendMessage('noted');
  };
  const h = await makeHarness({
    server: { responder },
    settings: { contextWindow: 4096 },
    files: { 'deploy.md': `Deploy notes: we ship to ${WORD} every Friday.\n` },
  });
  try {
    await h.agent.handle({ type: 'user_message', text: `Our deploy target is ${WORD}.` });
    await h.agent.handle({ type: 'user_message', text: `Our deploy target is ${WORD}.` });
    await h.agent.handle({ type: 'user_message', text: 'read the deploy notes' });
    for (let i = 0; i < 60 && summaryRequests(h.server).length < 2; i++)
      await h.agent.handle({ type: 'user_message', text: `turn ${i}: ${filler(i, 80)}` });
    assert.ok(summaryRequests(h.server).length >= 2, 'two flushes: the fact is in recall and in summaries');

    search = { query: WORD, request_heartbeat: true };
    await h.agent.handle({ type: 'user_message', text: `Where do we deploy? Was it ${WORD}?` });
    const plain = lastToolResults(h.server)[0]!;
    assert.equal(plain.status, 'OK');
    const items = plain.message.split('\n').filter((l) => l.startsWith('- '));
    assert.match(items[0] ?? '', new RegExp(`user: Our deploy target is ${WORD}\\. \\(said 2 times; the latest shown\\)`), plain.message);
    assert.doesNotMatch(plain.message, /Where do we deploy/, 'the question being asked is in context, not a result');
    assert.doesNotMatch(plain.message, /summary:|function result:|Deploy notes/, 'summaries and tool outputs are left out by default');
    assert.match(plain.message, /^Showing 1 of 1 results/);

    search = { query: WORD, include: ['summaries', 'tool_results'], request_heartbeat: true };
    await h.agent.handle({ type: 'user_message', text: 'and with everything?' });
    const all = lastToolResults(h.server)[0]!;
    const allItems = all.message.split('\n').filter((l) => l.startsWith('- '));
    assert.match(allItems[0] ?? '', /user: Our deploy target is/, 'the original ranks above summaries and tool outputs');
    assert.match(all.message, /summary: /);
    assert.match(all.message, /function result: [^\n]*deploy.md[\s\S]*Deploy notes/);
  } finally {
    await h.close();
  }
});

// ─── Item 8: login and the timed heartbeat ───────────────────────────────────

/** The agent as the runtime offers it to wake-ups, with a busy flag the test sets and every turn kept. */
function wakeSink(h: Harness, busy: () => boolean): WakeSink & { lastLogin(): Promise<string | null>; turns: Promise<unknown>[] } {
  const turns: Promise<unknown>[] = [];
  return {
    turns,
    isBusy: busy,
    handle: (input: AgentInput) => {
      const t = h.agent.handle(input);
      turns.push(t);
      return t;
    },
    enqueue: (input: AgentInput) => h.agent.enqueue(input),
    lastLogin: async () => h.agent.snapshot().lastLogin,
  };
}

test('the login event runs a step when a window opens on an idle agent, and is queued when it is busy', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(sendMessage('Welcome back!'));
    let busy = false;
    const sink = wakeSink(h, () => busy);
    assert.equal(await deliverLogin(sink, true), 'ran');
    const req = stepRequests(h.server).at(-1)!;
    assert.match(messagesOf(req).at(-1)!.content as string, /"type":"login"/);
    assert.equal(stepRequests(h.server).length, 1);

    busy = true;
    assert.equal(await deliverLogin(sink, true), 'queued');
    assert.equal(await deliverLogin({ ...sink, isBusy: () => false }, false), 'queued', 'a window that cannot run the agent queues it');
    assert.equal(stepRequests(h.server).length, 1, 'no model call for a queued login');
    h.server.enqueue(sendMessage('hi'));
    await h.agent.handle({ type: 'user_message', text: 'hello' });
    const logins = messagesOf(stepRequests(h.server).at(-1)!).filter(
      (m) => m.role === 'user' && /"type":"login"/.test(m.content as string),
    );
    assert.equal(logins.length, 3, 'the queued logins are seen at the next step');
  } finally {
    await h.close();
  }
});

test('a timed heartbeat wakes an idle agent every N minutes when set, not while paused, not when off', async () => {
  const h = await makeHarness();
  const timers = new FakeTimers();
  try {
    let minutes = 0;
    const sink = wakeSink(h, () => false);
    const heartbeat = new TimerHeartbeat({ minutes: () => minutes, sink, timers });
    assert.equal(timers.pending, 0, 'off by default (0 minutes)');
    minutes = 15;
    heartbeat.reschedule();
    h.server.enqueue(toolCall('core_memory_append', { label: 'human', content: 'Works late.' }));
    await timers.advance(15 * 60_000);
    await Promise.all(sink.turns);
    assert.equal(stepRequests(h.server).length, 1, 'one wake-up after 15 minutes');
    assert.match(messagesOf(stepRequests(h.server)[0]!).at(-1)!.content as string, /"type":"timer"[\s\S]*Timed heartbeat/);

    h.server.enqueue(toolCall('pause_heartbeats', { minutes: 60 }));
    await h.agent.handle({ type: 'user_message', text: 'quiet for an hour' });
    const before = stepRequests(h.server).length;
    await timers.advance(15 * 60_000);
    await Promise.all(sink.turns);
    assert.equal(stepRequests(h.server).length, before, 'paused: the timer event is queued without a model call');
    heartbeat.dispose();
    assert.equal(timers.pending, 0);
  } finally {
    await h.close();
  }
});

test('when even the instructions, core memory and this turn cannot fit, the error names the context window needed, and that window works', async () => {
  const h = await makeHarness({ settings: { contextWindow: 2048, coreMemoryLimits: { block: 20_000 } } });
  try {
    await h.agent.editCoreMemory('human', `Notes about the user: ${filler(5, 700)}`);
    const r = await h.agent.handle({ type: 'user_message', text: 'hello' });
    assert.equal(r.reason, 'error');
    const m = /needs a context window of at least (\d+) tokens/.exec(r.error ?? '');
    assert.ok(m, r.error);
    assert.equal(h.server.chatRequests().length, 0, 'no request that cannot fit is sent');
    const needed = Number(m[1]);
    assert.ok(needed > 2048 && needed % 256 === 0, `${needed}`);
    const agent = await h.restart({ contextWindow: needed });
    h.server.enqueue(sendMessage('Hello!'));
    const ok = await agent.handle({ type: 'user_message', text: 'hello again' });
    assert.equal(ok.reason, 'done', ok.error ?? '');
  } finally {
    await h.close();
  }
});
