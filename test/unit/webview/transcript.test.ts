import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentInput } from '../../../src/core/agent/events';
import { renderInput } from '../../../src/core/agent/inputMessages';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import { Transcript, recallToTranscript } from '../../../src/webview/transcript';

const base = { time: '2026-11-20T10:00:00Z', agentId: 'a' };
function call(id: string, name: string, a: object) {
  return { id, type: 'function' as const, function: { name, arguments: JSON.stringify(a) } };
}

describe('Transcript from live events', () => {
  test('streams a send_message into one assistant item and completes it', () => {
    const t = new Transcript();
    const started = t.apply({ type: 'function_call_started', stepId: 's', callId: 'c', name: 'send_message', arguments: '' });
    assert.equal(started.appended.length, 1);
    t.apply({ type: 'message_delta', stepId: 's', callId: 'c', delta: 'Hel' });
    const d = t.apply({ type: 'message_delta', stepId: 's', callId: 'c', delta: 'lo' });
    assert.equal(d.appended.length, 0);
    assert.deepEqual(
      d.updated.map((i) => i.id),
      ['a-c'],
    );
    assert.deepEqual(t.items, [
      { kind: 'assistant', id: 'a-c', text: 'Hello', state: 'streaming', time: (t.items[0] as { time: string }).time },
    ]);
    t.apply({ type: 'message_complete', stepId: 's', callId: 'c', text: 'Hello!' });
    assert.equal(t.items.length, 1);
    assert.deepEqual([(t.items[0] as { text: string }).text, (t.items[0] as { state: string }).state], ['Hello!', 'complete']);
    // The OK result of send_message adds no card.
    t.apply({
      type: 'function_call_finished',
      stepId: 's',
      callId: 'c',
      name: 'send_message',
      arguments: '{}',
      status: 'OK',
      result: '{}',
    });
    assert.equal(t.items.length, 1);
  });

  test('a delta with no started event still creates the message', () => {
    const t = new Transcript();
    t.apply({ type: 'message_delta', stepId: 's', callId: 'x', delta: 'hi' });
    assert.equal(t.items[0]?.kind, 'assistant');
  });

  test('stop keeps the partial text, ignores later deltas, cancels running cards', () => {
    const t = new Transcript();
    t.apply({ type: 'message_delta', stepId: 's', callId: 'c', delta: 'partial ' });
    t.apply({ type: 'function_call_started', stepId: 's', callId: 'f', name: 'archival_memory_search', arguments: '{"query":"q"}' });
    t.apply({ type: 'monologue_delta', stepId: 's', delta: 'hmm' });
    const stopped = t.stopStreaming('partial');
    assert.equal(stopped.updated.length, 3);
    t.apply({ type: 'message_delta', stepId: 's', callId: 'c', delta: 'more' });
    const [msg, card, thought] = t.items;
    assert.deepEqual([msg!.kind === 'assistant' && msg.text, msg!.kind === 'assistant' && msg.state], ['partial ', 'partial']);
    assert.equal(card!.kind === 'function' && card.status, 'cancelled');
    assert.equal(thought!.kind === 'monologue' && thought.streaming, false);
    assert.equal(t.isStreaming, false);
    // The agent's own partial message_complete is authoritative.
    t.apply({ type: 'message_complete', stepId: 's', callId: 'c', text: 'partial text', partial: true });
    assert.equal(msg!.kind === 'assistant' && msg.text, 'partial text');
  });

  test('turn_finished cancelled marks a streaming answer partial; done marks it complete', () => {
    const a = new Transcript();
    a.apply({ type: 'message_delta', stepId: 's', callId: 'c', delta: 'x' });
    a.apply({ type: 'turn_finished', reason: 'cancelled' });
    assert.equal(a.items[0]!.kind === 'assistant' && a.items[0]!.state, 'partial');
    const b = new Transcript();
    b.apply({ type: 'message_delta', stepId: 's', callId: 'c', delta: 'x' });
    b.apply({ type: 'turn_finished', reason: 'done' });
    assert.equal(b.items[0]!.kind === 'assistant' && b.items[0]!.state, 'complete');
  });

  test('function cards go running → OK/Failed; a failed send_message shows as a card', () => {
    const t = new Transcript();
    t.apply({ type: 'function_call_started', stepId: 's', callId: 'f', name: 'core_memory_append', arguments: '{}' });
    t.apply({
      type: 'function_call_finished',
      stepId: 's',
      callId: 'f',
      name: 'core_memory_append',
      arguments: '{"label":"human"}',
      status: 'Failed',
      result: 'too long',
    });
    assert.deepEqual(t.items[0], {
      kind: 'function',
      id: 'f-f',
      name: 'core_memory_append',
      arguments: '{"label":"human"}',
      status: 'Failed',
      result: 'too long',
    });
    t.apply({
      type: 'function_call_finished',
      stepId: 's',
      callId: 'g',
      name: 'send_message',
      arguments: '{bad',
      status: 'Failed',
      result: 'bad JSON',
    });
    assert.equal(t.items[1]!.kind, 'function');
  });

  test('monologue deltas accumulate per step; events and errors append', () => {
    const t = new Transcript();
    t.apply({ type: 'monologue_delta', stepId: 's', delta: 'a' });
    t.apply({ type: 'monologue_delta', stepId: 's', delta: 'b' });
    t.apply({ type: 'monologue', stepId: 's', text: 'ab.' });
    t.apply({ type: 'system_event', kind: 'file_saved', text: 'Saved a.ts' });
    t.apply({ type: 'error', message: 'boom', recoverable: true });
    assert.deepEqual(
      t.items.map((i) => i.kind),
      ['monologue', 'event', 'error'],
    );
    assert.equal(t.items[0]!.kind === 'monologue' && t.items[0]!.text, 'ab.');
    const err = t.items[2]!;
    assert.equal(t.markRetried(err.id).updated.length, 1);
    assert.equal(t.markRetried(err.id).updated.length, 0, 'retry once');
  });
});

