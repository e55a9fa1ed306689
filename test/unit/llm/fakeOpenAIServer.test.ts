import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import {
  badKey,
  content,
  contextLengthError,
  errorStep,
  fakeEmbedding,
  loadScript,
  rateLimited,
  reply,
  sendMessage,
  startFakeOpenAIServer,
  toolCalls,
} from '../../fixtures/fakeOpenAIServer';

const client = (url: string) => new OpenAI({ baseURL: url, apiKey: 'test-key', maxRetries: 0 });

test('streams tool calls the way OpenAI does, in small argument fragments', async () => {
  const server = await startFakeOpenAIServer();
  try {
    server.enqueue(
      toolCalls(
        [
          { name: 'send_message', arguments: { message: 'Hi "there"\nbye' } },
          { name: 'core_memory_append', arguments: '{"label": "human", "content": "x"', id: 'call_raw' },
        ],
        { content: 'inner thoughts', argumentChunkSize: 5 },
      ),
    );
    const stream = await client(server.url).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const args = ['', ''];
    const names: string[] = [];
    let argumentDeltas = 0;
    let finish: string | null = null;
    let usageSeen = false;
    for await (const chunk of stream) {
      if (chunk.usage) usageSeen = true;
      const choice = chunk.choices[0];
      if (!choice) continue;
      text += choice.delta.content ?? '';
      for (const tc of choice.delta.tool_calls ?? []) {
        if (tc.function?.name) names[tc.index] = tc.function.name;
        if (tc.function?.arguments) {
          args[tc.index] += tc.function.arguments;
          argumentDeltas++;
        }
      }
      finish = choice.finish_reason ?? finish;
    }
    assert.equal(text, 'inner thoughts');
    assert.deepEqual(names, ['send_message', 'core_memory_append']);
    assert.deepEqual(JSON.parse(args[0]!), { message: 'Hi "there"\nbye' });
    assert.equal(args[1], '{"label": "human", "content": "x"', 'raw (broken) arguments are sent as is');
    assert.ok(argumentDeltas > 8, `arguments should arrive in many fragments, got ${argumentDeltas}`);
    assert.equal(finish, 'tool_calls');
    assert.ok(usageSeen, 'usage chunk is sent when include_usage is set');
    const recorded = server.chatRequests()[0]!;
    assert.equal(recorded.body.model, 'gpt-4o-mini');
    assert.equal(recorded.body.messages[0]?.content, 'hello');
    assert.equal(recorded.headers.authorization, 'Bearer test-key');
  } finally {
    await server.close();
  }
});

test('answers non-streamed requests with a chat.completion object', async () => {
  const server = await startFakeOpenAIServer({ steps: [sendMessage('done', { id: 'call_x' })] });
  try {
    const completion = await client(server.url).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'q' }],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.id, 'call_x');
    assert.deepEqual(JSON.parse(call.function.arguments), { message: 'done' });
    assert.equal(completion.choices[0]?.finish_reason, 'tool_calls');
  } finally {
    await server.close();
  }
});

test('errors carry status, OpenAI-shaped body and headers', async () => {
  const server = await startFakeOpenAIServer({ steps: [rateLimited('3'), contextLengthError('openai'), badKey()] });
  try {
    const c = client(server.url);
    const call = () => c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'q' }] });
    await assert.rejects(call(), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 429);
      assert.equal(err.headers?.get('retry-after'), '3');
      return true;
    });
    await assert.rejects(call(), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'context_length_exceeded');
      return true;
    });
    await assert.rejects(call(), (err: unknown) => err instanceof OpenAI.APIError && err.status === 401);
    // Queue empty: a clear 500, never a hang.
    await assert.rejects(call(), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 500);
      assert.match(err.message, /fake server: script exhausted/);
      return true;
    });
  } finally {
    await server.close();
  }
});

