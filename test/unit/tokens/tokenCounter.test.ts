import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { ChatMessage, ToolSchema } from '../../../src/core/interfaces/chatModel';
import { createTokenCounter, renderToolsForPrompt, withHeadroom } from '../../../src/core/tokens/tokenCounter';
import { TOKENIZER_HEADROOM_FRACTION } from '../../../src/core/limits';

const ROOT = path.resolve(__dirname, '../../..');

const PLAIN: ChatMessage[] = [
  {
    role: 'system',
    content:
      'You are MemGPT, a coding assistant with a memory that outlives each conversation.\n\n### Core memory\n<persona>\nI am helpful.\n</persona>',
  },
  { role: 'user', content: 'How do I read a file in Node?  Also: what does `fs.promises.readFile` return? 🤔' },
  { role: 'assistant', content: 'It returns a Promise<Buffer> unless you pass an encoding such as "utf8".' },
  { role: 'user', content: 'Thanks!\n\n```ts\nconst text = await readFile(path, "utf8");\n```' },
  { role: 'user', content: 'Texte en français, 日本語のテキスト, and <|endoftext|> as plain text.' },
];

const TOOLS: ToolSchema[] = [
  {
    type: 'function',
    function: {
      name: 'send_message',
      description: 'Sends a message to the human user.',
      parameters: {
        type: 'object',
        properties: { message: { type: 'string', description: 'Message contents. All unicode (including emojis) are supported.' } },
        required: ['message'],
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'conversation_search',
      description: 'Search prior conversation history using case-insensitive string matching.',
      parameters: {
        type: 'object',
        properties: {
          query: { type: 'string', description: 'String to search for.' },
          page: { type: 'integer', description: 'Allows you to page through results.' },
          mode: { type: 'string', enum: ['text', 'date'] },
          tags: { type: 'array', items: { type: 'string' } },
          request_heartbeat: { type: 'boolean', description: 'Request an immediate heartbeat after function execution.' },
        },
        required: ['query', 'request_heartbeat'],
      },
    },
  },
];

for (const [model, reference] of [
  ['gpt-4o', 'gpt-tokenizer/model/gpt-4o'],
  ['gpt-4', 'gpt-tokenizer/model/gpt-4'],
] as const) {
  test(`${model}: plain messages count as gpt-tokenizer's encodeChat does`, async () => {
    const counter = await createTokenCounter(model);
    const ref = await import(reference);
    const expected = ref.encodeChat(
      PLAIN.map((m) => ({ role: m.role as 'system' | 'user' | 'assistant', content: m.content ?? '' })),
      model,
      { disallowedSpecial: new Set() },
    ).length;
    const ours = counter.countMessages(PLAIN);
    assert.ok(Math.abs(ours - expected) <= 2, `ours ${ours} vs encodeChat ${expected}`);
    assert.equal(counter.countText('hello world'), ref.encode('hello world').length);
  });
}

test('requests with tools agree with gpt-tokenizer countChatCompletionTokens', async () => {
  const counter = await createTokenCounter('gpt-4o');
  const ref = await import('gpt-tokenizer/model/gpt-4o');
  const expected = ref.countChatCompletionTokens!({
    messages: PLAIN.map((m) => ({ role: m.role as 'system' | 'user' | 'assistant', content: m.content ?? '' })),
    functions: TOOLS.map((t) => t.function) as unknown as NonNullable<
      Parameters<NonNullable<typeof ref.countChatCompletionTokens>>[0]['functions']
    >,
  });
  const ours = counter.countRequest(PLAIN, TOOLS);
  assert.ok(Math.abs(ours - expected) <= 3, `ours ${ours} vs reference ${expected}`);
  assert.ok(counter.countTools(TOOLS) > 50, 'tool schemas are not free');
  assert.equal(counter.countTools([]), 0);
  const rendered = renderToolsForPrompt(TOOLS);
  assert.match(rendered, /type conversation_search = \(_: \{/);
  assert.match(rendered, /mode\?: "text" \| "date",/);
  assert.match(rendered, /tags\?: string\[\],/);
});

test('tool calls and tool results are counted', async () => {
  const counter = await createTokenCounter('gpt-4o-mini');
  const args = JSON.stringify({ message: 'Here is a fairly long reply with several words in it.', request_heartbeat: false });
  const bare: ChatMessage = { role: 'assistant', content: null };
  const withCall: ChatMessage = {
    role: 'assistant',
    content: 'Inner monologue.',
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'send_message', arguments: args } }],
  };
  const result: ChatMessage = { role: 'tool', content: '{"status": "OK", "message": null, "time": "2024-01-01"}', tool_call_id: 'call_1' };
  const expectedCall = counter.countText('Inner monologue.') + counter.countText('send_message') + counter.countText(args) + 3;
  assert.equal(counter.countMessage(withCall) - counter.countMessage(bare), expectedCall);
  assert.equal(counter.countMessage(result), 3 + counter.countText('tool') + counter.countText(result.content));
});

