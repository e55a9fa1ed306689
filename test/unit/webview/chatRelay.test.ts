import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AgentEvent } from '../../../src/core/agent/events';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import type { HostToWebview, SetupResult } from '../../../src/protocol';
import { ChatRelay, type ChatBackend } from '../../../src/vscode/chatBackend';

/** A backend that records calls and serves a fixed recall log (seq 1..n). */
class RecordingBackend implements ChatBackend {
  calls: string[] = [];
  standing: string | undefined;
  notice(): string | undefined {
    return this.standing;
  }
  listeners: ((e: AgentEvent) => void)[] = [];
  busy = false;
  log: RecallRecord[] = Array.from({ length: 7 }, (_, i) => ({
    id: `r${i + 1}`,
    seq: i + 1,
    time: '2026-11-20T10:00:00Z',
    agentId: 'a',
    kind: 'user' as const,
    message: { role: 'user' as const, content: `m${i + 1}` },
  }));
  sendError: Error | undefined;
  onEvent(l: (e: AgentEvent) => void) {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  }
  emit(e: AgentEvent) {
    for (const l of this.listeners) l(e);
  }
  async send(text: string) {
    this.calls.push(`send:${text}`);
    if (this.sendError) throw this.sendError;
  }
  stop() {
    this.calls.push('stop');
  }
  async retry() {
    this.calls.push('retry');
  }
  async clearView() {
    this.calls.push('clearView');
  }
  async history(beforeSeq: number | undefined, limit: number) {
    const older = this.log.filter((r) => beforeSeq === undefined || r.seq < beforeSeq);
    return older.slice(Math.max(0, older.length - limit));
  }
  async hasHistoryBefore(seq: number) {
    return this.log.some((r) => r.seq < seq);
  }
  contextUsage() {
    return undefined;
  }
  isBusy() {
    return this.busy;
  }
  agents() {
    return [{ id: 'a', name: 'MemGPT' }];
  }
  activeAgentId() {
    return 'a';
  }
  async switchAgent(id: string) {
    this.calls.push(`switch:${id}`);
  }
  async setupStatus() {
    return { configured: true, hasApiKey: false, baseUrl: 'http://127.0.0.1:11434/v1' };
  }
  async probeLocalServers() {
    return [{ name: 'Ollama', baseUrl: 'http://127.0.0.1:11434/v1', models: ['llama3.1'] }];
  }
  async saveApiKey(key: string): Promise<SetupResult> {
    this.calls.push(`key:${key}`);
    return { ok: false, message: 'OpenAI rejected the key.' };
  }
  async useServer(baseUrl: string, model?: string): Promise<SetupResult> {
    this.calls.push(`use:${baseUrl}:${model ?? ''}`);
    return { ok: true, message: 'Connected.' };
  }
  async openCitation(path: string, startLine: number, endLine?: number) {
    this.calls.push(`open:${path}:${startLine}:${endLine ?? ''}`);
  }
  async insertAtCursor(code: string) {
    this.calls.push(`insert:${code}`);
  }
  async copyToClipboard(text: string) {
    this.calls.push(`copy:${text}`);
  }
  async showCoreMemory() {
    this.calls.push('core');
  }
  async confirmExternalLink(url: string) {
    this.calls.push(`link:${url}`);
  }
}

function setup(backend?: RecordingBackend) {
  const posted: HostToWebview[] = [];
  const problems: string[] = [];
  const relay = new ChatRelay(
    backend,
    (m) => posted.push(m),
    (p) => problems.push(p),
  );
  return { relay, posted, problems };
}

