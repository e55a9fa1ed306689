import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answerRequest,
  dispatch,
  type HostToWebviewMessages,
  type MessageHandlers,
  type RequestHandlers,
  type WebviewToHost,
} from '../../../src/protocol';
import { RequestClient } from '../../../src/webview/messenger';

test('a response settles its own request only: an answer carrying another method is refused, not taken as the result', async () => {
  const sent: WebviewToHost[] = [];
  const client = new RequestClient((m) => sent.push(m));
  const history = client.request('history', { beforeSeq: null, limit: 10 });
  const probe = client.request('probeLocalServers', {});
  const [h, p] = sent.map((m) => (m.type === 'request' ? m.payload : assert.fail('not a request')));
  client.settle({ id: h!.id, method: 'probeLocalServers', ok: true, result: [] });
  await assert.rejects(history, /answered "probeLocalServers" to the request "history"/);
  client.settle({
    id: p!.id,
    method: 'probeLocalServers',
    ok: true,
    result: [{ name: 'Ollama', baseUrl: 'http://127.0.0.1:11434/v1', models: ['q'] }],
  });
  assert.deepEqual(await probe, [{ name: 'Ollama', baseUrl: 'http://127.0.0.1:11434/v1', models: ['q'] }]);
});

test('answerRequest runs the handler of the method asked for and tags the response with that method', async () => {
  const handlers: RequestHandlers = {
    history: async (params) => ({ records: [], hasMore: params.limit > 5 }),
    probeLocalServers: async () => [],
    saveApiKey: async (params) => ({ ok: params.key === 'good', message: 'checked' }),
    useServer: async (params) => ({ ok: true, message: params.baseUrl }),
    useEditorModel: async () => ({ ok: false, message: 'none' }),
  };
  assert.deepEqual(await answerRequest(handlers, { id: 7, method: 'saveApiKey', params: { key: 'good' } }), {
    id: 7,
    method: 'saveApiKey',
    ok: true,
    result: { ok: true, message: 'checked' },
  });
  assert.deepEqual(await answerRequest(handlers, { id: 8, method: 'history', params: { beforeSeq: null, limit: 9 } }), {
    id: 8,
    method: 'history',
    ok: true,
    result: { records: [], hasMore: true },
  });
});

test('dispatch hands each message to the handler of its type', () => {
  const seen: string[] = [];
  const handlers: MessageHandlers<HostToWebviewMessages> = {
    state: () => void seen.push('state'),
    agentEvent: (p) => void seen.push(`event ${p.event.type}`),
    response: () => void seen.push('response'),
    historyReset: () => void seen.push('reset'),
    userMessage: (p) => void seen.push(`user ${p.text}`),
    approval: () => void seen.push('approval'),
    approvalClosed: (p) => void seen.push(`closed ${p.id}`),
    actionFailed: (p) => void seen.push(`failed ${p.message}`),
    revealMessage: (p) => void seen.push(`reveal ${p.seq}`),
  };
  void dispatch(handlers, { type: 'userMessage', payload: { text: 'hi' } });
  void dispatch(handlers, { type: 'approvalClosed', payload: { id: 'a1' } });
  void dispatch(handlers, { type: 'revealMessage', payload: { recordId: 'r', seq: 4 } });
  assert.deepEqual(seen, ['user hi', 'closed a1', 'reveal 4']);
});
