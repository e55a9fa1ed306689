import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage, ChatRequest, ModelWait, ToolSchema } from '../../../src/core/interfaces/chatModel';
import { ChatModelError } from '../../../src/core/interfaces/chatModel';
import { AnthropicChatModel, toAnthropicRequest, type AnthropicChatModelOptions } from '../../../src/core/llm/anthropicChatModel';
import { OpenAIChatModel } from '../../../src/core/llm/openaiChatModel';
import { createChatModel } from '../../../src/core/runtime/chatModelFactory';
import { chatBaseUrl, chatProvider, embeddingsApiKey, modelConfigured } from '../../../src/core/runtime/runtimeConfig';
import { runtimeConfigFrom } from '../../../src/cli/config';
import { parseSettings } from '../../../src/vscode/settings';
import {
  contextTooLong,
  errorStep,
  hang,
  overloaded,
  rateLimited,
  startFakeAnthropicServer,
  text,
  validateMessagesBody,
  type FakeAnthropicServer,
  type MessagesBody,
} from '../../fixtures/fakeAnthropicServer';

const KEY = 'sk-ant-api03-test-key-0123456789abcdef';

const tool = (name: string, props: Record<string, { type: 'string' | 'boolean' }>): ToolSchema => ({
  type: 'function',
  function: { name, description: `${name} description`, parameters: { type: 'object', properties: props, required: Object.keys(props) } },
});
const SEND_MESSAGE = tool('send_message', { message: { type: 'string' } });
const APPEND = tool('core_memory_append', {
  label: { type: 'string' },
  content: { type: 'string' },
  request_heartbeat: { type: 'boolean' },
});

const REQUEST: ChatRequest = {
  messages: [
    { role: 'system', content: 'You are MemGPT.' },
    { role: 'user', content: 'hello' },
  ],
  tools: [SEND_MESSAGE, APPEND],
};

async function withServer(fn: (server: FakeAnthropicServer) => Promise<void>, apiKey: string | undefined = KEY): Promise<void> {
  const server = await startFakeAnthropicServer({ ...(apiKey ? { apiKey } : {}), models: ['claude-sonnet-4-5', 'claude-haiku-4-5'] });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

function model(server: FakeAnthropicServer, extra: Partial<AnthropicChatModelOptions> = {}) {
  const sleeps: number[] = [];
  const chat = new AnthropicChatModel({
    baseUrl: server.url,
    apiKey: KEY,
    model: 'claude-sonnet-4-5',
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...extra,
  });
  return { chat, sleeps };
}

/** Everything written to the console while `fn` runs. */
async function consoleOutput(fn: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  try {
    await fn();
  } finally {
    methods.forEach((m, i) => (console[m] = saved[i]!));
  }
  return lines.join('\n');
}

test('anthropic: streams text with the Messages API headers, the system message top-level, and usage from the server', async () => {
  await withServer(async (server) => {
    const { chat } = model(server);
    server.enqueue(text('Hello there, friend.'));
    const deltas: string[] = [];
    const r = await chat.complete(REQUEST, { onContentDelta: (d) => deltas.push(d) });
    assert.equal(r.content, 'Hello there, friend.');
    assert.ok(deltas.length > 1, 'streamed in pieces');
    assert.equal(deltas.join(''), 'Hello there, friend.');
    assert.equal(r.finishReason, 'stop');
    assert.deepEqual(r.toolCalls, []);
    const req = server.requests[0]!;
    assert.equal(req.path, '/v1/messages');
    assert.equal(req.headers['x-api-key'], KEY);
    assert.equal(req.headers['anthropic-version'], '2023-06-01');
    assert.equal(req.headers.authorization, undefined, 'no bearer header');
    assert.equal(req.body.stream, true);
    assert.equal(req.body.model, 'claude-sonnet-4-5');
    assert.ok(req.body.max_tokens > 0);
    assert.equal(req.body.system?.[0]?.text, 'You are MemGPT.');
    assert.deepEqual(req.body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'hello', cache_control: { type: 'ephemeral' } }] },
    ]);
    assert.deepEqual(
      req.body.tools?.map((t) => t.name),
      ['send_message', 'core_memory_append'],
    );
    assert.deepEqual(req.body.tools?.[0]?.input_schema, SEND_MESSAGE.function.parameters);
    assert.ok(r.usage && r.usage.promptTokens > 0 && r.usage.completionTokens > 0);
    assert.equal(
      r.usage.promptTokens,
      req.usage!.input_tokens + req.usage!.cache_read_input_tokens + req.usage!.cache_creation_input_tokens,
    );
  });
});

