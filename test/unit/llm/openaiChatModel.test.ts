import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatModelError, type ChatRequest, type ToolSchema } from '../../../src/core/interfaces/chatModel';
import { OpenAIChatModel, PLACEHOLDER_API_KEY, retryDelayMs, type OpenAIChatModelOptions } from '../../../src/core/llm/openaiChatModel';
import { classifyError } from '../../../src/core/llm/chatModelErrors';
import { LLM_RETRY_MAX_DELAY_MS } from '../../../src/core/limits';
import {
  badKey,
  content,
  contextLengthError,
  errorStep,
  hang,
  rateLimited,
  reply,
  reset,
  sendMessage,
  serverError,
  startFakeOpenAIServer,
  toolCalls,
  unknownModel,
  type ContextLengthStyle,
  type FakeOpenAIServer,
} from '../../fixtures/fakeOpenAIServer';

const SEND_MESSAGE: ToolSchema = {
  type: 'function',
  function: {
    name: 'send_message',
    description: 'Sends a message to the user.',
    parameters: { type: 'object', properties: { message: { type: 'string', description: 'The text.' } }, required: ['message'] },
  },
};

const REQUEST: ChatRequest = {
  messages: [
    { role: 'system', content: 'You are MemGPT.' },
    { role: 'user', content: 'hello' },
  ],
  tools: [SEND_MESSAGE],
};

async function withServer(fn: (server: FakeOpenAIServer) => Promise<void>): Promise<void> {
  const server = await startFakeOpenAIServer({ models: ['zeta', 'gpt-4o-mini', 'alpha'] });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

function model(server: FakeOpenAIServer, extra: Partial<OpenAIChatModelOptions> = {}) {
  const sleeps: number[] = [];
  const chat = new OpenAIChatModel({
    baseUrl: server.url,
    model: 'gpt-4o-mini',
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...extra,
  });
  return { chat, sleeps };
}

async function rejectsWith(promise: Promise<unknown>, kind: ChatModelError['kind'], pattern?: RegExp): Promise<ChatModelError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ChatModelError, `expected ChatModelError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (pattern) assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected rejection with kind ${kind}`);
}

test('send_message text streams to the listener before the call completes', async () => {
  await withServer(async (server) => {
    const message = 'Hello "friend"!\nHere is caf\u00e9 and 😀 — streamed in pieces.';
    server.enqueue(sendMessage(message, { argumentChunkSize: 3, chunkDelayMs: 5, requestHeartbeat: false }));
    const { chat } = model(server);
    let settled = false;
    const deltas: { text: string; settled: boolean; id: string }[] = [];
    const starts: string[] = [];
    const pending = chat.complete(REQUEST, {
      onToolCallStart: (id, name) => starts.push(`${id}:${name}`),
      onSendMessageDelta: (id, text) => deltas.push({ text, settled, id }),
    });
    pending.then(() => (settled = true)).catch(() => undefined);
    const response = await pending;
    assert.ok(deltas.length > 5, `expected many deltas, got ${deltas.length}`);
    assert.ok(
      deltas.every((d) => !d.settled),
      'every delta arrived before complete() resolved',
    );
    assert.equal(deltas.map((d) => d.text).join(''), message);
    assert.equal(response.toolCalls.length, 1);
    const call = response.toolCalls[0]!;
    assert.equal(call.function.name, 'send_message');
    assert.deepEqual(JSON.parse(call.function.arguments), { message, request_heartbeat: false });
    assert.deepEqual(starts, [`${call.id}:send_message`]);
    assert.ok(deltas.every((d) => d.id === call.id));
    assert.equal(response.finishReason, 'tool_calls');
    assert.ok(response.usage && response.usage.promptTokens > 0);
  });
});

test('several tool calls and monologue content are assembled in order', async () => {
  await withServer(async (server) => {
    server.enqueue(
      toolCalls(
        [
          { name: 'core_memory_append', arguments: { label: 'human', content: 'Likes tea', request_heartbeat: true } },
          { name: 'send_message', arguments: { message: 'Noted!' } },
          { name: 'archival_memory_search', arguments: '{"query": "tea", "page": 0}' },
        ],
        { content: 'User shared a preference; saving it.', contentChunkSize: 3 },
      ),
    );
    const { chat } = model(server);
    const monologue: string[] = [];
    const started: string[] = [];
    const response = await chat.complete(REQUEST, {
      onContentDelta: (t) => monologue.push(t),
      onToolCallStart: (_id, name) => started.push(name),
    });
    assert.equal(response.content, 'User shared a preference; saving it.');
    assert.ok(monologue.length > 3);
    assert.equal(monologue.join(''), response.content);
    assert.deepEqual(started, ['core_memory_append', 'send_message', 'archival_memory_search']);
    assert.deepEqual(
      response.toolCalls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]),
      [
        ['core_memory_append', { label: 'human', content: 'Likes tea', request_heartbeat: true }],
        ['send_message', { message: 'Noted!' }],
        ['archival_memory_search', { query: 'tea', page: 0 }],
      ],
    );
    assert.equal(new Set(response.toolCalls.map((c) => c.id)).size, 3, 'ids are distinct');
  });
});