test('a responder answers when the queue is empty; rejectUnknownModels gives 404', async () => {
  const server = await startFakeOpenAIServer({
    models: ['known'],
    rejectUnknownModels: true,
    responder: (req) => {
      const body = req.body as { messages: { content: string }[] };
      return content(`echo: ${body.messages.at(-1)?.content}`);
    },
  });
  try {
    const c = client(server.url);
    const ok = await c.chat.completions.create({ model: 'known', messages: [{ role: 'user', content: 'ping' }] });
    assert.equal(ok.choices[0]?.message.content, 'echo: ping');
    await assert.rejects(
      c.chat.completions.create({ model: 'other', messages: [{ role: 'user', content: 'ping' }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 404 && /other/.test(err.message),
    );
    const models = await c.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['known'],
    );
  } finally {
    await server.close();
  }
});

test('embeddings are deterministic, normalised, base64 or float, and similar texts are closer', async () => {
  const server = await startFakeOpenAIServer({ embeddingDimensions: 32 });
  try {
    const c = client(server.url);
    const viaBase64 = await c.embeddings.create({ model: 'e', input: ['parse the config file', 'parse config', 'banana'] });
    const viaFloat = await c.embeddings.create({ model: 'e', input: 'parse the config file', encoding_format: 'float' });
    assert.equal(server.requests[0]?.path, '/v1/embeddings');
    assert.equal((server.requests[0]?.body as { encoding_format: string }).encoding_format, 'base64');
    const [a, b, z] = viaBase64.data.map((d) => Array.from(d.embedding as unknown as ArrayLike<number>));
    assert.equal(a!.length, 32);
    const f = viaFloat.data[0]!.embedding;
    a!.forEach((x, i) => assert.ok(Math.abs(x - f[i]!) < 1e-6));
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    assert.ok(Math.abs(dot(a!, a!) - 1) < 1e-5);
    assert.ok(dot(a!, b!) > dot(a!, z!), 'texts sharing words score higher');
    assert.deepEqual(Array.from(fakeEmbedding('same', 8)), Array.from(fakeEmbedding('same', 8)));
    server.enqueueEmbeddings(errorStep(503, { message: 'overloaded' }));
    await assert.rejects(
      c.embeddings.create({ model: 'e', input: 'x' }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 503,
    );
  } finally {
    await server.close();
  }
});

test('close() ends hanging requests so tests never wait for ever', async () => {
  const server = await startFakeOpenAIServer({ steps: [{ kind: 'hang' }] });
  const pending = client(server.url).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'q' }] });
  const outcome = pending.then(
    () => 'resolved',
    () => 'rejected',
  );
  await new Promise((r) => setTimeout(r, 50));
  await server.close();
  assert.equal(await outcome, 'rejected');
});

test('malformed SSE makes the SDK throw instead of hanging', async () => {
  const server = await startFakeOpenAIServer({ steps: [reply({ content: 'hello world', malformedAfterChunks: 2 })] });
  try {
    const stream = await client(server.url).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'q' }],
      stream: true,
    });
    await assert.rejects(async () => {
      for await (const _ of stream) void _;
    }, /malformed/);
  } finally {
    await server.close();
  }
});

test('CLI prints FAKE_OPENAI_URL and serves rules from a script file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-openai-'));
  const script = path.join(dir, 'script.json');
  writeFileSync(
    script,
    JSON.stringify({
      rules: [{ match: 'weather', reply: { kind: 'reply', toolCalls: [{ name: 'send_message', arguments: { message: 'Sunny.' } }] } }],
      fallback: { kind: 'reply', content: 'no rule matched' },
    }),
  );
  const fixture = path.resolve(__dirname, '../../fixtures/fakeOpenAIServer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, '--port', '0', '--script', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /FAKE_OPENAI_URL=(\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => reject(new Error(`CLI exited ${code}: ${err}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const c = client(url);
    const a = await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'How is the Weather?' }] });
    const call = a.choices[0]?.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'send_message');
    const b = await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'something else' }] });
    assert.equal(b.choices[0]?.message.content, 'no rule matched');
  } finally {
    child.kill('SIGTERM');
  }
});

test('CLI rejects a bad script file with a clear message', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-openai-'));
  const script = path.join(dir, 'bad.json');
  writeFileSync(script, '[{"kind": "nonsense"}]');
  const fixture = path.resolve(__dirname, '../../fixtures/fakeOpenAIServer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, '--script', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(err, /no valid "kind"/);
});

test('rules answer a heartbeat follow-up with followUp, never the same call again', async () => {
  const file = path.resolve(__dirname, '../../fixtures/fakeOpenAI/demo-script.json');
  const script = loadScript(file);
  const server = await startFakeOpenAIServer({ steps: script.steps, ...(script.responder ? { responder: script.responder } : {}) });
  try {
    const c = client(server.url);
    const first = await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Please REMEMBER that I use tabs' }] });
    const call = first.choices[0]?.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'core_memory_append');
    const second = await c.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'user', content: 'Please REMEMBER that I use tabs' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', content: '{"status": "OK"}', tool_call_id: call.id },
      ],
    });
    const follow = second.choices[0]?.message.tool_calls?.[0];
    assert.ok(follow && follow.type === 'function');
    assert.equal(follow.function.name, 'send_message');
    const fallback = await c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'zzz' }] });
    assert.match(JSON.stringify(fallback.choices[0]?.message), /demo server/);
  } finally {
    await server.close();
  }
});