describe('ChatRelay', () => {
  test('a standing condition (Restricted Mode) reaches the view with a ready backend, and goes when it ends', async () => {
    const backend = new RecordingBackend();
    backend.standing = 'Restricted Mode: MemGPT indexes no files.';
    const { relay, posted } = setup(backend);
    await relay.receive({ type: 'ready', payload: {} });
    const first = posted[0];
    assert.ok(first?.type === 'state' && first.payload.backend === 'ready' && first.payload.notice === backend.standing);
    backend.standing = undefined;
    await relay.pushState();
    const last = posted.at(-1);
    assert.ok(last?.type === 'state' && last.payload.notice === undefined);
  });

  test('ready answers with the state; events are forwarded live; dispose unsubscribes', async () => {
    const backend = new RecordingBackend();
    const { relay, posted } = setup(backend);
    await relay.receive({ type: 'ready', payload: {} });
    assert.equal(posted[0]?.type, 'state');
    assert.equal(posted[0]?.type === 'state' && posted[0].payload.backend, 'ready');
    backend.emit({ type: 'message_delta', stepId: 's', callId: 'c', delta: 'hi' });
    assert.deepEqual(posted[1], {
      type: 'agentEvent',
      payload: { event: { type: 'message_delta', stepId: 's', callId: 'c', delta: 'hi' } },
    });
    relay.dispose();
    backend.emit({ type: 'turn_finished', reason: 'done' });
    assert.equal(posted.length, 2);
  });

  test('commands reach the backend with their arguments', async () => {
    const backend = new RecordingBackend();
    const { relay } = setup(backend);
    await relay.receive({ type: 'send', payload: { text: 'hello' } });
    await relay.receive({ type: 'stop', payload: {} });
    await relay.receive({ type: 'retry', payload: {} });
    await relay.receive({ type: 'clearView', payload: {} });
    await relay.receive({ type: 'openCitation', payload: { path: 'src/a.ts', startLine: 3, endLine: 5 } });
    await relay.receive({ type: 'insertAtCursor', payload: { code: 'x' } });
    await relay.receive({ type: 'copyToClipboard', payload: { text: 'y' } });
    await relay.receive({ type: 'showCoreMemory', payload: {} });
    await relay.receive({ type: 'openExternal', payload: { url: 'https://example.com' } });
    assert.deepEqual(backend.calls, [
      'send:hello',
      'stop',
      'retry',
      'clearView',
      'open:src/a.ts:3:5',
      'insert:x',
      'copy:y',
      'core',
      'link:https://example.com',
    ]);
  });

  test('malformed messages are rejected and reported, never reach the backend', async () => {
    const backend = new RecordingBackend();
    const { relay, posted, problems } = setup(backend);
    await relay.receive({ type: 'openExternal', payload: { url: 'javascript:alert(1)' } });
    await relay.receive({ type: 'send', payload: { text: 5 } });
    await relay.receive('garbage');
    assert.deepEqual(backend.calls, []);
    assert.equal(posted.length, 0);
    assert.equal(problems.length, 3);
    assert.match(problems[0]!, /openExternal/);
    assert.ok(!problems[0]!.includes('alert'), 'the report does not echo the content');
  });

  test('history pages come back by request id with hasMore', async () => {
    const backend = new RecordingBackend();
    const { relay, posted } = setup(backend);
    await relay.receive({ type: 'request', payload: { id: 7, method: 'history', params: { beforeSeq: null, limit: 3 } } });
    const r1 = posted.at(-1);
    assert.ok(r1?.type === 'response' && r1.payload.ok);
    const page1 = (r1.payload as { result: { records: RecallRecord[]; hasMore: boolean } }).result;
    assert.equal(r1.payload.id, 7);
    assert.deepEqual(
      page1.records.map((r) => r.seq),
      [5, 6, 7],
    );
    assert.equal(page1.hasMore, true);
    await relay.receive({ type: 'request', payload: { id: 8, method: 'history', params: { beforeSeq: 3, limit: 3 } } });
    const r2 = posted.at(-1);
    const page2 = (r2?.payload as { result: { records: RecallRecord[]; hasMore: boolean } }).result;
    assert.deepEqual(
      page2.records.map((r) => r.seq),
      [1, 2],
    );
    assert.equal(page2.hasMore, false);
  });

  test('setup requests answer with the result; success pushes a fresh state', async () => {
    const backend = new RecordingBackend();
    const { relay, posted } = setup(backend);
    await relay.receive({ type: 'request', payload: { id: 1, method: 'saveApiKey', params: { key: 'sk-1' } } });
    assert.deepEqual(posted.at(-1), {
      type: 'response',
      payload: { id: 1, method: 'saveApiKey', ok: true, result: { ok: false, message: 'OpenAI rejected the key.' } },
    });
    await relay.receive({
      type: 'request',
      payload: { id: 2, method: 'useServer', params: { baseUrl: 'http://127.0.0.1:1234/v1', model: 'q' } },
    });
    assert.deepEqual(posted.at(-2), {
      type: 'response',
      payload: { id: 2, method: 'useServer', ok: true, result: { ok: true, message: 'Connected.' } },
    });
    assert.equal(posted.at(-1)?.type, 'state');
    await relay.receive({ type: 'request', payload: { id: 3, method: 'probeLocalServers', params: {} } });
    const probe = posted.at(-1);
    assert.equal(probe?.type === 'response' && probe.payload.ok, true);
    assert.deepEqual(backend.calls, ['key:sk-1', 'use:http://127.0.0.1:1234/v1:q']);
  });

  test('a failing send shows as an error in the conversation', async () => {
    const backend = new RecordingBackend();
    backend.sendError = new Error('The agent is still starting. Try again in a moment.');
    const { relay, posted } = setup(backend);
    await relay.receive({ type: 'send', payload: { text: 'hi' } });
    assert.deepEqual(posted.at(-1), {
      type: 'agentEvent',
      payload: { event: { type: 'error', message: 'The agent is still starting. Try again in a moment.', recoverable: false } },
    });
  });

  test('switching agents resets the view history and pushes state', async () => {
    const backend = new RecordingBackend();
    const { relay, posted } = setup(backend);
    await relay.receive({ type: 'switchAgent', payload: { agentId: 'b' } });
    assert.deepEqual(backend.calls, ['switch:b']);
    assert.deepEqual(
      posted.map((m) => m.type),
      ['historyReset', 'state'],
    );
  });

  test('with no backend: the state says so, requests fail with the reason, nothing is faked', async () => {
    const { relay, posted } = setup(undefined);
    await relay.receive({ type: 'ready', payload: {} });
    const state = posted[0];
    assert.ok(state?.type === 'state' && state.payload.backend === 'none');
    assert.match(state.payload.notice ?? '', /not running/);
    await relay.receive({ type: 'send', payload: { text: 'hello?' } });
    assert.equal(posted.length, 1, 'no echo, no fake reply');
    await relay.receive({ type: 'request', payload: { id: 4, method: 'history', params: { beforeSeq: null, limit: 10 } } });
    const r = posted.at(-1);
    assert.ok(r?.type === 'response' && !r.payload.ok && /not running/.test(r.payload.error));
  });
});
