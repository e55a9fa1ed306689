import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseToolArguments } from '../../../src/core/llm/jsonRepair';
import { FUNCTION_ARGUMENTS_MAX_CHARS } from '../../../src/core/limits';

type Case =
  { name: string; input: string; value: Record<string, unknown>; repair?: RegExp | null } | { name: string; input: string; error: RegExp };

/** The broken-JSON corpus: what small models actually send, and what we make of it. */
const CORPUS: Case[] = [
  // Valid input passes untouched.
  {
    name: 'valid object',
    input: '{"message": "hi", "request_heartbeat": true}',
    value: { message: 'hi', request_heartbeat: true },
    repair: null,
  },
  { name: 'valid with whitespace', input: '  \n{"a":1}\n ', value: { a: 1 }, repair: null },
  { name: 'nested values', input: '{"a": {"b": [1, 2, {"c": null}]}}', value: { a: { b: [1, 2, { c: null }] } }, repair: null },
  { name: 'empty string means no arguments', input: '', value: {}, repair: /empty/ },
  { name: 'empty object', input: '{}', value: {}, repair: null },
  // Missing closers / truncation.
  { name: 'missing closing brace', input: '{"message": "hi"', value: { message: 'hi' }, repair: /closed 1 brace/ },
  { name: 'missing two braces', input: '{"a": {"b": 1', value: { a: { b: 1 } }, repair: /closed 2 braces/ },
  { name: 'missing bracket and brace', input: '{"items": [1, 2', value: { items: [1, 2] }, repair: /1 brace and 1 bracket/ },
  { name: 'truncated inside string', input: '{"message": "Hello wor', value: { message: 'Hello wor' }, repair: /closed the open string/ },
  { name: 'truncated after escape', input: '{"message": "line\\', value: { message: 'line' }, repair: /cut off/ },
  { name: 'truncated inside \\u escape', input: '{"message": "caf\\u00', value: { message: 'caf' }, repair: /cut off/ },
  { name: 'truncated after comma', input: '{"message": "hi",', value: { message: 'hi' }, repair: /cut off/ },
  { name: 'truncated after key', input: '{"message": "hi", "request_heartbeat"', value: { message: 'hi' }, repair: /dropped a key/ },
  { name: 'truncated after colon', input: '{"message": "hi", "request_heartbeat":', value: { message: 'hi' }, repair: /dropped a key/ },
  {
    name: 'truncated literal',
    input: '{"message": "hi", "request_heartbeat": tr',
    value: { message: 'hi', request_heartbeat: true },
    repair: /completed "tr" to true/,
  },
  { name: 'truncated inside key', input: '{"message": "hi", "reque', value: { message: 'hi' }, repair: /dropped a key/ },
  // Trailing material.
  { name: 'garbage suffix <|im_end|>', input: '{"message": "hi"}<|im_end|>', value: { message: 'hi' }, repair: /trailing text.*im_end/ },
  { name: 'garbage suffix </s>', input: '{"a": 1}</s>', value: { a: 1 }, repair: /trailing text/ },
  { name: 'trailing prose', input: '{"a": 1} I hope this helps!', value: { a: 1 }, repair: /trailing text/ },
  {
    name: 'two objects back to back',
    input: '{"message": "one"}{"message": "two"}',
    value: { message: 'one' },
    repair: /two JSON objects/,
  },
  { name: 'two objects on lines', input: '{"a": 1}\n{"a": 2}', value: { a: 1 }, repair: /two JSON objects/ },
  { name: 'extra closing brace', input: '{"a": 1}}', value: { a: 1 }, repair: /trailing text/ },
  // Wrappers and prefixes.
  { name: 'json code fence', input: '```json\n{"message": "hi"}\n```', value: { message: 'hi' }, repair: /code fence/ },
  { name: 'bare code fence', input: '```\n{"a": 1}\n```', value: { a: 1 }, repair: /code fence/ },
  { name: 'unterminated code fence', input: '```json\n{"a": 1}', value: { a: 1 }, repair: /code fence/ },
  { name: 'prose before object', input: 'Here you go: {"a": 1}', value: { a: 1 }, repair: /text before/ },
  // Strings.
  {
    name: 'raw newline in string',
    input: '{"message": "line one\nline two"}',
    value: { message: 'line one\nline two' },
    repair: /raw newlines/,
  },
  { name: 'raw tab in string', input: '{"message": "a\tb"}', value: { message: 'a\tb' }, repair: /raw newlines\/tabs/ },
  { name: 'raw CRLF in string', input: '{"m": "a\r\nb"}', value: { m: 'a\r\nb' }, repair: /raw/ },
  {
    name: 'single quotes, unambiguous',
    input: "{'message': 'hello', 'request_heartbeat': false}",
    value: { message: 'hello', request_heartbeat: false },
    repair: /single-quoted/,
  },
  {
    name: 'escaped single quote in single-quoted string',
    input: "{'message': 'it\\'s'}",
    value: { message: "it's" },
    repair: /single-quoted/,
  },
  {
    name: 'braces inside strings do not end the object',
    input: '{"code": "if (a) { b(); }"} trailing',
    value: { code: 'if (a) { b(); }' },
    repair: /trailing text/,
  },
  // Other common slips.
  { name: 'trailing comma in object', input: '{"a": 1, "b": 2,}', value: { a: 1, b: 2 }, repair: /trailing commas/ },
  { name: 'trailing comma in array', input: '{"a": [1, 2, ]}', value: { a: [1, 2] }, repair: /trailing commas/ },
  {
    name: 'Python literals',
    input: '{"request_heartbeat": True, "x": None}',
    value: { request_heartbeat: true, x: null },
    repair: /Python/,
  },
  { name: 'unquoted keys', input: '{message: "hi", page: 2}', value: { message: 'hi', page: 2 }, repair: /unquoted keys/ },
  {
    name: 'double-encoded JSON string',
    input: JSON.stringify(JSON.stringify({ message: 'hi' })),
    value: { message: 'hi' },
    repair: /JSON string/,
  },
  // Failures that must not be guessed at.
  { name: 'single quotes with apostrophe inside', input: "{'message': 'it's fine'}", error: /not valid JSON/ },
  { name: 'not JSON at all', input: 'send_message("hi")', error: /not valid JSON.*position \d+.*single JSON object/ },
  { name: 'array instead of object', input: '["hi"]', error: /must be a JSON object, got an array/ },
  { name: 'number instead of object', input: '42', error: /must be a JSON object, got a number/ },
  { name: 'null instead of object', input: 'null', error: /got null/ },
  { name: 'missing comma between members', input: '{"a": 1 "b": 2}', error: /not valid JSON: .*position \d+/ },
  { name: 'missing value', input: '{"a": , "b": 2}', error: /not valid JSON/ },
  { name: 'unquoted string value', input: '{"message": hello there}', error: /not valid JSON/ },
];

