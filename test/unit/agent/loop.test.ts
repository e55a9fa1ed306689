import { test } from 'node:test';
import assert from 'node:assert/strict';
import { content, reply, sendMessage, toolCall, toolCalls } from '../../fixtures/fakeOpenAIServer';
import { makeHarness, lastToolResults, stepRequests } from './agentHarness';
import { CORE_MEMORY_BLOCK_LIMIT_CHARS } from '../../../src/core/limits';

test('a user message streams send_message deltas and ends the turn', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(sendMessage('Hello there, how can I help?', { argumentChunkSize: 3 }));
    const result = await h.agent.handle({ type: 'user_message', text: 'hi' });
    assert.equal(result.reason, 'done');
    assert.deepEqual(result.messages, ['Hello there, how can I help?']);
    const deltas = h.events.filter((e) => e.type === 'message_delta').map((e) => (e as { delta: string }).delta);
    assert.ok(deltas.length > 3, 'the message arrives in several pieces');
    assert.equal(deltas.join(''), 'Hello there, how can I help?');
    const complete = h.events.find((e) => e.type === 'message_complete');
    assert.ok(complete && complete.type === 'message_complete' && complete.recallId, 'the complete message names its recall record');
    // The request had the system message first and the user message as MemGPT's JSON envelope.
    const req = h.server.chatRequests()[0]!;
    assert.equal(req.body.messages[0]!.role, 'system');
    const user = JSON.parse(req.body.messages[req.body.messages.length - 1]!.content as string);
    assert.equal(user.type, 'user_message');
    assert.equal(user.message, 'hi');
    assert.ok(user.time);
    // Persisted: user, assistant, tool.
    assert.equal(h.recall.count(h.agentId), 3);
    assert.equal(h.events[h.events.length - 1]!.type, 'turn_finished');
  } finally {
    await h.close();
  }
});

test('heartbeat chaining: request_heartbeat=true calls the model again with the result', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(
      toolCall('core_memory_append', { label: 'human', content: 'Name: Ada', request_heartbeat: true }),
      toolCall('conversation_search', { query: 'Ada', request_heartbeat: true }),
      sendMessage('Noted, Ada.'),
    );
    const result = await h.agent.handle({ type: 'user_message', text: 'My name is Ada' });
    assert.equal(result.reason, 'done');
    assert.equal(result.steps, 3);
    assert.match(h.agent.coreMemory.get('human'), /Name: Ada/);
    // The second request carries the first result; the system message shows the new core memory.
    const second = h.server.chatRequests()[1]!;
    assert.match(second.body.messages[0]!.content as string, /Name: Ada/);
    assert.equal(JSON.parse(second.body.messages[second.body.messages.length - 1]!.content as string).status, 'OK');
    assert.ok(h.events.some((e) => e.type === 'memory_changed' && e.what === 'core'));
  } finally {
    await h.close();
  }
});

test('without request_heartbeat the turn ends after the function (missing means false)', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(toolCall('core_memory_append', { label: 'human', content: 'likes tea' }));
    const result = await h.agent.handle({ type: 'user_message', text: 'I like tea' });
    assert.equal(result.steps, 1);
    assert.equal(h.server.chatRequests().length, 1);
  } finally {
    await h.close();
  }
});

test('the step limit stops a runaway chain with a notice', async () => {
  const h = await makeHarness({ settings: { stepLimit: 4 } });
  try {
    for (let i = 0; i < 10; i++) h.server.enqueue(toolCall('conversation_search', { query: `loop ${i}`, request_heartbeat: true }));
    const result = await h.agent.handle({ type: 'user_message', text: 'go' });
    assert.equal(result.reason, 'step_limit');
    assert.equal(result.steps, 4);
    assert.equal(h.server.chatRequests().length, 4);
    assert.ok(h.events.some((e) => e.type === 'system_event' && /step limit/.test(e.text)));
    assert.ok(h.events.some((e) => e.type === 'turn_finished' && e.reason === 'step_limit'));
  } finally {
    await h.close();
  }
});