test('memoised: an unchanged queue is not tokenised again; a changed message is recounted', async () => {
  const counter = await createTokenCounter('gpt-4o');
  const queue: ChatMessage[] = Array.from({ length: 200 }, (_, i) => ({
    role: 'user' as const,
    content: `message number ${i} with some text`,
  }));
  const first = counter.countRequest(queue, TOOLS);
  const afterFirst = counter.cacheStats().tokenised;
  const second = counter.countRequest(queue, TOOLS);
  assert.equal(second, first);
  assert.equal(counter.cacheStats().tokenised, afterFirst, 'nothing tokenised on the second pass');

  const appended: ChatMessage = { role: 'user', content: 'a brand new message nobody has counted' };
  const third = counter.countRequest([...queue, appended], TOOLS);
  assert.equal(counter.cacheStats().tokenised, afterFirst + 1, 'only the new text is tokenised');
  assert.equal(third, first + counter.countMessage(appended));

  // Mutating a message in place must not return a stale count.
  const mutable = { role: 'user' as const, content: 'short' };
  const before = counter.countMessage(mutable);
  mutable.content = 'a much longer content that has clearly more tokens than before';
  assert.ok(counter.countMessage(mutable) > before);
});

test('special-token strings in text are counted as text, never thrown on', async () => {
  const counter = await createTokenCounter('gpt-4o');
  assert.ok(counter.countText('<|endoftext|><|im_start|>') > 2);
});

test('encoding and exactness follow the model', async () => {
  assert.equal((await createTokenCounter('gpt-4o')).encoding, 'o200k_base');
  assert.equal((await createTokenCounter('gpt-4o')).exact, true);
  const local = await createTokenCounter('qwen2.5-coder:7b');
  assert.equal(local.encoding, 'cl100k_base');
  assert.equal(local.exact, false);
});

test('withHeadroom adds the configured fraction', () => {
  assert.equal(withHeadroom(1000), Math.ceil(1000 * (1 + TOKENIZER_HEADROOM_FRACTION)));
  assert.equal(withHeadroom(0), 0);
});

test('the module does not import gpt-tokenizer at load time', () => {
  const source = readFileSync(path.join(ROOT, 'src/core/tokens/tokenCounter.ts'), 'utf8');
  assert.doesNotMatch(source, /^import[^;]*from\s+['"]gpt-tokenizer/m, 'no static import of gpt-tokenizer');
  assert.match(source, /import\('gpt-tokenizer\/encoding\/o200k_base'\)/);
});

test('bundled as CJS by esbuild, the lazy import still works and loads only on demand', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'token-bundle-'));
  const outfile = path.join(dir, 'counter.js');
  await build({
    entryPoints: [path.join(ROOT, 'src/core/tokens/tokenCounter.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'silent',
  });
  const script = path.join(dir, 'run.js');
  writeFileSync(
    script,
    `const t0 = performance.now();
     const m = require(${JSON.stringify(outfile)});
     const loaded = performance.now() - t0;
     m.createTokenCounter('gpt-4o').then((c) => {
       const ready = performance.now() - t0 - loaded;
       console.log(JSON.stringify({ n: c.countText('hello world'), loaded, ready }));
     });`,
  );
  const out = JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8' }).trim()) as {
    n: number;
    loaded: number;
    ready: number;
  };
  assert.equal(out.n, 2);
  // Not a timing assertion: the tables are built in createTokenCounter, so it must be the larger share.
  assert.ok(out.ready > out.loaded, `require ${out.loaded.toFixed(0)} ms vs first counter ${out.ready.toFixed(0)} ms`);
});

test('a long run without spaces (one BPE word) is counted in slices, within one token per slice of the exact count', async () => {
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
  const counter = await createTokenCounter('gpt-4o');
  for (const text of [
    'a'.repeat(5_000),
    '='.repeat(4_321),
    `const x = 1;\n${'Z'.repeat(3_000)} tail`,
    Buffer.from(Array.from({ length: 6_000 }, (_, i) => (i * 7919) % 256)).toString('base64'),
  ]) {
    const exact = countTokens(text);
    const sliced = counter.countText(text);
    const slices = Math.ceil(text.length / 1000) + 1;
    assert.ok(Math.abs(sliced - exact) <= slices, `${text.slice(0, 12)}…: ${sliced} vs exact ${exact}`);
  }
  // 200k identical letters: exact BPE takes ~25 s on one thread; sliced, it is counted at all.
  assert.ok(counter.countText('b'.repeat(200_000)) > 0);
  // Ordinary text is counted whole, exactly.
  const prose = 'The todo store keeps todos in memory only. '.repeat(100);
  assert.equal(counter.countText(prose), countTokens(prose));
});
