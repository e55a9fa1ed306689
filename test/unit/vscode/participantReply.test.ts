import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParticipantReply, type ReplyOutput } from '../../../src/vscode/participantReply';

test('send_message streams as markdown, whole or in deltas, one paragraph per message; calls show as progress', () => {
  const out: ReplyOutput[] = [];
  const reply = new ParticipantReply((o) => out.push(o));
  reply.event({ type: 'function_call_started', stepId: 's1', callId: 'a', name: 'archival_memory_search', arguments: '{}' });
  reply.event({ type: 'function_call_started', stepId: 's2', callId: 'b', name: 'send_message', arguments: '{}' });
  reply.event({ type: 'message_delta', stepId: 's2', callId: 'b', delta: 'The total is computed ' });
  reply.event({ type: 'message_delta', stepId: 's2', callId: 'b', delta: 'in src/billing.ts:1-3.' });
  reply.event({ type: 'message_complete', stepId: 's2', callId: 'b', text: 'The total is computed in src/billing.ts:1-3.' });
  // A model that sends whole calls (VS Code's API does): the message arrives only complete.
  reply.event({ type: 'message_complete', stepId: 's3', callId: 'c', text: 'See also README.md:2 and src/billing.ts:1-3.' });
  reply.event({ type: 'model_wait', stepId: 's4', kind: 'waiting', text: 'Waiting for the model… 10 s' });
  assert.deepEqual(out, [
    { kind: 'progress', text: 'Searching archival memory (workspace and memories)…' },
    { kind: 'markdown', text: 'The total is computed ' },
    { kind: 'markdown', text: 'in src/billing.ts:1-3.' },
    { kind: 'references', citations: [{ path: 'src/billing.ts', startLine: 1, endLine: 3 }] },
    { kind: 'markdown', text: '\n\n' },
    { kind: 'markdown', text: 'See also README.md:2 and src/billing.ts:1-3.' },
    { kind: 'references', citations: [{ path: 'README.md', startLine: 2 }] },
    { kind: 'progress', text: 'Waiting for the model… 10 s' },
  ]);
  assert.equal(reply.sentAnything, true);
  assert.deepEqual(reply.citations(), [
    { path: 'src/billing.ts', startLine: 1, endLine: 3 },
    { path: 'README.md', startLine: 2 },
  ]);
  assert.deepEqual(reply.followups(), ['Explain src/billing.ts in more detail', 'What do you remember about this project?']);
});

test('follow-ups follow what the turn touched; errors are kept for the result', () => {
  const reply = new ParticipantReply(() => undefined);
  assert.equal(reply.sentAnything, false);
  reply.event({ type: 'memory_changed', what: 'core' });
  reply.event({ type: 'error', message: 'The language model refused.', recoverable: false });
  assert.deepEqual(reply.followups(), ['What do you remember about me?', 'What do you remember about this project?']);
  assert.equal(reply.errorMessage, 'The language model refused.');
});