test('a failed call heartbeats even without request_heartbeat, and the error reaches the model', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(toolCall('no_such_function', { x: 1 }), sendMessage('sorry'));
    await h.agent.handle({ type: 'user_message', text: 'hi' });
    assert.equal(h.server.chatRequests().length, 2);
    const [r] = lastToolResults(h.server);
    assert.equal(r!.status, 'Failed');
    assert.match(r!.message, /No function named "no_such_function"\. Available functions: send_message, .*archival_memory_search/);
    assert.ok(h.events.some((e) => e.type === 'function_call_finished' && e.status === 'Failed'));
  } finally {
    await h.close();
  }
});

test('every core-memory error reaches the model as a failed result, and nothing is applied', async () => {
  const h = await makeHarness();
  const before = h.agent.coreMemory.toJSON();
  const cases: { args: Record<string, unknown>; name: string; error: RegExp }[] = [
    {
      name: 'core_memory_append',
      args: { label: 'nope', content: 'x' },
      error: /No memory section named nope\. Valid sections: persona, human, project/,
    },
    {
      name: 'core_memory_append',
      args: { label: 'human', content: 'x'.repeat(CORE_MEMORY_BLOCK_LIMIT_CHARS + 1) },
      error: /Exceeds 2000 character limit/,
    },
    { name: 'core_memory_append', args: { label: 'human', content: '   ' }, error: /content is empty/ },
    { name: 'core_memory_replace', args: { label: 'human', old_content: '', new_content: 'y' }, error: /old_content is empty/ },
    {
      name: 'core_memory_replace',
      args: { label: 'human', old_content: 'not in there', new_content: 'y' },
      error: /Old content 'not in there' not found in memory block 'human'/,
    },
    {
      name: 'core_memory_replace',
      args: { label: 'persona', old_content: 'I', new_content: 'x'.repeat(3000) },
      error: /Exceeds 2000 character limit/,
    },
    { name: 'core_memory_append', args: { label: 'human' }, error: /missing required argument "content"/ },
    {
      name: 'core_memory_replace',
      args: { label: 'human', old_content: 'a', new_content: 'b', colour: 'red' },
      error: /unknown argument "colour"/,
    },
  ];
  try {
    for (const c of cases) {
      h.server.enqueue(toolCall(c.name, c.args), sendMessage('ok'));
      await h.agent.handle({ type: 'user_message', text: `try ${c.name}` });
      const req = stepRequests(h.server).at(-1)!;
      const last = JSON.parse(req.body.messages.at(-1)!.content as string);
      assert.equal(last.status, 'Failed', c.name);
      assert.match(last.message, c.error);
    }
    const after = h.agent.coreMemory.toJSON();
    assert.deepEqual(after.blocks, before.blocks, 'no failed edit changed core memory');
  } finally {
    await h.close();
  }
});

test('arguments: numbers as strings are coerced, wrong types and megabyte arguments fail', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(
      toolCalls(
        [
          { name: 'conversation_search', arguments: { query: 'x', page: '0', request_heartbeat: 'true' } },
          { name: 'conversation_search', arguments: { query: 'x', page: 'two' } },
          { name: 'conversation_search', arguments: { query: 'x', page: 1.5 } },
          { name: 'archival_memory_insert', arguments: { content: 'x'.repeat(200_000) } },
        ],
        { argumentChunkSize: 50_000 },
      ),
      sendMessage('done'),
    );
    await h.agent.handle({ type: 'user_message', text: 'q' });
    const results = lastToolResults(h.server);
    assert.equal(results.length, 4);
    assert.equal(results[0]!.status, 'OK');
    assert.equal(results[0]!.message, 'No results found.');
    assert.match(results[1]!.message, /"page" must be a whole number, got "two"/);
    assert.match(results[2]!.message, /"page" must be a whole number, got 1\.5/);
    assert.match(results[3]!.message, /too long \(\d+ characters, limit 100000\)/);
    assert.equal(h.archival.count('memory'), 0);
  } finally {
    await h.close();
  }
});

