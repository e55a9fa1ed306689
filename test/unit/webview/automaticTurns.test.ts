/**
 * The chat and recall tell turns nobody asked for (the login at window open, a timer) from the
 * user's own: a real WorkspaceRuntime against the scripted server on 127.0.0.1 writes the recall
 * records, and the webview's Transcript restores them as a reload does.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentEvent } from '../../../src/core/agent/events';
import { deliverLogin, lastUserMessageUnanswered } from '../../../src/core/events/agentWakeups';
import { recallRecordText } from '../../../src/core/functions/functionSet';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import type { TranscriptItem, TurnOutcome } from '../../../src/protocol';
import { isAutomatic, Transcript } from '../../../src/webview/transcript';
import { TurnOutcomeWatcher } from '../../../src/vscode/turnOutcomes';
import { errorStep, sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { runtimeRig } from '../../fixtures/runtimeRig';

const QUESTION = 'Why do sessions expire after an hour?';
const GREETING = 'Welcome back! Shall we carry on with the session timeout?';
const FAILURE = errorStep(400, { message: 'This model does not support function calling.', type: 'invalid_request_error' });

type ErrorItem = Extract<TranscriptItem, { kind: 'error' }>;
const errorOf = (items: readonly TranscriptItem[]): ErrorItem | undefined => items.find((i): i is ErrorItem => i.kind === 'error');

describe('automatic turns in the chat and in recall', () => {
  test('after a failed question, a login turn that greets keeps Retry in the restored chat and shows the greeting as its own', async () => {
    const rig = await runtimeRig({ prefix: 'automatic-chat' });
    try {
      const runtime = await rig.open();
      // What the chat's backend does: an error that ends a turn is an outcome placed after the newest record.
      const watcher = new TurnOutcomeWatcher();
      const outcomes: TurnOutcome[] = [];
      const placing: Promise<void>[] = [];
      const steps: AgentEvent[] = [];
      runtime.chat.onEvent((event) => {
        if (event.type === 'step_started') steps.push(event);
        const outcome = watcher.observe(event);
        if (outcome) {
          placing.push(
            runtime.chat.conversation(undefined, 1).then((newest) => void outcomes.push({ ...outcome, afterSeq: newest[0]?.seq ?? 0 })),
          );
        }
      });

      rig.server.enqueue(FAILURE);
      const failed = await runtime.chat.handle({ type: 'user_message', text: QUESTION }, { source: 'chat' });
      assert.equal(failed.reason, 'error');
      await Promise.all(placing);
      assert.equal(outcomes.length, 1);
      assert.ok(outcomes[0]?.kind === 'error' && outcomes[0].recoverable, 'a 400 is an error the user may retry');
      assert.equal(lastUserMessageUnanswered(await runtime.chat.conversation(undefined, 50)), true);

      // A window opens (or a timer fires) and the agent greets on its own.
      rig.server.enqueue(sendMessage(GREETING));
      assert.equal(await deliverLogin(runtime.chat, true), 'ran');
      assert.deepEqual(
        steps.map((s) => s.type === 'step_started' && s.automatic === true),
        [false, true],
        'the login turn says its steps are automatic; the user turn does not',
      );

      const records = await runtime.chat.conversation(undefined, 50);
      const user = records.find((r) => r.kind === 'user');
      assert.equal(user?.automatic, undefined, "the user's own message is not marked");
      const greetingRecord = records.find((r) => r.kind === 'assistant' && JSON.stringify(r.message).includes('Welcome back'));
      assert.equal(greetingRecord?.automatic, true, 'the greeting is marked as part of an automatic turn');
      const login = records.find((r) => r.kind === 'system_event' && JSON.stringify(r.message).includes('\\"type\\":\\"login\\"'));
      assert.equal(login?.automatic, true, 'the login that started the turn is marked too');
      // The greeting answers no one: the question is still unanswered, so the next window queues its login.
      assert.equal(lastUserMessageUnanswered(records), true);

      const newestSeq = records[records.length - 1]!.seq;
      const restored = new Transcript().prependHistory(records, false, outcomes, newestSeq).prepended;
      const error = errorOf(restored);
      assert.ok(error, 'the error box is restored');
      assert.equal(error.retried, false, 'Retry is still offered: the greeting is not an answer');
      const greeting = restored.find((i) => i.kind === 'assistant' && i.text === GREETING);
      assert.ok(greeting && isAutomatic(greeting), 'the greeting is shown as an automatic turn');
      assert.ok(restored.indexOf(greeting) > restored.indexOf(error), 'in the order it happened');
      assert.ok(!restored.some((i) => i.kind === 'user' && isAutomatic(i)));

      // Without the marks (a log written before them), the greeting reads as an answer and Retry goes:
      // what the marks are for.
      const unmarked = records.map(({ automatic: _automatic, ...r }) => r as RecallRecord);
      assert.equal(errorOf(new Transcript().prependHistory(unmarked, false, outcomes, newestSeq).prepended)?.retried, true);

      // Recall says so too: conversation_search_date shows the greeting as an automatic turn's.
      assert.match(recallRecordText(greetingRecord), /automatic turn: not a reply to the user/);
      assert.doesNotMatch(recallRecordText(user!), /automatic turn/);
      const today = new Date().toISOString().slice(0, 10);
      rig.server.enqueue(
        toolCall('conversation_search_date', { start_date: today, end_date: today, page: 0, request_heartbeat: true }),
        sendMessage('Found it.'),
      );
      const asked = await runtime.chat.handle({ type: 'user_message', text: 'What did you say today?' }, { source: 'chat' });
      assert.deepEqual(asked.messages, ['Found it.']);
      const last = rig.server.chatRequests().at(-1)!;
      const results = (last.body.messages as { role: string; content: string }[]).filter((m) => m.role === 'tool');
      const searchResult = results.at(-1)?.content ?? '';
      assert.match(searchResult, /automatic turn: not a reply to the user\] assistant: Welcome back/);
      assert.doesNotMatch(searchResult, /automatic turn: not a reply to the user\] user: Why do sessions/);
      // Answered now: a later window may run its login.
      assert.equal(lastUserMessageUnanswered(await runtime.chat.conversation(undefined, 50)), false);
      await runtime.close();
    } finally {
      await rig.close();
    }
  });

  test('marks survive a reopen and an export into another state folder', async () => {
    const rig = await runtimeRig({ prefix: 'automatic-reopen' });
    try {
      let runtime = await rig.open();
      rig.server.enqueue(sendMessage(GREETING));
      assert.equal(await deliverLogin(runtime.chat, true), 'ran');
      const agentId = (await runtime.agents.listAgents()).find((a) => a.active)!.id;
      const exported = await runtime.agents.exportAgent(agentId);
      await runtime.close();
      runtime = await rig.open();
      const reopened = await runtime.chat.conversation(undefined, 50);
      assert.ok(reopened.length >= 3);
      assert.ok(
        reopened.every((r) => r.automatic === true),
        'every record of the login turn is marked after a reopen',
      );
      await runtime.close();

      const other = await runtimeRig({ prefix: 'automatic-import' });
      try {
        const target = await other.open();
        const imported = await target.agents.importAgent(exported);
        await target.agents.switchAgent(imported.id);
        const records = await target.chat.conversation(undefined, 50);
        assert.equal(records.length, reopened.length);
        assert.ok(
          records.every((r) => r.automatic === true),
          'the import keeps the marks',
        );
        await target.close();
      } finally {
        await other.close();
      }
    } finally {
      await rig.close();
    }
  });
});

describe('automatic turns live in the chat', () => {
  test("an automatic turn's items are marked; a stop before the user's answer still says so after one", () => {
    const t = new Transcript();
    t.apply({ type: 'step_started', stepId: 's1', step: 1, automatic: true });
    t.apply({ type: 'monologue', stepId: 's1', text: 'The user is back.' });
    t.apply({ type: 'function_call_started', stepId: 's1', callId: 'c1', name: 'send_message', arguments: '' });
    t.apply({ type: 'message_complete', stepId: 's1', callId: 'c1', text: GREETING });
    t.apply({ type: 'function_call_started', stepId: 's1', callId: 'c2', name: 'archival_memory_search', arguments: '{"query":"q"}' });
    assert.deepEqual(
      t.items.map((i) => `${i.kind}:${isAutomatic(i)}`),
      ['monologue:true', 'assistant:true', 'function:true'],
    );
    // The user writes meanwhile (the view shows it at once); the automatic turn gives way.
    t.addUser(QUESTION);
    t.apply({ type: 'turn_finished', reason: 'preempted' });
    // The user's own turn: nothing it makes is marked; stopped before an answer, it says so.
    t.apply({ type: 'step_started', stepId: 's2', step: 1 });
    t.apply({ type: 'function_call_started', stepId: 's2', callId: 'c3', name: 'archival_memory_search', arguments: '{"query":"q"}' });
    const stopped = t.apply({ type: 'turn_finished', reason: 'cancelled' });
    assert.ok(
      stopped.appended.some((i) => i.kind === 'event' && i.event === 'turn_stopped'),
      'the stop note is added: the greeting before it answered nothing',
    );
    const cards = t.items.filter((i) => i.kind === 'function');
    assert.equal(cards.length, 2, "the user's search does not join the automatic turn's card");
    assert.deepEqual(
      cards.map((c) => isAutomatic(c)),
      [true, false],
    );
  });
});
