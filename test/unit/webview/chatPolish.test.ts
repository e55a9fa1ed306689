// The chat's rough edges, filed by a demanding first user: each case failed before its fix.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentEvent } from '../../../src/core/agent/events';
import type { ArchivalHit } from '../../../src/core/interfaces/archivalStore';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import { CHAT_TURN_OUTCOMES_KEPT } from '../../../src/core/limits';
import type { HostToWebview, TranscriptItem } from '../../../src/protocol';
import { isHarmlessFailure, summarizeCall } from '../../../src/webview/functionSummary';
import { STOPPED_NOTE, Transcript, recallToTranscript } from '../../../src/webview/transcript';
import { ChatRelay, type ChatBackend } from '../../../src/vscode/chatBackend';
import { coreMemoryPreview } from '../../../src/vscode/coreMemoryPreview';
import { conversationHits, relevantArchival } from '../../../src/vscode/memorySearchResults';
import { MessageCounter } from '../../../src/vscode/messageCounter';
import { TurnOutcomeLog, TurnOutcomeWatcher } from '../../../src/vscode/turnOutcomes';

const base = { time: '2026-11-20T10:00:00Z', agentId: 'a' };
const user = (seq: number, text: string): RecallRecord => ({
  ...base,
  id: `r${seq}`,
  seq,
  kind: 'user',
  message: { role: 'user', content: text },
});
const reply = (seq: number, callId: string, text: string): RecallRecord => ({
  ...base,
  id: `r${seq}`,
  seq,
  kind: 'assistant',
  message: {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: callId, type: 'function', function: { name: 'send_message', arguments: JSON.stringify({ message: text }) } }],
  },
});
const callRecord = (seq: number, callId: string, name: string, args: object, thought: string | null = null): RecallRecord => ({
  ...base,
  id: `r${seq}`,
  seq,
  kind: 'assistant',
  message: {
    role: 'assistant',
    content: thought,
    tool_calls: [{ id: callId, type: 'function', function: { name, arguments: JSON.stringify(args) } }],
  },
});
const result = (seq: number, callId: string, status: 'OK' | 'Failed', message: string): RecallRecord => ({
  ...base,
  id: `r${seq}`,
  seq,
  kind: 'tool',
  message: { role: 'tool', tool_call_id: callId, content: JSON.stringify({ status, message }) },
});
const texts = (items: readonly TranscriptItem[]) =>
  items.map((i) => ('text' in i ? `${i.kind}:${i.text}` : 'message' in i ? `${i.kind}:${i.message}` : `${i.kind}:${i.name}`));

/** The smallest backend the relay needs; the actions the view asks for fail as the editor would. */
function failingBackend(outcomes: ReturnType<NonNullable<ChatBackend['turnOutcomes']>> = []): ChatBackend {
  const log = [user(1, 'a'), reply(2, 'c1', 'b'), user(3, 'c'), user(4, 'd')];
  return {
    onEvent: () => ({ dispose() {} }),
    send: async () => {},
    stop: () => {},
    retry: async () => {},
    clearView: async () => {},
    history: async (before, limit) => log.filter((r) => before === undefined || r.seq < before).slice(-limit),
    hasHistoryBefore: async (seq) => log.some((r) => r.seq < seq),
    turnOutcomes: () => outcomes,
    contextUsage: () => undefined,
    isBusy: () => false,
    agents: () => [{ id: 'a', name: 'MemGPT' }],
    activeAgentId: () => 'a',
    switchAgent: async () => {},
    setupStatus: async () => ({ configured: true, hasApiKey: true }),
    probeLocalServers: async () => [],
    saveApiKey: async () => ({ ok: true, message: '' }),
    useServer: async () => ({ ok: true, message: '' }),
    openCitation: async (p) => {
      throw new Error(`${p} does not exist in this workspace, so it was not opened.`);
    },
    insertAtCursor: async () => {
      throw new Error('No editor is open to insert into. Open a file, place the cursor, and click Insert again.');
    },
    copyToClipboard: async () => {},
    showCoreMemory: async () => {},
    confirmExternalLink: async () => {},
  };
}