test('the request carries messages, tools, temperature, streaming and a placeholder key', async () => {
  await withServer(async (server) => {
    server.enqueue(content('ok'));
    const { chat } = model(server, { temperature: 0.7 });
    const history: ChatRequest = {
      messages: [
        ...REQUEST.messages,
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'send_message', arguments: '{"message":"hi"}' } }],
        },
        { role: 'tool', content: '{"status": "OK"}', tool_call_id: 'call_1' },
      ],
      tools: [SEND_MESSAGE],
    };
    const response = await chat.complete(history);
    assert.equal(response.content, 'ok');
    assert.deepEqual(response.toolCalls, []);
    const sent = server.chatRequests()[0]!;
    assert.equal(sent.headers.authorization, `Bearer ${PLACEHOLDER_API_KEY}`);
    assert.equal(sent.body.model, 'gpt-4o-mini');
    assert.equal(sent.body.stream, true);
    assert.equal(sent.body.temperature, 0.7);
    assert.deepEqual(sent.body.messages, history.messages);
    assert.deepEqual(sent.body.tools, [SEND_MESSAGE]);
  });
});

test('reasoning models get no temperature; an empty tool list sends no tools', async () => {
  await withServer(async (server) => {
    server.enqueue(content('ok'));
    const { chat } = model(server, { model: 'o3-mini' });
    await chat.complete({ messages: REQUEST.messages, tools: [] });
    const body = server.chatRequests()[0]!.body;
    assert.equal('temperature' in body, false);
    assert.equal('tools' in body, false);
  });
});

test('a tool call without an id from the server gets a generated one', async () => {
  await withServer(async (server) => {
    server.enqueue(toolCalls([{ name: 'send_message', arguments: { message: 'x' }, id: '' }]));
    const { chat } = model(server);
    const ids: string[] = [];
    const response = await chat.complete(REQUEST, { onSendMessageDelta: (id) => ids.push(id) });
    const id = response.toolCalls[0]!.id;
    assert.match(id, /^call_memgpt_/);
    assert.ok(ids.length > 0 && ids.every((i) => i === id));
  });
});

test('cancel mid-stream rejects with kind aborted at once', async () => {
  await withServer(async (server) => {
    // 200 fragments × 100 ms: 20 s if it were not cancelled.
    server.enqueue(sendMessage('x'.repeat(400), { argumentChunkSize: 2, chunkDelayMs: 100 }));
    const { chat } = model(server);
    const controller = new AbortController();
    let deltas = 0;
    const started = Date.now();
    const pending = chat.complete(
      { ...REQUEST, signal: controller.signal },
      {
        onSendMessageDelta: () => {
          deltas++;
          if (deltas === 2) controller.abort();
        },
      },
    );
    await rejectsWith(pending, 'aborted');
    assert.ok(Date.now() - started < 5000, 'rejected long before the stream would have ended');
    assert.equal(deltas, 2, 'no delta after the abort');
  });
});

