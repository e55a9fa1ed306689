import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '../../../src/core/interfaces/chatModel';
import { ContextWindow, repairToolPairs, type QueueEntry } from '../../../src/core/agent/contextWindow';
import { functionSchemas } from '../../../src/core/functions/schemas';
import { createTokenCounter } from '../../../src/core/tokens/tokenCounter';

const words = (n: number, seed = 0) => Array.from({ length: n }, (_, k) => `w${(k * 7 + seed) % 199}x`).join(' ');
let nextId = 1;
const entry = (message: ChatMessage): QueueEntry => ({
  id: `r${nextId++}`,
  kind: message.role === 'tool' ? 'tool' : message.role === 'assistant' ? 'assistant' : 'user',
  message,
  time: '2024-01-01T00:00:00Z',
});
const user = (text: string) => entry({ role: 'user', content: text });
const call = (ids: string[]) =>
  entry({
    role: 'assistant',
    content: null,
    tool_calls: ids.map((id) => ({ id, type: 'function' as const, function: { name: 'conversation_search', arguments: '{"query":"x"}' } })),
  });
const result = (id: string, text: string) => entry({ role: 'tool', tool_call_id: id, content: text });

async function makeWindow(windowTokens = 8192): Promise<ContextWindow> {
  const counter = await createTokenCounter('gpt-4o-mini');
  const w = new ContextWindow({
    windowTokens,
    counter,
    tools: functionSchemas({ workspace: true, compact: false }),
    instructions: 'INSTRUCTIONS',
  });
  w.setSystem('INSTRUCTIONS', 'MEMORY BLOCK');
  return w;
}

test('the request is system, summary, then the queue, and usage parts add up to the whole', async () => {
  const w = await makeWindow();
  w.entries = [user('hello'), call(['a']), result('a', 'found')];
  w.summary = { text: 'We talked about tests.', recallIdsCovered: 7, updatedAt: '2024-01-01T00:00:00Z' };
  const msgs = w.messages(10);
  assert.equal(msgs[0]!.role, 'system');
  assert.equal(msgs[0]!.content, 'INSTRUCTIONS\nMEMORY BLOCK');
  assert.match(msgs[1]!.content as string, /prior messages \(7 of 10 total messages\) have been hidden[\s\S]*We talked about tests\./);
  assert.deepEqual(
    msgs.slice(2),
    w.entries.map((e) => e.message),
  );
  const u = w.usage({ totalMessages: 10, recallCount: 10, archivalCount: 3 });
  assert.ok(u.functionsTokens > 500, 'the tool schemas are counted');
  assert.ok(u.coreMemoryTokens > 0 && u.summaryTokens > 0 && u.messagesTokens > 0);
  const parts = u.systemTokens + u.coreMemoryTokens + u.functionsTokens + u.summaryTokens + u.messagesTokens;
  // The whole adds reply priming and the tools/system merge discount: within a few tokens of the parts.
  assert.ok(Math.abs(u.usedTokens - parts) <= 8, `${u.usedTokens} vs ${parts}`);
});

test('eviction never separates a tool call from its results, even when the token target falls inside the unit', async () => {
  const w = await makeWindow();
  // The first unit is huge: half the queue's tokens are reached after its first result.
  w.entries = [
    user('start'),
    call(['c1', 'c2', 'c3']),
    result('c1', words(400, 1)),
    result('c2', words(400, 2)),
    result('c3', words(400, 3)),
    user('next'),
    call(['c4']),
    result('c4', 'ok'),
    user('newest'),
  ];
  const n = w.planEviction(20, false);
  assert.equal(n, 5, 'evicts the user message and the whole three-result unit');
  const aggressive = w.planEviction(20, true);
  // The newest 3 messages: [user next?] no: the units [call c4 + result] and [user newest] hold 3 messages.
  assert.equal(aggressive, 6);
  for (const k of [n, aggressive]) {
    const rest = w.entries.slice(k);
    assert.notEqual(rest[0]!.message.role, 'tool', `after evicting ${k} the queue does not start with a result`);
  }
});