test(`the corpus has at least 30 cases (${CORPUS.length})`, () => {
  assert.ok(CORPUS.length >= 30);
});

for (const c of CORPUS) {
  test(`corpus: ${c.name}`, () => {
    const result = parseToolArguments(c.input);
    if ('error' in c) {
      assert.equal(result.ok, false, `expected failure, got ${JSON.stringify(result)}`);
      if (!result.ok) assert.match(result.error, c.error);
      return;
    }
    assert.equal(result.ok, true, `expected success, got ${JSON.stringify(result)}`);
    if (!result.ok) return;
    assert.deepEqual(result.value, c.value);
    if (c.repair === null) assert.deepEqual(result.repairs, []);
    else if (c.repair)
      assert.ok(
        result.repairs.some((r) => c.repair!.test(r)),
        `repairs ${JSON.stringify(result.repairs)} should match ${c.repair}`,
      );
  });
}

test('every truncation of a valid call parses or fails cleanly, never throws, and never invents keys', () => {
  const full = JSON.stringify({ message: 'Hello "world"\nbye \u00e9 😀', request_heartbeat: true, nested: { list: [1, 'two', null] } });
  for (let i = 1; i <= full.length; i++) {
    const result = parseToolArguments(full.slice(0, i));
    if (result.ok) {
      for (const key of Object.keys(result.value)) assert.ok(['message', 'request_heartbeat', 'nested'].includes(key), `${i}: ${key}`);
      if (typeof result.value.message === 'string') {
        assert.ok(JSON.parse(full).message.startsWith(result.value.message), `${i}: message must be a prefix`);
      }
    } else {
      assert.match(result.error, /not valid JSON|must be a JSON object/);
    }
  }
});

test('arguments over the limit are rejected with the limit in the message', () => {
  const result = parseToolArguments(`{"message": "${'x'.repeat(FUNCTION_ARGUMENTS_MAX_CHARS)}"}`);
  assert.equal(result.ok, false);
  if (!result.ok) assert.match(result.error, new RegExp(String(FUNCTION_ARGUMENTS_MAX_CHARS)));
});
