/**
 * A user message larger than the context can hold is cut visibly: the model sees its start and
 * end with a note saying what was cut, the user is told, and recall keeps every character.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHarness } from './agentHarness';
import { sendMessage } from '../../fixtures/fakeOpenAIServer';
import { userTexts } from '../../fixtures/reliability/agentRig';
import { Output } from '../../../src/cli/output';
import { TurnPrinter } from '../../../src/cli/turnPrinter';
import type { ChatMessage } from '../../../src/core/interfaces/chatModel';

const SIZE = 1_048_576;

/** 1 MiB of ordinary prose with a marked start, middle and end. */
function hugeMessage(): string {
  const head = 'HEAD-MARK Please review this log. ';
  const tail = ' What went wrong? TAIL-MARK';
  const line = 'The quick brown fox jumps over the lazy dog while the build runs step 42. ';
  let body = '';
  while (body.length < SIZE) body += line;
  const middle = ' MIDDLE-MARK ';
  const room = SIZE - head.length - tail.length - middle.length;
  const half = Math.floor(room / 2);
  return `${head}${body.slice(0, half)}${middle}${body.slice(0, room - half)}${tail}`;
}

/** The user's words in the last user message of a request (the JSON envelope must still parse). */
function lastUserText(messages: readonly ChatMessage[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  assert.ok(last && last.role === 'user');
  const envelope = JSON.parse(last.content) as { type: string; message: string };
  assert.equal(envelope.type, 'user_message');
  return envelope.message;
}

test('a 1 MiB user message reaches the model as its start and end with a note, the user is told, recall keeps it whole', async () => {
  const h = await makeHarness();
  try {
    const text = hugeMessage();
    assert.equal(text.length, SIZE);
    h.server.enqueue(sendMessage('I read the start and the end.'));
    const r = await h.agent.handle({ type: 'user_message', text });
    assert.equal(r.reason, 'done', r.error);

    const seen = lastUserText(h.server.chatRequests()[0]!.body.messages as ChatMessage[]);
    assert.ok(seen.startsWith('HEAD-MARK Please review this log.'), `the start is shown: ${seen.slice(0, 80)}`);
    assert.ok(seen.endsWith('What went wrong? TAIL-MARK'), `the end is shown: ${seen.slice(-80)}`);
    assert.ok(!seen.includes('MIDDLE-MARK'), 'the middle is cut');
    assert.ok(seen.length > 2_000, `a useful share of the message is shown (${seen.length} characters)`);
    const note = /\[message cut: 1,048,576 characters, the first ([\d,]+) and the last ([\d,]+) shown[^\]]*recall memory[^\]]*\]/.exec(
      seen,
    );
    assert.ok(note, `the model is told what was cut: ${seen.slice(0, 300)}`);
    const shown = Number(note[1]!.replace(/,/g, '')) + Number(note[2]!.replace(/,/g, ''));
    assert.equal(seen.length - note[0].length, shown + 4, 'the note counts what is shown (plus the blank lines around it)');

    const notices = h.events.filter((e) => e.type === 'system_event' && e.kind === 'message_cut');
    assert.equal(notices.length, 1, 'the user is told once');
    const notice = notices[0]!;
    assert.ok(notice.type === 'system_event');
    assert.match(notice.text, /1,048,576 characters/);
    assert.match(notice.text, /recall/);

    assert.equal(userTexts(h.recall.records(h.agentId)).at(-1), text, 'recall keeps every character');

    // After a restart the model still gets the same visible cut, not a silent one.
    const again = await h.restart();
    const restored = lastUserText(again.contextMessages());
    assert.equal(restored, seen);
  } finally {
    await h.close();
  }
});

test('a message that fits is not touched', async () => {
  const h = await makeHarness();
  try {
    const text = 'x'.repeat(2_000);
    h.server.enqueue(sendMessage('ok'));
    await h.agent.handle({ type: 'user_message', text });
    assert.equal(lastUserText(h.server.chatRequests()[0]!.body.messages as ChatMessage[]), text);
    assert.ok(!h.events.some((e) => e.type === 'system_event' && e.kind === 'message_cut'));
  } finally {
    await h.close();
  }
});

test('the CLI prints the cut notice on stderr, in one line, with --json too', () => {
  for (const json of [false, true]) {
    const out: string[] = [];
    const err: string[] = [];
    const p = new TurnPrinter(new Output({ write: (t: string) => out.push(t) }, { write: (t: string) => err.push(t) }, undefined), json);
    p.onEvent({
      type: 'system_event',
      kind: 'message_cut',
      text: 'Your message has 1,048,576 characters; the model sees the first 6,000 and the last 2,000.',
    });
    assert.deepEqual(out, []);
    assert.equal(err.length, 1);
    assert.match(err[0]!, /^· Your message has 1,048,576 characters; the model sees the first 6,000 and the last 2,000\.\n$/);
  }
});