test('anthropic: a tool_use block streams as our tool call, send_message text decoded as it arrives, ids kept', async () => {
  await withServer(async (server) => {
    const { chat } = model(server);
    server.enqueue({
      kind: 'reply',
      text: 'I greet them.',
      toolUses: [{ name: 'send_message', input: { message: 'Hi "you" \u00e9!' }, id: 'toolu_01ABC' }],
      jsonChunkSize: 3,
    });
    const started: [string, string][] = [];
    const sends: string[] = [];
    const r = await chat.complete(REQUEST, {
      onToolCallStart: (id, name) => started.push([id, name]),
      onSendMessageDelta: (_id, t) => sends.push(t),
    });
    assert.equal(r.content, 'I greet them.');
    assert.deepEqual(started, [['toolu_01ABC', 'send_message']]);
    assert.equal(sends.join(''), 'Hi "you" \u00e9!');
    assert.ok(sends.length > 1, 'incrementally');
    assert.equal(r.toolCalls.length, 1);
    assert.equal(r.toolCalls[0]!.id, 'toolu_01ABC');
    assert.deepEqual(JSON.parse(r.toolCalls[0]!.function.arguments), { message: 'Hi "you" \u00e9!' });
    assert.equal(r.finishReason, 'tool_calls');
  });
});

test('anthropic: our messages map to valid Messages API turns (tool_use, tool_result first, merged roles, ids kept)', () => {
  const messages: ChatMessage[] = [
    { role: 'system', content: 'SYSTEM' },
    { role: 'user', content: 'Note: prior messages (4 of 9 total messages) have been hidden… summary text' },
    { role: 'user', content: 'remember I like tea' },
    {
      role: 'assistant',
      content: 'Saving it.',
      tool_calls: [
        {
          id: 'toolu_1',
          type: 'function',
          function: { name: 'core_memory_append', arguments: '{"label":"human","content":"likes tea","request_heartbeat":true}' },
        },
        { id: 'call.odd:id', type: 'function', function: { name: 'send_message', arguments: '{broken' } },
      ],
    },
    { role: 'tool', tool_call_id: 'toolu_1', content: '{"status":"OK"}' },
    { role: 'user', content: '[file saved: a.ts]' },
    { role: 'tool', tool_call_id: 'call.odd:id', content: '{"status":"Failed"}' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'toolu_2', type: 'function', function: { name: 'send_message', arguments: '{"message":"ok"}' } }],
    },
    { role: 'tool', tool_call_id: 'toolu_2', content: '{"status":"OK"}' },
  ];
  const body = toAnthropicRequest(
    { messages, tools: [SEND_MESSAGE, APPEND], stablePrefix: 2 },
    { model: 'claude-x', maxTokens: 100, temperature: 0.2 },
  );
  assert.equal(validateMessagesBody(body as unknown as MessagesBody), null);
  assert.deepEqual(body.system, [{ type: 'text', text: 'SYSTEM', cache_control: { type: 'ephemeral' } }]);
  assert.deepEqual(
    body.messages.map((m) => m.role),
    ['user', 'assistant', 'user', 'assistant', 'user'],
  );
  const [summaryAndUser, assistant, results] = body.messages;
  assert.equal(summaryAndUser!.content.length, 2, 'summary and the next user message merged');
  assert.deepEqual(summaryAndUser!.content[0], { type: 'text', text: messages[1]!.content, cache_control: { type: 'ephemeral' } });
  assert.equal(summaryAndUser!.content[1]!.cache_control, undefined);
  assert.deepEqual(assistant!.content[1], {
    type: 'tool_use',
    id: 'toolu_1',
    name: 'core_memory_append',
    input: { label: 'human', content: 'likes tea', request_heartbeat: true },
  });
  assert.deepEqual(
    assistant!.content[2],
    { type: 'tool_use', id: 'call_odd_id', name: 'send_message', input: {} },
    'broken arguments become {}; the id is made valid',
  );
  assert.deepEqual(
    results!.content.map((b) => b.type),
    ['tool_result', 'tool_result', 'text'],
    'results first, then the event',
  );
  assert.equal(results!.content[1]!.type === 'tool_result' && results!.content[1]!.tool_use_id, 'call_odd_id');
  // Breakpoints: last tool, last system block, the summary, the newest message: four at most.
  const marked = [
    ...(body.tools ?? []).filter((t) => t.cache_control),
    ...(body.system ?? []).filter((s) => s.cache_control),
    ...body.messages.flatMap((m) => m.content.filter((b) => b.cache_control)),
  ];
  assert.equal(marked.length, 4);
  assert.equal(body.tools?.[1]?.cache_control?.type, 'ephemeral');
  assert.equal(body.tools?.[0]?.cache_control, undefined);
  assert.equal(body.messages.at(-1)!.content.at(-1)!.cache_control?.type, 'ephemeral');
});