test('the kept newest messages grow to a whole unit when the boundary falls inside one', async () => {
  const w = await makeWindow();
  w.entries = [user(words(200)), user(words(200, 5)), call(['a', 'b', 'c']), result('a', '1'), result('b', '2'), result('c', '3')];
  // Keeping 3 messages would cut the 4-message unit: the whole unit is kept instead.
  assert.equal(w.planEviction(10, true), 2);
  w.entries = [call(['a', 'b', 'c', 'd']), result('a', '1'), result('b', '2'), result('c', '3'), result('d', '4')];
  assert.equal(w.planEviction(10, true), 0, 'a single unit cannot be split, so nothing is evicted');
});

test('evict installs the summary, re-arms the pressure alert and returns the evicted entries', async () => {
  const w = await makeWindow();
  w.entries = [user('a'), user('b'), user('c'), user('d')];
  w.pressureWarned = true;
  const gone = w.evict(2, { text: 'S', recallIdsCovered: 2, updatedAt: 'now' });
  assert.deepEqual(
    gone.map((e) => e.message.content),
    ['a', 'b'],
  );
  assert.equal(w.entries.length, 2);
  assert.equal(w.pressureWarned, false);
  assert.equal(w.summary?.text, 'S');
});

test('cutting the largest message keeps send_message arguments valid JSON and shrinks the request', async () => {
  // The full tool list (find_symbol and file_outline included) plus one cut message: at 2048 the cut message was cut again past its note.
  const w = await makeWindow(2304);
  const big = entry({
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'm', type: 'function', function: { name: 'send_message', arguments: JSON.stringify({ message: words(900) }) } }],
  });
  w.entries = [user('q'), big, result('m', '{"status":"OK"}')];
  const before = w.effectiveTokens(3);
  assert.ok(before > w.flushThreshold());
  for (let i = 0; i < 8 && w.effectiveTokens(3) > w.flushThreshold(); i++) assert.ok(w.cutLargest(3));
  assert.ok(w.effectiveTokens(3) <= w.flushThreshold(), 'fits after cutting');
  const args = JSON.parse(
    (w.entries[1]!.message as { tool_calls: { function: { arguments: string } }[] }).tool_calls[0]!.function.arguments,
  );
  assert.match(args.message, /cut to fit the context window \(\d+ chars\); full text in recall memory/);
  assert.ok(args.message.startsWith('w0x w7x'));
});

test('a restored queue with a missing or orphaned tool result is repaired', () => {
  const repaired = repairToolPairs([result('orphan', 'x'), user('q'), call(['a', 'b']), result('b', 'B'), user('after')], 'T');
  const roles = repaired.map((e) => (e.message.role === 'tool' ? `tool:${e.message.tool_call_id}` : e.message.role));
  assert.deepEqual(roles, ['user', 'assistant', 'tool:a', 'tool:b', 'user']);
  assert.match(repaired[2]!.message.content as string, /interrupted/);
  assert.equal(repaired[2]!.id, '', 'the synthetic result is not a recall record');
});

test('thresholds follow the usable budget (window minus reply reserve) and the configured fraction', async () => {
  const counter = await createTokenCounter('gpt-4o-mini');
  const w = new ContextWindow({ windowTokens: 8192, counter, tools: [], instructions: 'x', pressureFraction: 0.5 });
  assert.equal(w.budgetTokens, 8192 - 512);
  assert.equal(w.pressureThreshold(), Math.floor((8192 - 512) * 0.5));
  assert.throws(
    () => new ContextWindow({ windowTokens: 8192, counter, tools: [], instructions: 'x', pressureFraction: 1.5 }),
    /between 0 and 1/,
  );
  // A tokenizer that is not the model's own gets headroom.
  const llama = await createTokenCounter('llama3.1:8b');
  const lw = new ContextWindow({ windowTokens: 8192, counter: llama, tools: [], instructions: 'x' });
  assert.equal(llama.exact, false);
  assert.equal(lw.effective(1000), 1100);
});