test('cancel while the server hangs, and an already-aborted signal, reject with aborted', async () => {
  await withServer(async (server) => {
    server.enqueue(hang());
    const { chat } = model(server);
    const controller = new AbortController();
    const pending = chat.complete({ ...REQUEST, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await rejectsWith(pending, 'aborted');
    await rejectsWith(chat.complete({ ...REQUEST, signal: AbortSignal.abort() }), 'aborted');
  });
});

test('429 with Retry-After in seconds is honoured, then the call succeeds', async () => {
  await withServer(async (server) => {
    server.enqueue(rateLimited('2'), rateLimited('0.5'), sendMessage('finally'));
    const { chat, sleeps } = model(server);
    const response = await chat.complete(REQUEST);
    assert.deepEqual(sleeps, [2000, 500]);
    assert.equal(JSON.parse(response.toolCalls[0]!.function.arguments).message, 'finally');
    assert.equal(server.chatRequests().length, 3);
  });
});

test('Retry-After as an HTTP date and retry-after-ms are honoured; long waits within the deadline are capped', async () => {
  await withServer(async (server) => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    server.enqueue(
      errorStep(429, { headers: { 'retry-after': inTenSeconds } }),
      errorStep(503, { headers: { 'retry-after-ms': '1234' } }),
      errorStep(429, { headers: { 'retry-after': '3600' } }),
      content('ok'),
    );
    // A deadline longer than an hour, so the hour is waited (capped); past the deadline it fails at once (modelDeadline.test.ts).
    const { chat, sleeps } = model(server, { deadlineMs: 2 * 3_600_000 });
    await chat.complete(REQUEST);
    assert.equal(sleeps.length, 3);
    assert.ok(sleeps[0]! > 7000 && sleeps[0]! <= 10_000, `date-based wait ${sleeps[0]}`);
    assert.equal(sleeps[1], 1234);
    assert.equal(sleeps[2], LLM_RETRY_MAX_DELAY_MS);
  });
});

test('500 then success: retried with exponential back-off and jitter', async () => {
  await withServer(async (server) => {
    server.enqueue(serverError(500), serverError(502), content('recovered'));
    const { chat, sleeps } = model(server, { random: () => 0 });
    const response = await chat.complete(REQUEST);
    assert.equal(response.content, 'recovered');
    assert.deepEqual(sleeps, [retryDelayMs(0, undefined, () => 0), retryDelayMs(1, undefined, () => 0)]);
    assert.ok(sleeps[1]! > sleeps[0]!, 'back-off grows');
  });
});

test('retries stop after maxRetries and report the last error', async () => {
  await withServer(async (server) => {
    server.enqueue(serverError(500), serverError(500), serverError(500));
    const { chat, sleeps } = model(server, { maxRetries: 2 });
    await rejectsWith(chat.complete(REQUEST), 'server', /failed \(500/);
    assert.equal(sleeps.length, 2);
    assert.equal(server.chatRequests().length, 3);
  });
});

test('back-off delays: bounded jitter, doubling, capped', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const low = retryDelayMs(attempt, undefined, () => 0);
    const high = retryDelayMs(attempt, undefined, () => 0.999);
    assert.ok(low >= 0 && low <= high && high <= LLM_RETRY_MAX_DELAY_MS, `attempt ${attempt}: ${low}..${high}`);
  }
  assert.equal(
    retryDelayMs(1, undefined, () => 0) * 2,
    retryDelayMs(2, undefined, () => 0),
  );
  assert.equal(
    retryDelayMs(0, 99_999_999, () => 0),
    LLM_RETRY_MAX_DELAY_MS,
  );
});

