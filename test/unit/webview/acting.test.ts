/**
 * The chat side of acting, without an editor: the protocol's boundary check of the new messages,
 * the relay between approval cards and the backend, and the transcript (cards with a pending
 * question, live command output, Restore that survives a reload).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent } from '../../../src/core/agent/events';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import { isWebviewToHost, type ApprovalCard, type HostToWebview } from '../../../src/protocol';
import { ChatRelay, type ChatBackend } from '../../../src/vscode/chatBackend';
import { parseSettings } from '../../../src/vscode/settings';
import { recallToTranscript, Transcript } from '../../../src/webview/transcript';

const CARD: ApprovalCard = {
  id: 'approval-1',
  callId: 'call_1',
  kind: 'edit',
  path: 'src/a.ts',
  existed: true,
  diff: '@@ -1 +1 @@\n-a\n+b\n',
  diffCut: false,
  added: 1,
  removed: 1,
};

test('the boundary accepts approve / openDiff / restoreCheckpoint only in their exact shapes', () => {
  assert.ok(isWebviewToHost({ type: 'approve', payload: { id: 'approval-1', decision: 'accept' } }));
  assert.ok(isWebviewToHost({ type: 'approve', payload: { id: 'approval-1', decision: 'reject', reason: 'not now' } }));
  assert.ok(isWebviewToHost({ type: 'approve', payload: { id: 'approval-1', decision: 'always' } }));
  assert.ok(!isWebviewToHost({ type: 'approve', payload: { id: 'approval-1', decision: 'yes' } }));
  assert.ok(
    !isWebviewToHost({ type: 'approve', payload: { id: 'approval-1', decision: 'accept', reason: 'a reason only goes with reject' } }),
  );
  assert.ok(!isWebviewToHost({ type: 'approve', payload: { id: 'approval-1', decision: 'accept', approved: true } }));
  assert.ok(!isWebviewToHost({ type: 'approve', payload: { id: 'approval-1', decision: 'reject', reason: 'x'.repeat(3000) } }));
  assert.ok(isWebviewToHost({ type: 'openDiff', payload: { id: 'approval-1' } }));
  assert.ok(!isWebviewToHost({ type: 'openDiff', payload: {} }));
  assert.ok(isWebviewToHost({ type: 'restoreCheckpoint', payload: { checkpointId: '20261207154000-abc123' } }));
  assert.ok(!isWebviewToHost({ type: 'restoreCheckpoint', payload: { checkpointId: '../../etc' } }));
});

test('the relay shows approval cards, sends them again after a reload, and passes answers, diffs and restores to the backend', async () => {
  const calls: string[] = [];
  let listener: ((c: { opened: ApprovalCard } | { closed: string }) => void) | undefined;
  const own: Partial<ChatBackend> = {
    onEvent: (_l: (e: AgentEvent) => void) => ({ dispose() {} }),
    onApproval: (l) => {
      listener = l;
      return { dispose: () => (listener = undefined) };
    },
    pendingApprovals: () => [CARD],
    answerApproval: async (id, decision, reason) => void calls.push(`answer:${id}:${decision}:${reason ?? ''}`),
    openProposedDiff: async (id) => void calls.push(`diff:${id}`),
    restoreCheckpoint: async (id) => void calls.push(`restore:${id}`),
    history: async (): Promise<RecallRecord[]> => [],
    agents: () => [],
    activeAgentId: () => undefined,
    setupStatus: async () => ({ configured: true, hasApiKey: false }),
    isBusy: () => false,
    contextUsage: () => undefined,
    onDidChangeState: undefined,
    onUserMessageElsewhere: undefined,
    notice: undefined,
  };
  const backend = new Proxy(own, { get: (t, k: string) => (k in t ? t[k as keyof ChatBackend] : async () => undefined) }) as ChatBackend;
  const posted: HostToWebview[] = [];
  const relay = new ChatRelay(
    backend,
    (m) => posted.push(m),
    () => undefined,
  );
  listener!({ opened: CARD });
  listener!({ closed: CARD.id });
  assert.deepEqual(
    posted.map((m) => m.type),
    ['approval', 'approvalClosed'],
  );
  posted.length = 0;
  await relay.receive({ type: 'ready', payload: {} });
  assert.deepEqual(
    posted.map((m) => m.type),
    ['state', 'approval'],
  );
  await relay.receive({ type: 'approve', payload: { id: CARD.id, decision: 'reject', reason: 'keep it' } });
  await relay.receive({ type: 'openDiff', payload: { id: CARD.id } });
  await relay.receive({ type: 'restoreCheckpoint', payload: { checkpointId: 'cp-1' } });
  assert.deepEqual(calls, ['answer:approval-1:reject:keep it', 'diff:approval-1', 'restore:cp-1']);
  relay.dispose();
});

test('the transcript puts the question on its function card, streams command output, and keeps Restore after a reload', () => {
  const t = new Transcript();
  t.apply({ type: 'function_call_started', stepId: 's1', callId: 'call_1', name: 'run_command', arguments: '{"command":"npm test"}' });
  const cmd: ApprovalCard = {
    id: 'approval-2',
    callId: 'call_1',
    kind: 'command',
    command: 'npm test',
    cwd: '.',
    suggestedPrefix: 'npm test',
    shellSyntax: [],
    withheldVariables: ['OPENAI_API_KEY'],
  };
  const opened = t.setApproval(cmd);
  assert.equal(opened.appended.length, 0, 'the existing card gets the question');
  const card = t.get('f-call_1');
  assert.ok(card?.kind === 'function' && card.approval?.id === 'approval-2');
  t.closeApproval('approval-2');
  assert.ok(card.kind === 'function' && card.approval === undefined);
  t.apply({ type: 'command_output', stepId: 's1', callId: 'call_1', chunk: 'ok 1\n' });
  t.apply({ type: 'command_output', stepId: 's1', callId: 'call_1', chunk: 'ok 2\n' });
  assert.equal(card.kind === 'function' ? card.output : '', 'ok 1\nok 2\n');

  t.apply({ type: 'function_call_started', stepId: 's2', callId: 'call_2', name: 'edit_file', arguments: '{"path":"src/a.ts"}' });
  t.apply({ type: 'files_changed', stepId: 's2', callId: 'call_2', checkpointId: 'cp-9', paths: ['src/a.ts'] });
  const edit = t.get('f-call_2');
  assert.ok(edit?.kind === 'function' && edit.checkpointId === 'cp-9');

  // A card that arrives before its call (a reloaded view) is created.
  const fresh = new Transcript();
  assert.equal(fresh.setApproval(CARD).appended.length, 1);

  // From recall: the result names its checkpoint.
  const records: RecallRecord[] = [
    {
      id: 'r1',
      seq: 1,
      time: '2026-12-07T10:00:00Z',
      agentId: 'a',
      kind: 'assistant',
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c9', type: 'function', function: { name: 'edit_file', arguments: '{"path":"src/a.ts"}' } }],
      },
    },
    {
      id: 'r2',
      seq: 2,
      time: '2026-12-07T10:00:01Z',
      agentId: 'a',
      kind: 'tool',
      message: {
        role: 'tool',
        tool_call_id: 'c9',
        content: JSON.stringify({
          status: 'OK',
          message:
            'Edited src/a.ts: +1 −1 lines, from line 1 (approved by the user). Checkpoint 20261207100000-abcdef can restore the files of this turn.\n…',
          time: 'x',
        }),
      },
    },
  ];
  const items = recallToTranscript(records);
  const restored = items.find((i) => i.kind === 'function');
  assert.ok(restored?.kind === 'function' && restored.checkpointId === '20261207100000-abcdef');
});

test('approval settings: defaults ask; a wrong value asks and is reported; prefixes with shell syntax are dropped', () => {
  assert.deepEqual(parseSettings(() => undefined).settings.approval, { edits: 'ask', commands: 'ask', allowedCommands: [] });
  const parsed = parseSettings(
    (k) =>
      ({ 'approval.edits': 'always', 'approval.commands': 'allowList', 'approval.allowedCommands': ['npm test', 'ls; rm -rf /'] })[
        k as string
      ],
  );
  assert.deepEqual(parsed.settings.approval, { edits: 'ask', commands: 'allowList', allowedCommands: ['npm test'] });
  assert.equal(parsed.problems.length, 2);
  assert.match(parsed.problems.join('\n'), /memgpt\.approval\.edits must be "ask" or "auto"/);
});