describe('recallToTranscript and history paging', () => {
  const records: RecallRecord[] = [
    {
      ...base,
      id: '1',
      seq: 1,
      kind: 'user',
      message: { role: 'user', content: JSON.stringify({ type: 'user_message', message: 'hi', time: 'x' }) },
    },
    {
      ...base,
      id: '2',
      seq: 2,
      kind: 'assistant',
      message: {
        role: 'assistant',
        content: 'inner thought',
        tool_calls: [call('t1', 'archival_memory_search', { query: 'q' }), call('t2', 'send_message', { message: 'hello' })],
      },
    },
    {
      ...base,
      id: '3',
      seq: 3,
      kind: 'tool',
      message: { role: 'tool', tool_call_id: 't1', content: '{"status":"Failed","message":"no index"}' },
    },
    { ...base, id: '4', seq: 4, kind: 'tool', message: { role: 'tool', tool_call_id: 't2', content: '{"status":"OK"}' } },
    {
      ...base,
      id: '5',
      seq: 5,
      kind: 'system_event',
      message: { role: 'user', content: JSON.stringify({ type: 'file_saved', message: 'Saved a.ts' }) },
    },
    { ...base, id: '6', seq: 6, kind: 'summary', message: { role: 'system', content: 'Earlier: talked about auth.' } },
    { ...base, id: '7', seq: 7, kind: 'system_alert', message: { role: 'user', content: 'Memory pressure' } },
  ];

  test('converts every kind, pairs results with calls, unpacks JSON packets', () => {
    const items = recallToTranscript(records);
    assert.deepEqual(
      items.map((i) => [i.kind, i.id]),
      [
        ['user', 'r-1'],
        ['monologue', 'r-2-m'],
        ['function', 'f-t1'],
        ['assistant', 'a-t2'],
        ['event', 'r-5'],
        ['event', 'r-6'],
        ['event', 'r-7'],
      ],
    );
    assert.equal(items[0]!.kind === 'user' && items[0]!.text, 'hi');
    assert.equal(items[2]!.kind === 'function' && items[2]!.status, 'Failed');
    assert.equal(items[3]!.kind === 'assistant' && items[3]!.text, 'hello');
    assert.deepEqual(
      items.slice(4).map((i) => i.kind === 'event' && [i.event, i.text]),
      [
        ['file_saved', 'Saved a.ts'],
        ['summary', 'Earlier: talked about auth.'],
        ['system_alert', 'Memory pressure'],
      ],
    );
  });

  test('a call on an older page gets its result from the newer page already shown', () => {
    const t = new Transcript();
    t.prependHistory(records.slice(2), true); // results first (newest page)
    assert.equal(t.oldestSeq, 3);
    const { prepended } = t.prependHistory(records.slice(0, 2), false);
    assert.deepEqual(
      prepended.map((i) => i.id),
      ['r-1', 'r-2-m', 'f-t1', 'a-t2'],
    );
    const card = t.get('f-t1');
    assert.equal(card?.kind === 'function' && card.status, 'Failed');
    assert.equal(t.oldestSeq, 1);
    assert.equal(t.hasOlder, false);
    assert.deepEqual(t.items.map((i) => i.id).slice(0, 4), ['r-1', 'r-2-m', 'f-t1', 'a-t2'], 'older items go first');
  });

  test('a page overlapping what is shown adds nothing twice; a call without a result is shown as stopped', () => {
    const t = new Transcript();
    t.prependHistory(records.slice(0, 2), true);
    const again = t.prependHistory(records.slice(0, 2), false);
    assert.equal(again.prepended.length, 0);
    assert.equal(t.items.length, 4);
    const card = t.get('f-t1');
    assert.equal(card?.kind === 'function' && card.status, 'cancelled');
  });
});

