/**
 * Issue 13, item 7: a file name is data, never layout or terminal control. A newline in a name
 * must not split a result into two lines the model reads as two files, and right-to-left
 * overrides, escape sequences and other invisible characters are shown as visible escapes
 * (`\n`, `\u202E`) wherever a path reaches the model: list_files, search_text, read_file headers
 * and refusals, archival search hits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { makeHarness, stepRequests } from '../agent/agentHarness';
import { escapeForDisplay } from '../../../src/core/workspace/displayText';

const NEWLINE_NAME = 'src/evil\nname.ts';
const RLO_NAME = 'src/\u202Egnp.ts';
/** Characters that must never reach the model or a terminal raw inside a name. */
const RAW_UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/u;

test('escapeForDisplay: controls, bidi and invisible characters become visible escapes; ordinary text is untouched', () => {
  assert.equal(escapeForDisplay('a\nb\rc\td'), 'a\\nb\\rc\\td');
  assert.equal(escapeForDisplay('\u202Etxt.exe'), '\\u202Etxt.exe');
  assert.equal(escapeForDisplay('\u001B[31mred'), '\\u001B[31mred');
  assert.equal(escapeForDisplay('x\u2066y\u2069\u200Fz\u2028'), 'x\\u2066y\\u2069\\u200Fz\\u2028');
  assert.equal(escapeForDisplay('tag\u{E0041}'), 'tag\\u{E0041}');
  assert.equal(escapeForDisplay('back\\slash'), 'back\\\\slash', 'a real backslash is doubled, so an escape is never ambiguous');
  for (const plain of ['src/app.ts', 'café/日本語/файл.ts', 'emoji 👍 and 👨‍👩‍👧 family', 'نام‌فایل.md', 'a b-c_d.e']) {
    assert.equal(escapeForDisplay(plain), plain, plain);
  }
  assert.equal(
    escapeForDisplay('col1\tre = /\\d+/\u001B[0m', { line: true }),
    'col1\tre = /\\d+/\\u001B[0m',
    'a line of code keeps its tabs and backslashes',
  );
});

test('list_files, search_text, read_file and archival search show hostile names escaped, one item per line', async () => {
  const h = await makeHarness({
    files: {
      [NEWLINE_NAME]: 'export const evil = 1;\n',
      [RLO_NAME]: 'export const rlo = 2;\n',
      'src/plain.ts': 'export const plain = 3;\n',
    },
  });
  try {
    await h.archival.replaceFile(NEWLINE_NAME, 'f1', [
      { startLine: 1, endLine: 1, language: 'typescript', text: 'export const evil = 1;', hash: 'h1' },
    ]);
    h.server.enqueue(
      toolCall('list_files', { request_heartbeat: true }),
      toolCall('search_text', { query: 'export const', request_heartbeat: true }),
      toolCall('read_file', { path: NEWLINE_NAME, request_heartbeat: true }),
      toolCall('read_file', { path: 'src/evil\\nname.ts', request_heartbeat: true }),
      toolCall('read_file', { path: 'src/missing\u202E.ts', request_heartbeat: true }),
      toolCall('archival_memory_search', { query: 'evil', request_heartbeat: true }),
      sendMessage('done'),
    );
    await h.agent.handle({ type: 'user_message', text: 'look around' });
    const results = stepRequests(h.server)
      .slice(1)
      .map((r) => JSON.parse(r.body.messages.at(-1)!.content as string) as { status: string; message: string });
    const [listed, searched, read, readEscaped, missing, archival] = results;
    assert.deepEqual(listed!.message.split('\n'), [
      'Showing 3 of 3 results (page 0/0):',
      'src/evil\\nname.ts',
      'src/plain.ts',
      'src/\\u202Egnp.ts',
    ]);
    assert.deepEqual(searched!.message.split('\n').slice(1), [
      'src/evil\\nname.ts:1: export const evil = 1;',
      'src/plain.ts:1: export const plain = 3;',
      'src/\\u202Egnp.ts:1: export const rlo = 2;',
    ]);
    assert.equal(read!.message, 'src/evil\\nname.ts, lines 1-1 of 1:\n1| export const evil = 1;');
    assert.equal(readEscaped!.message, read!.message, 'the escaped name the model was shown reads the same file');
    assert.equal(missing!.status, 'Failed');
    assert.match(missing!.message, /src\/missing\\u202E\.ts does not exist/);
    assert.match(archival!.message, /\[code\] src\/evil\\nname\.ts:1-1\n/);
    for (const r of results) assert.doesNotMatch(r.message, RAW_UNSAFE, r.message);
  } finally {
    await h.close();
  }
});
