import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { content, sendMessage, toolCall, toolCalls, type FakeResponder, type RecordedRequest } from '../../fixtures/fakeOpenAIServer';
import { makeRig, conversationProblems } from '../../fixtures/reliability/agentRig';
import type { ChatMessage } from '../../../src/core/interfaces/chatModel';
import { RECALL_LOG_FILE } from '../../../src/core/memory/recallStore';
import { CORE_MEMORY_BLOCK_LIMIT_CHARS, DEFAULT_HEARTBEAT_STEP_LIMIT, FUNCTION_ARGUMENTS_MAX_CHARS } from '../../../src/core/limits';

/*
 * A model that misbehaves at scale, through the real loop: endless chains,
 * megabyte arguments, edits that must not apply. (Single cases of each are in
 * test/unit/agent/loop.test.ts; these go further and check what is persisted.)
 */

function isSummary(req: RecordedRequest): boolean {
  return ((req.body as { tools?: unknown[] }).tools?.length ?? 0) === 0;
}

function lastToolResult(req: RecordedRequest): { status: string; message: string } {
  const last = (req.body as { messages: ChatMessage[] }).messages.at(-1)!;
  assert.equal(last.role, 'tool');
  return JSON.parse(last.content as string) as { status: string; message: string };
}

test('an endless heartbeat chain (and an endless chain of failures) stops at the step limit on every turn, with nothing lost', async () => {
  let mode: 'heartbeat' | 'failing' = 'heartbeat';
  let n = 0;
  const responder: FakeResponder = (req) => {
    if (isSummary(req)) return content('Summary: a very long chain.');
    n++;
    return mode === 'heartbeat'
      ? toolCall('conversation_search', { query: `again ${n}`, request_heartbeat: true })
      : toolCall('no_such_function', `{"broken": ${n}`);
  };
  const rig = await makeRig({ server: { responder } });
  try {
    for (let turn = 0; turn < 6; turn++) {
      mode = turn % 2 === 0 ? 'heartbeat' : 'failing';
      const before = rig.server.chatRequests().filter((r) => !isSummary(r)).length;
      const r = await rig.agent.handle({ type: 'user_message', text: `turn ${turn}` });
      assert.equal(r.reason, 'step_limit', `turn ${turn} (${mode})`);
      assert.equal(r.steps, DEFAULT_HEARTBEAT_STEP_LIMIT);
      assert.equal(
        rig.server.chatRequests().filter((x) => !isSummary(x)).length - before,
        DEFAULT_HEARTBEAT_STEP_LIMIT,
        'no call beyond the limit',
      );
    }
    // A heartbeat event (timer) is bounded the same way.
    const t = await rig.agent.handle({ type: 'heartbeat', reason: 'timer' });
    assert.equal(t.reason, 'step_limit');
    assert.deepEqual(conversationProblems(rig.records()), []);
    const calls = rig.records().filter((r) => r.message.role === 'assistant').length;
    assert.equal(calls, 7 * DEFAULT_HEARTBEAT_STEP_LIMIT, 'every step of every chain is in recall');
    // The model comes to its senses: the next turn is normal.
    mode = 'heartbeat';
    rig.server.enqueue(sendMessage('sorry about that'));
    const ok = await rig.agent.handle({ type: 'user_message', text: 'stop' });
    assert.deepEqual(ok.messages, ['sorry about that']);
  } finally {
    await rig.close();
  }
});

test('megabyte arguments: refused with the size named, never stored, never resent, and nothing applied', async () => {
  const rig = await makeRig();
  try {
    const logFile = path.join(rig.storage.layout.recallDir, RECALL_LOG_FILE);
    const coreBefore = rig.agent.coreMemory.toJSON().blocks;
    const archivalBefore = rig.archival.count();
    const mb = 'M'.repeat(1_000_000);
    const sizeBefore = statSync(logFile).size;
    rig.server.enqueue(
      toolCalls(
        [
          { name: 'archival_memory_insert', arguments: { content: mb, request_heartbeat: true } },
          { name: 'core_memory_append', arguments: { label: 'human', content: mb } },
          { name: 'send_message', arguments: { message: mb } },
          // Broken JSON that is also huge: refused on size before any parsing work.
          { name: 'conversation_search', arguments: `{"query": "${mb}` },
        ],
        { argumentChunkSize: 65_536 },
      ),
      sendMessage('I will send less.'),
    );
    const r = await rig.agent.handle({ type: 'user_message', text: 'store this huge thing' });
    assert.equal(r.reason, 'done');
    assert.deepEqual(r.messages, ['I will send less.'], 'the refused send_message reached no one');
    const heartbeat = rig.server.chatRequests()[1]!;
    const results = (heartbeat.body.messages as ChatMessage[]).filter((m) => m.role === 'tool').slice(-4);
    assert.equal(results.length, 4);
    for (const m of results) {
      const parsed = JSON.parse(m.content as string) as { status: string; message: string };
      assert.equal(parsed.status, 'Failed');
      assert.match(parsed.message, new RegExp(`too long \\(\\d+ characters, limit ${FUNCTION_ARGUMENTS_MAX_CHARS}\\)\\. Send less`));
    }
    assert.ok(
      JSON.stringify(heartbeat.body).length < 60_000,
      `the follow-up request is small (${JSON.stringify(heartbeat.body).length} chars)`,
    );
    const grown = statSync(logFile).size - sizeBefore;
    assert.ok(grown < 50_000, `recall grew by ${grown} bytes, not megabytes`);
    assert.deepEqual(rig.agent.coreMemory.toJSON().blocks, coreBefore);
    assert.equal(rig.archival.count(), archivalBefore);
    assert.deepEqual(conversationProblems(rig.records()), []);
  } finally {
    await rig.close();
  }
});