test('abort during the back-off wait rejects with aborted', async () => {
  await withServer(async (server) => {
    server.enqueue(rateLimited('5'));
    const controller = new AbortController();
    const chat = new OpenAIChatModel({ baseUrl: server.url, model: 'gpt-4o-mini' }); // real sleep
    const pending = chat.complete({ ...REQUEST, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await rejectsWith(pending, 'aborted');
    assert.ok(Date.now() - started < 3000, 'did not sit out the 5 s Retry-After');
  });
});

test('401 and 404 give actionable errors and are not retried', async () => {
  await withServer(async (server) => {
    server.enqueue(badKey(), unknownModel('gpt-4o-mini'));
    const { chat, sleeps } = model(server, { apiKey: 'sk-bad' });
    const auth = await rejectsWith(chat.complete(REQUEST), 'auth', /API key was rejected \(401\).*MemGPT: Set API Key/);
    assert.equal(auth.status, 401);
    await rejectsWith(
      chat.complete(REQUEST),
      'not_found',
      new RegExp(`Model 'gpt-4o-mini' not found on ${server.url.replace(/[.]/g, '\\.')} \\(404.*MemGPT: Select Model`),
    );
    assert.deepEqual(sleeps, []);
    assert.equal(server.chatRequests().length, 2);
    assert.equal(server.chatRequests()[0]!.headers.authorization, 'Bearer sk-bad');
  });
});

test('an Ollama-style 404 suggests ollama pull', async () => {
  await withServer(async (server) => {
    server.enqueue(errorStep(404, { message: 'model "llama3.1" not found, try pulling it first', type: 'api_error' }));
    const { chat } = model(server, { model: 'llama3.1' });
    await rejectsWith(chat.complete(REQUEST), 'not_found', /ollama pull llama3\.1/);
  });
});

for (const style of ['openai', 'vllm', 'llamacpp', 'lmstudio', 'ollama'] as ContextLengthStyle[]) {
  test(`context-length error (${style} wording) → kind context_length, no retry`, async () => {
    await withServer(async (server) => {
      server.enqueue(contextLengthError(style));
      const { chat, sleeps } = model(server);
      await rejectsWith(chat.complete(REQUEST), 'context_length', /longer than the context window/);
      assert.deepEqual(sleeps, []);
    });
  });
}

test('llama.cpp context overflow reported with status 500 is still context_length', async () => {
  await withServer(async (server) => {
    server.enqueue(
      errorStep(500, {
        body: {
          error: {
            code: 500,
            message: 'the request exceeds the available context size. try increasing the context size or enable context shift',
            type: 'exceed_context_size_error',
          },
        },
      }),
    );
    const { chat, sleeps } = model(server);
    await rejectsWith(chat.complete(REQUEST), 'context_length');
    assert.deepEqual(sleeps, []);
  });
});

test('other 400s are bad_response with the server text, not retried', async () => {
  await withServer(async (server) => {
    server.enqueue(errorStep(400, { message: 'registry.ollama.ai/library/gemma:2b does not support tools', type: 'api_error' }));
    const { chat, sleeps } = model(server, { model: 'gemma:2b' });
    await rejectsWith(chat.complete(REQUEST), 'bad_response', /cannot call functions.*does not support tools/);
    assert.deepEqual(sleeps, []);
  });
});

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('connection refused → network error that says what to do; retried first', async () => {
  const port = await closedPort();
  const sleeps: number[] = [];
  const chat = new OpenAIChatModel({
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model: 'llama3.1',
    maxRetries: 2,
    sleep: async (ms) => void sleeps.push(ms),
  });
  await rejectsWith(
    chat.complete(REQUEST),
    'network',
    new RegExp(`The model server at http://127\\.0\\.0\\.1:${port}/v1 refused the connection\\. .*MemGPT: Base URL`),
  );
  assert.equal(sleeps.length, 2);
  await rejectsWith(chat.listModels(), 'network', /refused the connection/);
});

test('the refusal message names the local server by its usual port', async () => {
  const port = await closedPort();
  let refusal: unknown;
  try {
    await fetch(`http://127.0.0.1:${port}/`);
  } catch (err) {
    refusal = err;
  }
  const ollama = classifyError(refusal, { baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3.1' });
  assert.equal(ollama.error.kind, 'network');
  assert.equal(
    ollama.error.message,
    'The model server at http://127.0.0.1:11434/v1 refused the connection. Is Ollama running? Start it with `ollama serve`, or change MemGPT: Base URL.',
  );
  assert.match(classifyError(refusal, { baseUrl: 'http://localhost:1234/v1', model: 'm' }).error.message, /LM Studio/);
  assert.match(classifyError(refusal, { baseUrl: 'http://localhost:8080/v1', model: 'm' }).error.message, /llama-server/);
});

test('malformed SSE → bad_response, no crash, no retry', async () => {
  await withServer(async (server) => {
    server.enqueue(reply({ content: 'hello there', malformedAfterChunks: 2 }));
    const { chat, sleeps } = model(server);
    await rejectsWith(chat.complete(REQUEST), 'bad_response', /malformed/);
    assert.deepEqual(sleeps, []);
  });
});

test('connection reset before any output is retried; after output it is reported, not retried', async () => {
  await withServer(async (server) => {
    server.enqueue(reset(), content('second try'));
    const { chat, sleeps } = model(server);
    const ok = await chat.complete(REQUEST);
    assert.equal(ok.content, 'second try');
    assert.equal(sleeps.length, 1);

    server.enqueue(
      sendMessage('this will be cut off half way', { argumentChunkSize: 4, resetAfterChunks: 8, chunkDelayMs: 5 }),
      content('never'),
    );
    const shown: string[] = [];
    const err = await rejectsWith(chat.complete(REQUEST, { onSendMessageDelta: (_id, t) => shown.push(t) }), 'network');
    assert.match(err.message, /cut off after it had started/);
    assert.ok(shown.join('').length > 0, 'some text had been shown');
    assert.equal(server.pending(), 1, 'no retry was sent');
  });
});

test('a server that never answers times out with kind timeout', async () => {
  await withServer(async (server) => {
    server.enqueue(hang());
    const { chat } = model(server, { requestTimeoutMs: 150, maxRetries: 0 });
    await rejectsWith(chat.complete(REQUEST), 'timeout', /did not answer within/);
  });
});

test('listModels returns the ids sorted; a bad key is an auth error', async () => {
  await withServer(async (server) => {
    const { chat } = model(server);
    assert.deepEqual(await chat.listModels(), ['alpha', 'gpt-4o-mini', 'zeta']);
  });
  const locked = await startFakeOpenAIServer({ requireApiKey: 'sk-right' });
  try {
    const chat = new OpenAIChatModel({ baseUrl: locked.url, model: 'm', apiKey: 'sk-wrong' });
    await rejectsWith(chat.listModels(), 'auth', /401/);
  } finally {
    await locked.close();
  }
});

test('bad settings fail at construction with a clear message', () => {
  assert.throws(() => new OpenAIChatModel({ model: '' }), /Select Model/);
  assert.throws(() => new OpenAIChatModel({ model: 'm', baseUrl: 'not a url' }), /not a valid URL/);
});