describe('nothing fails in silence', () => {
  test('Insert with no editor and a citation to a missing file are said in the chat, and still logged', async () => {
    const posted: HostToWebview[] = [];
    const logged: string[] = [];
    const relay = new ChatRelay(
      failingBackend(),
      (m) => posted.push(m),
      (p) => logged.push(p),
    );
    await relay.receive({ type: 'insertAtCursor', payload: { code: 'x' } });
    await relay.receive({ type: 'openCitation', payload: { path: 'src/gone.ts', startLine: 3 } });
    const notes = posted
      .filter((m): m is Extract<HostToWebview, { type: 'actionFailed' }> => m.type === 'actionFailed')
      .map((m) => m.payload.message);
    assert.deepEqual(notes, [
      'No editor is open to insert into. Open a file, place the cursor, and click Insert again.',
      'src/gone.ts does not exist in this workspace, so it was not opened.',
    ]);
    assert.equal(logged.length, 2);
  });
});

describe('failed and stopped turns are part of the restored history', () => {
  test('the watcher turns an error, or a stop, into the outcome of its turn; a finished turn has none', () => {
    const w = new TurnOutcomeWatcher();
    const run = (events: AgentEvent[]) => events.map((e) => w.observe(e)).filter((o) => o !== undefined);
    assert.deepEqual(
      run([
        { type: 'error', message: 'The server at http://127.0.0.1:9/v1 refused the connection.', recoverable: true },
        { type: 'turn_finished', reason: 'error' },
      ]),
      [{ kind: 'error', message: 'The server at http://127.0.0.1:9/v1 refused the connection.', recoverable: true }],
    );
    assert.deepEqual(run([{ type: 'turn_finished', reason: 'cancelled' }]), [{ kind: 'stopped' }]);
    assert.deepEqual(run([{ type: 'turn_finished', reason: 'done' }]), []);
  });

  test('the log keeps outcomes per agent, bounded, and skips anything stored in another shape', async () => {
    const data = new Map<string, unknown>();
    const store = { get: <T>(k: string) => data.get(k) as T | undefined, update: async (k: string, v: unknown) => void data.set(k, v) };
    const log = new TurnOutcomeLog(store);
    for (let i = 0; i < CHAT_TURN_OUTCOMES_KEPT + 5; i++) await log.record('a', { afterSeq: i, kind: 'stopped' });
    assert.equal(log.list('a').length, CHAT_TURN_OUTCOMES_KEPT);
    assert.equal(log.list('a')[0]?.afterSeq, 5, 'the oldest go first');
    assert.deepEqual(log.list('b'), []);
    data.set('memgpt.chat.turnOutcomes.c', [
      { afterSeq: 'x', kind: 'error' },
      { afterSeq: 2, kind: 'stopped' },
    ]);
    assert.deepEqual(log.list('c'), [{ afterSeq: 2, kind: 'stopped' }]);
  });

  test('the relay hands each history page the outcomes that end among its records, and the newest seq', async () => {
    const outcomes = [
      { afterSeq: 1, kind: 'stopped' as const },
      { afterSeq: 4, kind: 'error' as const, message: 'boom', recoverable: true },
    ];
    const posted: HostToWebview[] = [];
    const relay = new ChatRelay(
      failingBackend(outcomes),
      (m) => posted.push(m),
      () => {},
    );
    await relay.receive({ type: 'request', payload: { id: 1, method: 'history', params: { beforeSeq: null, limit: 2 } } });
    await relay.receive({ type: 'request', payload: { id: 2, method: 'history', params: { beforeSeq: 3, limit: 2 } } });
    const [newest, older] = posted
      .filter((m) => m.type === 'response')
      .map((m) => (m.type === 'response' && m.payload.ok ? m.payload.result : null)) as {
      outcomes?: unknown[];
      newestSeq?: number;
    }[];
    assert.deepEqual(newest?.outcomes, [outcomes[1]]);
    assert.equal(newest?.newestSeq, 4);
    assert.deepEqual(older?.outcomes, [outcomes[0]]);
    assert.equal(older?.newestSeq, undefined);
  });

  test('a restored error goes after its turn; Retry only on the newest failure with nothing after it', () => {
    const t = new Transcript();
    const { prepended } = t.prependHistory(
      [user(1, 'first?'), user(2, 'second?'), user(3, 'third?')],
      false,
      [
        { afterSeq: 1, kind: 'error', message: 'old failure', recoverable: true },
        { afterSeq: 3, kind: 'error', message: 'The server refused the connection.', recoverable: true },
      ],
      3,
    );
    assert.deepEqual(texts(prepended), [
      'user:first?',
      'error:old failure',
      'user:second?',
      'user:third?',
      'error:The server refused the connection.',
    ]);
    const errors = prepended.filter((i): i is Extract<TranscriptItem, { kind: 'error' }> => i.kind === 'error');
    assert.deepEqual(
      errors.map((e) => e.retried),
      [true, false],
    );
    // The next window's login comes after the failure: the question is still unanswered, Retry stays.
    const login: RecallRecord = {
      ...base,
      id: 'r4',
      seq: 4,
      kind: 'system_event',
      message: { role: 'user', content: JSON.stringify({ type: 'login', message: 'x' }) },
    };
    const reloaded = new Transcript().prependHistory(
      [user(3, 'third?'), login],
      false,
      [{ afterSeq: 3, kind: 'error', message: 'boom', recoverable: true }],
      4,
    ).prepended;
    assert.equal(reloaded.find((i) => i.kind === 'error')?.kind === 'error' && reloaded.find((i) => i.kind === 'error')?.retried, false);
    // An answer after it: no Retry.
    const answered = new Transcript().prependHistory(
      [user(3, 'third?'), user(4, 'fourth')],
      false,
      [{ afterSeq: 3, kind: 'error', message: 'boom', recoverable: true }],
      4,
    ).prepended;
    assert.equal(
      answered.some((i) => i.kind === 'error' && !i.retried),
      false,
    );
  });

  test('a stop before any answer shows a note, live and restored; a stop after part of an answer adds none', () => {
    const live = new Transcript();
    live.addUser('question');
    const change = live.apply({ type: 'turn_finished', reason: 'cancelled' });
    assert.deepEqual(texts(change.appended), [`event:${STOPPED_NOTE}`]);
    const restored = new Transcript().prependHistory([user(1, 'question')], false, [{ afterSeq: 1, kind: 'stopped' }], 1).prepended;
    assert.deepEqual(texts(restored), ['user:question', `event:${STOPPED_NOTE}`]);
    const partial = new Transcript().prependHistory(
      [user(1, 'question'), reply(2, 'c', 'half an ans')],
      false,
      [{ afterSeq: 2, kind: 'stopped' }],
      2,
    ).prepended;
    assert.deepEqual(texts(partial), ['user:question', 'assistant:half an ans']);
  });
});