test('a content-only reply is private monologue; with the reply nudge on, the model is reminded once', async () => {
  const h = await makeHarness({ settings: { replyNudge: true } });
  try {
    h.server.enqueue(content('The user greets me. I should answer.'), sendMessage('Hi!'));
    const result = await h.agent.handle({ type: 'user_message', text: 'hello' });
    assert.deepEqual(result.messages, ['Hi!']);
    assert.ok(h.events.some((e) => e.type === 'monologue' && /greets me/.test(e.text)));
    const second = h.server.chatRequests()[1]!;
    assert.match(second.body.messages.at(-1)!.content as string, /did not call send_message/);
    // A second thought-only reply ends the turn (one reminder only).
    h.server.enqueue(content('thinking'), content('still thinking'));
    const again = await h.agent.handle({ type: 'user_message', text: 'hm' });
    assert.equal(again.reason, 'done');
    assert.equal(again.steps, 2);
  } finally {
    await h.close();
  }
});

test('pause_heartbeats ends the chain and timer events are not stepped while paused', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(toolCall('pause_heartbeats', { minutes: 10 }));
    const r = await h.agent.handle({ type: 'user_message', text: 'be quiet' });
    assert.equal(r.reason, 'paused');
    const calls = h.server.chatRequests().length;
    const t = await h.agent.handle({ type: 'timer', text: 'time passes' });
    assert.equal(t.reason, 'paused');
    assert.equal(h.server.chatRequests().length, calls, 'no model call while paused');
  } finally {
    await h.close();
  }
});

test('a model error ends the turn with an error event and leaves the queue valid', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue({
      kind: 'error',
      status: 401,
      message: 'Incorrect API key provided',
      code: 'invalid_api_key',
      type: 'invalid_request_error',
    });
    const r = await h.agent.handle({ type: 'user_message', text: 'hi' });
    assert.equal(r.reason, 'error');
    const err = h.events.find((e) => e.type === 'error');
    assert.ok(err && err.type === 'error');
    assert.equal(err.recoverable, false);
    h.server.enqueue(sendMessage('back'));
    const again = await h.agent.handle({ type: 'user_message', text: 'again' });
    assert.deepEqual(again.messages, ['back']);
  } finally {
    await h.close();
  }
});

test('several tool calls in one response all run and all get results', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(
      reply({
        content: 'Save both.',
        toolCalls: [
          { name: 'core_memory_append', arguments: { label: 'human', content: 'uses vim' } },
          { name: 'archival_memory_insert', arguments: { content: 'The build uses esbuild.', request_heartbeat: true } },
        ],
      }),
      sendMessage('Saved.'),
    );
    await h.agent.handle({ type: 'user_message', text: 'remember' });
    const results = lastToolResults(h.server);
    assert.deepEqual(
      results.map((r) => r.status),
      ['OK', 'OK'],
    );
    assert.equal(h.archival.count('memory'), 1);
  } finally {
    await h.close();
  }
});

test('a stream that breaks off mid-message keeps what the user saw in recall, marked partial, then reports the error', async () => {
  const h = await makeHarness();
  try {
    h.server.enqueue(
      sendMessage('The answer is in src/billing.ts and it is long enough to stream in many pieces.', {
        argumentChunkSize: 4,
        chunkDelayMs: 15,
        resetAfterChunks: 12,
      }),
    );
    const result = await h.agent.handle({ type: 'user_message', text: 'where?' });
    assert.equal(result.reason, 'error');
    const partial = h.events.find((e) => e.type === 'message_complete');
    assert.ok(partial && partial.type === 'message_complete' && partial.partial === true, 'the partial message is completed as partial');
    assert.ok(partial.text.length > 0 && 'The answer is in src/billing.ts'.startsWith(partial.text.slice(0, 10)));
    const stored = h.recall.page(h.agentId, undefined, 10);
    const tool = stored.find((r) => r.kind === 'tool');
    assert.ok(tool, 'the call has its result');
    assert.match(String(tool.message.content), /connection to the model broke/);
    assert.ok(h.events.some((e) => e.type === 'error'));
  } finally {
    await h.close();
  }
});