test('core-memory edits at the edges: empty or missing old_content, one char over, exactly at the limit; only good edits persist across a restart', async () => {
  const rig = await makeRig();
  try {
    const human = () => rig.agent.coreMemory.get('human');
    const start = human();
    const room = CORE_MEMORY_BLOCK_LIMIT_CHARS - [...start].length - 1; // the appended line's newline counts
    const step = async (name: string, args: Record<string, unknown> | string) => {
      // Heartbeat on, so the follow-up request (carrying the result) always comes.
      const sent = typeof args === 'string' ? args : { ...args, request_heartbeat: true };
      rig.server.enqueue(toolCall(name, sent), sendMessage('ok'));
      await rig.agent.handle({ type: 'user_message', text: `edit with ${name}` });
      return lastToolResult(rig.server.chatRequests().at(-1)!);
    };
    const cases: { name: string; args: Record<string, unknown> | string; status: 'OK' | 'Failed'; text?: RegExp }[] = [
      {
        name: 'core_memory_replace',
        args: { label: 'human', old_content: '', new_content: 'x' },
        status: 'Failed',
        text: /old_content is empty/,
      },
      {
        name: 'core_memory_replace',
        args: { label: 'human', new_content: 'x' },
        status: 'Failed',
        text: /missing required argument "old_content"/,
      },
      {
        name: 'core_memory_replace',
        args: { label: 'human', old_content: null, new_content: 'x' },
        status: 'Failed',
        text: /missing required argument "old_content"/,
      },
      {
        name: 'core_memory_replace',
        args: '{"label": "human", "old_content": "", "new_content": "x"',
        status: 'Failed',
        text: /old_content is empty/,
      },
      {
        name: 'core_memory_append',
        args: { label: 'human', content: '🙂'.repeat(room + 1) },
        status: 'Failed',
        text: /Exceeds 2000 character limit \(requested 2001\)/,
      },
      { name: 'core_memory_append', args: { label: 'human', content: '🙂'.repeat(room) }, status: 'OK' },
      { name: 'core_memory_append', args: { label: 'human', content: 'x' }, status: 'Failed', text: /Exceeds 2000 character limit/ },
      // Replacing every occurrence of one emoji with two would double the block: refused as a whole.
      {
        name: 'core_memory_replace',
        args: { label: 'human', old_content: '🙂', new_content: '🙂🙂', replace_all: true },
        status: 'Failed',
        text: /Exceeds 2000 character limit/,
      },
      {
        name: 'core_memory_replace',
        args: { label: 'human', old_content: '🙂', new_content: '' },
        status: 'Failed',
        text: /occurs \d+ times in memory block 'human'.*replace_all=true/,
      },
      { name: 'core_memory_replace', args: { label: 'human', old_content: '🙂', new_content: '', replace_all: true }, status: 'OK' },
    ];
    const expected: string[] = [];
    for (const c of cases) {
      const before = human();
      const result = await step(c.name, c.args);
      assert.equal(result.status, c.status, `${c.name} ${JSON.stringify(c.args).slice(0, 80)}: ${result.message}`);
      if (c.text) assert.match(result.message, c.text);
      if (c.status === 'Failed') assert.equal(human(), before, 'a failed edit changes nothing');
      expected.push(human());
      assert.ok([...human()].length <= CORE_MEMORY_BLOCK_LIMIT_CHARS);
    }
    assert.equal(human(), start + '\n', 'appending the emoji and deleting them again leaves the newline of the appended line');
    await rig.restart();
    assert.equal(human(), expected.at(-1), 'what is on disk is what the last good edit left');
  } finally {
    await rig.close();
  }
});