describe('first run', () => {
  test('the login is for the agent: it shows neither live nor from history', () => {
    const t = new Transcript();
    assert.deepEqual(t.apply({ type: 'system_event', kind: 'login', text: 'The user logged in.' }).appended, []);
    const login: RecallRecord = {
      ...base,
      id: 'r1',
      seq: 1,
      kind: 'system_event',
      message: { role: 'user', content: JSON.stringify({ type: 'login', message: 'x' }) },
    };
    assert.deepEqual(recallToTranscript([login]), []);
  });
});

describe('function cards a person can read', () => {
  test('core memory reads as what was remembered about whom', () => {
    const args = (o: object) => JSON.stringify(o);
    assert.equal(
      summarizeCall('core_memory_append', args({ label: 'human', content: 'Name: Ada' })).title,
      'Remembered about you: “Name: Ada”',
    );
    assert.equal(
      summarizeCall('core_memory_append', args({ label: 'persona', content: 'Be brief' })).title,
      'Remembered about itself: “Be brief”',
    );
    assert.equal(
      summarizeCall('core_memory_append', args({ label: 'project', content: 'Uses pnpm' })).title,
      'Remembered in “project”: “Uses pnpm”',
    );
  });

  test('a search that found nothing is harmless; a real failure is not', () => {
    assert.equal(
      isHarmlessFailure('conversation_search', 'Page 2 does not exist: there are 3 results on 1 page(s), numbered 0 to 0.'),
      true,
    );
    assert.equal(isHarmlessFailure('archival_memory_search', 'No results found.'), true);
    assert.equal(isHarmlessFailure('conversation_search', 'The recall store could not be read: EIO'), false);
    assert.equal(isHarmlessFailure('core_memory_append', 'No results found.'), false);
  });

  test('the same call three times in one turn is one card that counts, live and from history', () => {
    const q = { query: 'auth', page: 0 };
    const t = new Transcript();
    for (const [i, step] of ['s1', 's2', 's3'].entries()) {
      t.apply({ type: 'monologue', stepId: step, text: `Look again (${i})` });
      t.apply({
        type: 'function_call_started',
        stepId: step,
        callId: `c${i}`,
        name: 'conversation_search',
        arguments: JSON.stringify({ ...q, request_heartbeat: true }),
      });
      t.apply({
        type: 'function_call_finished',
        stepId: step,
        callId: `c${i}`,
        name: 'conversation_search',
        arguments: JSON.stringify(q),
        status: 'OK',
        result: '{"status":"OK","message":"2 results"}',
      });
    }
    const cards = t.items.filter((i) => i.kind === 'function');
    assert.equal(cards.length, 1);
    assert.equal(cards[0]?.kind === 'function' && cards[0].count, 3);
    const history = recallToTranscript([
      user(1, 'where is auth?'),
      callRecord(2, 'h1', 'conversation_search', q, 'Search.'),
      result(3, 'h1', 'OK', '2 results'),
      callRecord(4, 'h2', 'conversation_search', q, 'Again.'),
      result(5, 'h2', 'Failed', 'Page 0 does not exist'),
    ]);
    const restored = history.filter((i) => i.kind === 'function');
    assert.equal(restored.length, 1);
    assert.ok(restored[0]?.kind === 'function' && restored[0].count === 2 && restored[0].status === 'Failed');
    // A new question starts new cards.
    t.addUser('and sessions?');
    t.apply({ type: 'function_call_started', stepId: 's4', callId: 'c9', name: 'conversation_search', arguments: JSON.stringify(q) });
    assert.equal(t.items.filter((i) => i.kind === 'function').length, 2);
  });
});

