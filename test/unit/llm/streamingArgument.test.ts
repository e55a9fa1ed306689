import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingStringArgument } from '../../../src/core/llm/streamingArgument';

const CASES: { name: string; raw: string; expected: string }[] = [
  { name: 'plain', raw: '{"message": "Hello there"}', expected: 'Hello there' },
  {
    name: 'every simple escape',
    raw: JSON.stringify({ message: 'a"b\\c/d\be\ff\ng\rh\ti' }),
    expected: 'a"b\\c/d\be\ff\ng\rh\ti',
  },
  { name: 'escaped slash form', raw: '{"message":"x\\/y"}', expected: 'x/y' },
  { name: 'unicode escapes', raw: '{"message":"caf\\u00e9 \\u2014 \\u0041"}', expected: 'café — A' },
  { name: 'surrogate pair escape', raw: '{"message":"smile \\ud83d\\ude00!"}', expected: 'smile 😀!' },
  { name: 'raw emoji and CJK', raw: '{"message":"日本 😀 ok"}', expected: '日本 😀 ok' },
  {
    name: 'other keys first, nested values with a decoy message key',
    raw: '{"request_heartbeat": true, "meta": {"message": "decoy", "list": [1, {"a": "}"}]}, "n": -1.5e3, "s": "x\\"y", "message": "real"}',
    expected: 'real',
  },
  { name: 'message first then heartbeat', raw: '{"message":"first","request_heartbeat":false}', expected: 'first' },
  { name: 'whitespace everywhere', raw: ' \n{ \n "message" \n : \n "spaced" \n } ', expected: 'spaced' },
  { name: 'empty message', raw: '{"message": ""}', expected: '' },
  { name: 'code block in message', raw: JSON.stringify({ message: '```ts\nconst a = "b";\n```' }), expected: '```ts\nconst a = "b";\n```' },
];

function splitsOf(raw: string): string[][] {
  const out: string[][] = [[raw], Array.from(raw)];
  for (let i = 1; i < raw.length; i++) out.push([raw.slice(0, i), raw.slice(i)]);
  // A deterministic spread of three-way splits.
  for (let i = 1; i < raw.length; i += 3) {
    for (let j = i + 1; j < raw.length; j += 5) out.push([raw.slice(0, i), raw.slice(i, j), raw.slice(j)]);
  }
  return out;
}

for (const c of CASES) {
  test(`decodes "${c.name}" identically at every split point`, () => {
    assert.equal(JSON.parse(c.raw).message, c.expected, 'case is self-consistent');
    for (const pieces of splitsOf(c.raw)) {
      const decoder = new StreamingStringArgument();
      const deltas = pieces.map((p) => decoder.push(p));
      assert.equal(deltas.join(''), c.expected, `split ${JSON.stringify(pieces)}`);
      assert.equal(decoder.text, c.expected);
      assert.equal(decoder.complete, true);
    }
  });
}

test('emits text as it arrives, before the object closes', () => {
  const decoder = new StreamingStringArgument();
  assert.equal(decoder.push('{"mess'), '');
  assert.equal(decoder.push('age": "Hel'), 'Hel');
  assert.equal(decoder.complete, false);
  assert.equal(decoder.push('lo\\'), 'lo', 'a dangling backslash waits for the next fragment');
  assert.equal(decoder.push('nWor'), '\nWor');
  assert.equal(decoder.push('\\u00'), '');
  assert.equal(decoder.push('e9'), 'é');
  assert.equal(decoder.push('", "request_heartbeat": true}'), '');
  assert.equal(decoder.text, 'Hello\nWoré');
  assert.equal(decoder.complete, true);
});

test('yields nothing for arguments without the key, or for non-objects', () => {
  for (const raw of ['{"content": "x"}', '["message", "x"]', 'not json', '', '{"message": 42}']) {
    const decoder = new StreamingStringArgument();
    assert.equal(decoder.push(raw), '', raw);
    assert.equal(decoder.complete, false, raw);
  }
});

test('a repeated key does not duplicate the text', () => {
  const decoder = new StreamingStringArgument();
  assert.equal(decoder.push('{"message": "one", "message": "two"}'), 'one');
});

test('a lone high surrogate becomes U+FFFD instead of breaking the string', () => {
  const decoder = new StreamingStringArgument();
  assert.equal(decoder.push('{"message": "a\\ud83d b"}'), 'a\uFFFD b');
});

test('other target keys work', () => {
  const decoder = new StreamingStringArgument('content');
  assert.equal(decoder.push('{"label":"human","content":"likes \\"tea\\""}'), 'likes "tea"');
});