describe('a stopped answer after a reload', () => {
  // What the agent stores when the user stops a send_message mid-stream: the call and a Failed result.
  const stopped: RecallRecord[] = [
    {
      ...base,
      id: '1',
      seq: 1,
      kind: 'assistant',
      message: { role: 'assistant', content: null, tool_calls: [call('s1', 'send_message', { message: 'The store keeps' })] },
    },
    {
      ...base,
      id: '2',
      seq: 2,
      kind: 'tool',
      message: {
        role: 'tool',
        tool_call_id: 's1',
        content:
          '{"status":"Failed","message":"Cancelled by the user while this message was being written; the user saw only this part.","time":"x"}',
      },
    },
    {
      ...base,
      id: '3',
      seq: 3,
      kind: 'assistant',
      message: { role: 'assistant', content: null, tool_calls: [call('s2', 'send_message', { message: 'Done.' })] },
    },
    {
      ...base,
      id: '4',
      seq: 4,
      kind: 'tool',
      message: { role: 'tool', tool_call_id: 's2', content: '{"status":"OK","message":"None","time":"x"}' },
    },
  ];

  test('is still marked partial; a delivered one is complete', () => {
    const items = recallToTranscript(stopped);
    assert.deepEqual(
      items.map((i) => i.kind === 'assistant' && [i.text, i.state]),
      [
        ['The store keeps', 'partial'],
        ['Done.', 'complete'],
      ],
    );
  });

  test('is marked partial when its result came on the newer page', () => {
    const t = new Transcript();
    t.prependHistory(stopped.slice(1), true);
    t.prependHistory(stopped.slice(0, 1), false);
    const first = t.get('a-s1');
    assert.equal(first?.kind === 'assistant' && first.state, 'partial');
  });
});

describe('stored system events read like the live ones', () => {
  // The agent's own renderer makes the stored packets, so the view and the agent cannot drift apart.
  const inputs: AgentInput[] = [
    { type: 'login', lastLogin: null },
    { type: 'file_opened', path: 'src/store/todoStore.ts' },
    { type: 'file_saved', path: 'src/config.ts' },
    { type: 'selection_remembered', path: 'src/a.ts', startLine: 3, endLine: 9, memoryId: 'm1' },
    { type: 'core_memory_edited_by_user', label: 'project' },
    { type: 'heartbeat', reason: 'The user asked to try again.' },
    { type: 'timer', text: 'Files changed while you were idle.' },
    { type: 'system_alert', text: 'The index was rebuilt.' },
  ];
  for (const input of inputs) {
    test(`${input.type}: the chip after a reload says what the live chip said`, () => {
      const rendered = renderInput(input, new Date('2026-11-20T10:00:00Z'));
      const record: RecallRecord = { ...base, id: 'r1', seq: 1, kind: rendered.kind, message: rendered.message };
      const [item] = recallToTranscript([record]);
      if (input.type === 'login') {
        // The window's login is for the agent; the chat shows it neither live nor after a reload.
        assert.equal(item, undefined);
        assert.deepEqual(new Transcript().apply({ type: 'system_event', kind: 'login', text: rendered.notice }).appended, []);
        return;
      }
      assert.equal(item?.kind, 'event');
      assert.equal((item as { event: string }).event, input.type);
      assert.equal((item as { text: string }).text, rendered.notice);
      assert.ok(!(item as { text: string }).text.includes('hidden from the user'));
    });
  }
});