describe('Search Memory lists what a person would look for', () => {
  test('conversation hits are what the user said and what MemGPT answered, never events, thoughts or results', () => {
    const event: RecallRecord = {
      ...base,
      id: 'e',
      seq: 9,
      kind: 'system_event',
      message: {
        role: 'user',
        content: JSON.stringify({ type: 'selection_remembered', message: '[This is an automated system message hidden from the user] …' }),
      },
    };
    const packedEvent: RecallRecord = { ...event, id: 'e2', kind: 'user' };
    const packedUser: RecallRecord = {
      ...user(10, ''),
      message: { role: 'user', content: JSON.stringify({ type: 'user_message', message: 'my name is Ada' }) },
    };
    const hits = conversationHits([
      event,
      packedEvent,
      packedUser,
      user(11, 'plain question'),
      reply(12, 'c', 'Nice to meet you, Ada.'),
      callRecord(13, 'k', 'core_memory_append', { label: 'human' }, 'thinking'),
      result(14, 'k', 'OK', 'x'),
    ]);
    assert.deepEqual(
      hits.map((h) => `${h.who}: ${h.text}`),
      ['you: my name is Ada', 'you: plain question', 'MemGPT: Nice to meet you, Ada.'],
    );
  });

  test('remembered items stay; chunks sharing a word stay; a few close in meaning stay; the long tail goes', () => {
    const hit = (id: string, source: ArchivalHit['source'], score: number, text = 'nothing in common'): ArchivalHit => ({
      id,
      source,
      score,
      text,
    });
    const kept = relevantArchival(
      [
        hit('w1', 'workspace', 0.9),
        hit('w2', 'workspace', 0.85),
        hit('w3', 'workspace', 0.3, 'export function refreshSessions() {}'),
        hit('m1', 'memory', 0.2),
        hit('w4', 'workspace', 0.1),
        hit('w5', 'workspace', 0.88),
        hit('w6', 'workspace', 0.87),
        hit('w7', 'workspace', 0.86),
      ],
      'why do sessions expire',
    );
    assert.deepEqual(
      kept.map((h) => h.id),
      ['m1', 'w1', 'w2', 'w3', 'w5'],
    );
    // "Ada" appears in no file: at most a few chunks, however many came back.
    const noise = Array.from({ length: 12 }, (_, i) =>
      hit(`n${i}`, 'workspace', 0.5 - i * 0.001, 'import { createServer } from "node:http";'),
    );
    assert.equal(relevantArchival(noise, 'Ada').length, 3);
  });
});

