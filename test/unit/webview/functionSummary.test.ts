import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResult, summarizeCall } from '../../../src/webview/functionSummary';

const args = (o: object) => JSON.stringify(o);

test('memory functions read as sentences', () => {
  assert.equal(
    summarizeCall('core_memory_append', args({ label: 'human', content: 'Likes Go', request_heartbeat: true })).title,
    'Remembered about you: “Likes Go”',
  );
  assert.equal(
    summarizeCall('core_memory_replace', args({ label: 'persona', old_content: 'a', new_content: 'b' })).title,
    'Updated what it knows about itself: “a” → “b”',
  );
  assert.equal(
    summarizeCall('core_memory_replace', args({ label: 'human', old_content: 'old fact', new_content: '' })).title,
    'Updated what it knows about you: forgot “old fact”',
  );
  assert.equal(
    summarizeCall('archival_memory_search', args({ query: 'auth  flow', page: 2 })).title,
    'Searched archival memory for “auth flow” (page 2)',
  );
  assert.equal(
    summarizeCall('conversation_search_date', args({ start_date: '2026-11-01', end_date: '2026-11-02' })).title,
    'Searched the conversation from 2026-11-01 to 2026-11-02',
  );
  assert.match(summarizeCall('archival_memory_insert', args({ content: 'x'.repeat(500) })).title, /^Saved to archival memory: “x{79}…”$/);
});

test('file functions carry a citation; unknown functions and broken JSON still summarise', () => {
  const read = summarizeCall('read_file', args({ path: 'src/a.ts', start_line: 10, end_line: 40 }));
  assert.deepEqual(read.citation, { path: 'src/a.ts', startLine: 10, endLine: 40 });
  assert.equal(summarizeCall('do_thing', args({ alpha: 1, request_heartbeat: true, beta: 'b' })).title, 'do_thing(alpha=“1”, beta=“b”)');
  assert.match(summarizeCall('core_memory_append', '{"label": "hu').title, /not valid JSON/);
});

test('parseResult unpacks MemGPT result packets and passes other text through', () => {
  assert.deepEqual(parseResult('{"status":"OK","message":"done","time":"t"}'), { status: 'OK', message: 'done', time: 't' });
  assert.deepEqual(parseResult('{"status":"Failed","message":{"error":"x"}}'), { status: 'Failed', message: '{\n  "error": "x"\n}' });
  assert.deepEqual(parseResult('plain'), { message: 'plain' });
  assert.deepEqual(parseResult('[1,2]'), { message: '[1,2]' });
});