test('anthropic: without a summary, no breakpoint lands on the first user message; an assistant-first queue gets a user opener', () => {
  const body = toAnthropicRequest(
    {
      messages: [
        { role: 'system', content: 'S' },
        { role: 'assistant', content: 'left over' },
        { role: 'user', content: 'hi' },
        { role: 'user', content: 'there' },
      ],
      tools: [],
      stablePrefix: 1,
    },
    { model: 'claude-x', maxTokens: 100 },
  );
  assert.equal(validateMessagesBody(body as unknown as MessagesBody), null);
  assert.equal(body.tools, undefined);
  assert.equal(body.messages[0]!.role, 'user');
  const marks = body.messages.flatMap((m) => m.content.filter((b) => b.cache_control));
  assert.equal(marks.length, 1, 'only the newest message');
  assert.equal(body.messages.at(-1)!.content.at(-1)!.cache_control?.type, 'ephemeral');
});

test('anthropic: 429 with retry-after and 529 overloaded are retried under the same rules, with onWait notices', async () => {
  await withServer(async (server) => {
    const { chat, sleeps } = model(server);
    server.enqueue(rateLimited('2'), overloaded(), text('finally'));
    const waits: ModelWait[] = [];
    const r = await chat.complete(REQUEST, { onWait: (w) => waits.push(w) });
    assert.equal(r.content, 'finally');
    assert.equal(sleeps[0], 2000, 'retry-after honoured');
    assert.equal(sleeps.length, 2);
    const reasons = waits.filter((w) => w.kind === 'retrying').map((w) => (w.kind === 'retrying' ? w.reason : ''));
    assert.match(reasons[0]!, /rate-limiting requests \(429: Number of request tokens/);
    assert.match(reasons[1]!, /is overloaded \(529: Overloaded\)\. Try again in a moment\./);
  });
});

test('anthropic: a retry-after beyond the deadline fails at once with the same words as the OpenAI client', async () => {
  await withServer(async (server) => {
    const { chat, sleeps } = model(server, { requestTimeoutMs: 2000 });
    server.enqueue(rateLimited('60'));
    await assert.rejects(chat.complete(REQUEST), (e: unknown) => {
      assert.ok(e instanceof ChatModelError);
      assert.equal(e.kind, 'rate_limited');
      assert.match(
        e.message,
        /asked to wait 60 s \(429 rate limit\), longer than the 4 s deadline\. Try again later, or raise MemGPT: Request Timeout\./,
      );
      return true;
    });
    assert.deepEqual(sleeps, []);
  });
});

test('anthropic: overloaded past the retries ends as a server error', async () => {
  await withServer(async (server) => {
    const { chat, sleeps } = model(server, { maxRetries: 2 });
    server.enqueue(overloaded(), overloaded(), overloaded());
    await assert.rejects(chat.complete(REQUEST), (e: unknown) => e instanceof ChatModelError && e.kind === 'server' && e.status === 529);
    assert.equal(sleeps.length, 2);
    assert.equal(server.messageRequests().length, 3);
  });
});

test('anthropic: a 400 "prompt is too long" is our context-length error (the agent flushes), never retried', async () => {
  await withServer(async (server) => {
    const { chat, sleeps } = model(server);
    server.enqueue(contextTooLong());
    await assert.rejects(chat.complete(REQUEST), (e: unknown) => {
      assert.ok(e instanceof ChatModelError);
      assert.equal(e.kind, 'context_length');
      assert.match(
        e.message,
        /longer than the context window of 'claude-sonnet-4-5' \(400: prompt is too long: 212345 tokens > 200000 maximum\)\. The agent will summarise older messages/,
      );
      return true;
    });
    assert.deepEqual(sleeps, []);
    server.enqueue(errorStep(400, 'invalid_request_error', 'input length and `max_tokens` exceed context limit: 198000 + 4096 > 200000'));
    await assert.rejects(chat.complete(REQUEST), (e: unknown) => e instanceof ChatModelError && e.kind === 'context_length');
  });
});

test('anthropic: error events in the stream: before any output retried, after output reported as cut off', async () => {
  await withServer(async (server) => {
    const { chat, sleeps } = model(server);
    server.enqueue(text('x', { errorBeforeContent: { type: 'overloaded_error', message: 'Overloaded' } }), text('ok'));
    assert.equal((await chat.complete(REQUEST)).content, 'ok');
    assert.equal(sleeps.length, 1);
    server.enqueue(text('partial words', { streamError: { type: 'overloaded_error', message: 'Overloaded' } }));
    const shown: string[] = [];
    await assert.rejects(chat.complete(REQUEST, { onContentDelta: (d) => shown.push(d) }), (e: unknown) => {
      assert.ok(e instanceof ChatModelError);
      assert.equal(e.kind, 'server');
      assert.match(e.message, /overloaded \(529: Overloaded\).*The reply was cut off after it had started, so it was not retried\./);
      return true;
    });
    assert.equal(shown.join(''), 'partial words');
  });
});

test('anthropic: a silent server times out under memgpt.requestTimeoutSeconds', async () => {
  await withServer(async (server) => {
    const { chat } = model(server, { requestTimeoutMs: 300, maxRetries: 0 });
    server.enqueue(hang());
    const started = Date.now();
    await assert.rejects(chat.complete(REQUEST), (e: unknown) => {
      assert.ok(e instanceof ChatModelError);
      assert.equal(e.kind, 'timeout');
      assert.match(e.message, /did not answer within 0\.3 s/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  });
});

test('anthropic: the key is never in an error, a retry notice or the console, even when the server echoes it', async () => {
  await withServer(async (server) => {
    const wrong = 'sk-ant-api03-wrong-key-abcdefghijklmnop';
    const { chat } = model(server, { apiKey: wrong });
    const waits: string[] = [];
    let message = '';
    const output = await consoleOutput(async () => {
      await assert.rejects(chat.complete(REQUEST, { onWait: (w) => waits.push(JSON.stringify(w)) }), (e: unknown) => {
        assert.ok(e instanceof ChatModelError);
        assert.equal(e.kind, 'auth');
        message = e.message;
        return true;
      });
      await assert.rejects(chat.listModels(), (e: unknown) => e instanceof ChatModelError && !e.message.includes(wrong));
    });
    assert.match(message, /The API key was rejected \(401\)/);
    assert.match(message, /MemGPT: Set API Key/);
    assert.ok(!message.includes(wrong), message);
    assert.ok(!output.includes(wrong));
    assert.ok(!waits.join('').includes(wrong));
  });
});

test('anthropic: listModels reads /v1/models; a base URL ending in /v1 is accepted', async () => {
  await withServer(async (server) => {
    const chat = new AnthropicChatModel({ baseUrl: `${server.url}/v1/`, apiKey: KEY, model: 'model-list' });
    assert.deepEqual(await chat.listModels(), ['claude-haiku-4-5', 'claude-sonnet-4-5']);
    assert.equal(chat.baseUrl, server.url);
  });
});

test("anthropic: provider selection: the setting, the CLI flag, auto on api.anthropic.com, keys from the provider's own variable", () => {
  assert.equal(chatProvider({ baseUrl: '' }), 'openai');
  assert.equal(chatProvider({ baseUrl: '', provider: 'anthropic' }), 'anthropic');
  assert.equal(chatProvider({ baseUrl: 'https://api.anthropic.com' }), 'anthropic');
  assert.equal(chatProvider({ baseUrl: 'http://127.0.0.1:11434/v1', provider: 'openai' }), 'openai');
  assert.equal(chatBaseUrl({ baseUrl: '', provider: 'anthropic' }), 'https://api.anthropic.com');
  assert.equal(chatBaseUrl({ baseUrl: '' }), 'https://api.openai.com/v1');
  assert.ok(createChatModel({ baseUrl: 'https://api.anthropic.com', temperature: 0.2 }, 'claude-sonnet-4-5') instanceof AnthropicChatModel);
  assert.ok(createChatModel({ baseUrl: 'http://127.0.0.1:11434/v1', temperature: 0.2 }, 'llama3.1') instanceof OpenAIChatModel);
  assert.equal(modelConfigured('', false, 'anthropic'), false, 'Anthropic needs a key');
  assert.equal(modelConfigured('', true, 'anthropic'), true);
  // An Anthropic key never goes to an embeddings server.
  assert.equal(
    embeddingsApiKey({ baseUrl: '', provider: 'anthropic', apiKey: KEY, embeddings: { baseUrl: 'https://api.openai.com/v1', model: 'm' } }),
    undefined,
  );

  const env = { OPENAI_API_KEY: 'sk-openai', ANTHROPIC_API_KEY: KEY, OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' };
  const cli = runtimeConfigFrom({ provider: 'anthropic' }, env);
  assert.equal(cli.provider, 'anthropic');
  assert.equal(cli.apiKey, KEY);
  assert.equal(cli.baseUrl, '', 'OPENAI_BASE_URL is not the Anthropic endpoint');
  const openai = runtimeConfigFrom({}, env);
  assert.equal(openai.apiKey, 'sk-openai');
  assert.equal(openai.provider, undefined);
  assert.equal(runtimeConfigFrom({ 'base-url': 'https://api.anthropic.com' }, env).apiKey, KEY, 'auto by URL');
  assert.throws(() => runtimeConfigFrom({ provider: 'gemini' }, env), /--provider "gemini" is not known: give openai or anthropic/);

  const parsed = parseSettings((key) => (key === 'provider' ? 'anthropic' : undefined), {
    OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
    ANTHROPIC_BASE_URL: 'https://proxy.example/anthropic',
  });
  assert.equal(parsed.settings.provider, 'anthropic');
  assert.equal(parsed.settings.baseUrl, 'https://proxy.example/anthropic');
  const bad = parseSettings((key) => (key === 'provider' ? 'claude' : undefined));
  assert.equal(bad.settings.provider, 'openai');
  assert.match(bad.problems.join('\n'), /memgpt\.provider is "claude", but it must be "openai", "anthropic" or "vscode-lm"/);
});