describe('the core memory picker shows what was remembered last', () => {
  test('the newest line leads the preview, the rest follows', () => {
    assert.equal(
      coreMemoryPreview('Name: not known yet.\nPrefers tabs.\nmy name is Ada'),
      'my name is Ada · Name: not known yet. · Prefers tabs.',
    );
    assert.equal(coreMemoryPreview('  one   line  '), 'one line');
    assert.equal(coreMemoryPreview('\n\n'), '(empty)');
  });
});

describe('the meter updates at once', () => {
  test('a memory change or a system event pushes fresh state (with its counts) to the view', async () => {
    const listeners: ((e: AgentEvent) => void)[] = [];
    let archival = 1;
    const backend: ChatBackend = {
      ...failingBackend(),
      onEvent: (l) => {
        listeners.push(l);
        return { dispose() {} };
      },
      contextUsage: () => ({
        windowTokens: 8000,
        systemTokens: 1,
        coreMemoryTokens: 1,
        functionsTokens: 1,
        summaryTokens: 0,
        messagesTokens: 1,
        usedTokens: 4,
        pressure: 'ok',
        recallCount: 2,
        archivalCount: archival,
      }),
    };
    const posted: HostToWebview[] = [];
    new ChatRelay(
      backend,
      (m) => posted.push(m),
      () => {},
    );
    archival = 2;
    for (const l of listeners) l({ type: 'memory_changed', what: 'archival' });
    await new Promise((r) => setTimeout(r, 10));
    const state = posted.find((m) => m.type === 'state');
    assert.ok(state?.type === 'state' && state.payload.usage?.archivalCount === 2);
  });
});

describe('the meter counts messages as a person does', () => {
  test('what the user said and MemGPT answered, not thoughts, calls, results or events; then only what was added', async () => {
    const log: RecallRecord[] = [];
    const add = (...records: RecallRecord[]) => log.push(...records);
    const event: RecallRecord = {
      ...base,
      id: 'ev',
      seq: 0,
      kind: 'system_event',
      message: { role: 'user', content: JSON.stringify({ type: 'login', message: 'x' }) },
    };
    let pages = 0;
    const pager = async (before: number | undefined, limit: number) => {
      pages += 1;
      const older = log.filter((r) => before === undefined || r.seq < before);
      return older.slice(Math.max(0, older.length - limit));
    };
    // Two exchanges, each with a thought, a memory call and its result: 4 messages, 10 records.
    add(
      { ...event, seq: 1 },
      user(2, 'my name is Ada'),
      callRecord(3, 'k', 'core_memory_append', { label: 'human' }, 'Save it.'),
      result(4, 'k', 'OK', 'ok'),
      reply(5, 'c', 'Hi Ada'),
    );
    add(
      user(6, 'and I like Go'),
      callRecord(7, 'k2', 'core_memory_append', { label: 'human' }, 'Save.'),
      result(8, 'k2', 'OK', 'ok'),
      reply(9, 'c2', 'Noted'),
    );
    add({
      ...event,
      id: 'ev2',
      seq: 10,
      kind: 'user',
      message: { role: 'user', content: JSON.stringify({ type: 'file_opened', message: 'x' }) },
    });
    const counter = new MessageCounter();
    assert.equal(counter.current('a'), undefined, 'unknown until counted');
    assert.equal(await counter.refresh('a', pager), 4);
    const first = pages;
    add(user(11, 'thanks'), reply(12, 'c3', 'You are welcome'));
    assert.equal(await counter.refresh('a', pager), 6);
    assert.equal(pages - first, 1, 'only the newest page is read again');
    assert.equal(counter.current('a'), 6);
    assert.equal(counter.current('b'), undefined, 'another agent has its own count');
  });
});

describe('the view is keyed by our own ids', () => {
  test('a server that reuses call ids does not overwrite an earlier finished answer', () => {
    const t = new Transcript();
    t.addUser('one');
    t.apply({ type: 'function_call_started', stepId: 's1', callId: 'call_0', name: 'send_message', arguments: '' });
    t.apply({ type: 'message_complete', stepId: 's1', callId: 'call_0', text: 'First answer.' });
    t.apply({ type: 'turn_finished', reason: 'done' });
    t.addUser('two');
    t.apply({ type: 'function_call_started', stepId: 's2', callId: 'call_0', name: 'send_message', arguments: '' });
    t.apply({ type: 'message_delta', stepId: 's2', callId: 'call_0', delta: 'Second' });
    t.apply({ type: 'message_complete', stepId: 's2', callId: 'call_0', text: 'Second answer.' });
    assert.deepEqual(texts(t.items), ['user:one', 'assistant:First answer.', 'user:two', 'assistant:Second answer.']);
    // Within one turn too: a search and then the answer, both "call_0".
    t.apply({ type: 'function_call_started', stepId: 's3', callId: 'call_0', name: 'archival_memory_search', arguments: '{"query":"q"}' });
    t.apply({ type: 'function_call_started', stepId: 's4', callId: 'call_0', name: 'send_message', arguments: '' });
    t.apply({ type: 'message_complete', stepId: 's4', callId: 'call_0', text: 'Third.' });
    assert.deepEqual(texts(t.items).slice(-2), ['function:archival_memory_search', 'assistant:Third.']);
    assert.equal(new Set(t.items.map((i) => i.id)).size, t.items.length, 'every item has its own id');
  });

  test('history with reused call ids keeps every answer, across pages too', () => {
    const t = new Transcript();
    t.prependHistory([user(3, 'two'), reply(4, 'call_0', 'Second answer.')], true);
    const older = t.prependHistory([user(1, 'one'), reply(2, 'call_0', 'First answer.')], false).prepended;
    assert.deepEqual(texts(older), ['user:one', 'assistant:First answer.']);
    assert.deepEqual(texts(t.items), ['user:one', 'assistant:First answer.', 'user:two', 'assistant:Second answer.']);
    assert.deepEqual(texts(recallToTranscript([reply(1, 'call_0', 'A'), reply(2, 'call_0', 'B')])), ['assistant:A', 'assistant:B']);
  });
});
