import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { makeHarness, lastToolResults, stepRequests } from '../agent/agentHarness';
import { validateArguments } from '../../../src/core/functions/validation';
import { functionSchemas } from '../../../src/core/functions/schemas';
import { pageHeader, truncateWithNote } from '../../../src/core/functions/results';

const schema = (name: string) => functionSchemas({ workspace: true, compact: false }).find((s) => s.function.name === name)!;

test('validation: coercions only when unambiguous, enums and ranges, request_heartbeat defaults to false', () => {
  const ok = validateArguments(schema('read_file'), { path: 'a.ts', start_line: '10', end_line: 20 });
  assert.deepEqual(ok, { ok: true, args: { path: 'a.ts', start_line: 10, end_line: 20, request_heartbeat: false } });
  assert.deepEqual(validateArguments(schema('send_message'), { message: 42 }), {
    ok: true,
    args: { message: '42', request_heartbeat: false },
  });
  const bad = validateArguments(schema('read_file'), { path: 'a.ts', start_line: 0 });
  assert.equal(bad.ok, false);
  assert.match(
    (bad as { error: string }).error,
    /"start_line" must be at least 1, got 0.*Expected \{path: string, start_line\?: integer >= 1/,
  );
  const range = validateArguments(schema('pause_heartbeats'), { minutes: 1000 });
  assert.match((range as { error: string }).error, /at most 360/);
  const bool = validateArguments(schema('core_memory_append'), { label: 'human', content: 'x', request_heartbeat: 'yes' });
  assert.match((bool as { error: string }).error, /"request_heartbeat" must be true or false, got "yes"/);
  assert.deepEqual(validateArguments(schema('conversation_search'), { query: 'x', page: null }), {
    ok: true,
    args: { query: 'x', request_heartbeat: false },
  });
});

test('results: truncation note and MemGPT paging header', () => {
  const cut = truncateWithNote('line\n'.repeat(3000), 1000);
  assert.ok(cut.length <= 1000);
  assert.match(cut, /\[\.\.\. truncated: the result was 15000 characters, only the first part is shown; ask for a smaller part\.\]$/);
  assert.equal(pageHeader(5, 12, 0, 3), 'Showing 5 of 12 results (page 0/2):');
  assert.equal(pageHeader(0, 0, 0, 0), 'Showing 0 of 0 results (page 0/0):');
});

test('the broken-JSON corpus through the loop: repairable calls run, the rest fail back to the model', async () => {
  const h = await makeHarness();
  const cases: { raw: string; delivered?: string; error?: RegExp }[] = [
    { raw: '{"message": "closing brace missing"', delivered: 'closing brace missing' },
    { raw: '{"message": "trailing"}<|im_end|>', delivered: 'trailing' },
    { raw: '{"message": "one"}{"message": "two"}', delivered: 'one' },
    { raw: '{"message": "raw\nnewline"}', delivered: 'raw\nnewline' },
    { raw: '```json\n{"message": "fenced"}\n```', delivered: 'fenced' },
    { raw: "{'message': 'single quoted'}", delivered: 'single quoted' },
    { raw: '{"message": "cut off mid-wa', delivered: 'cut off mid-wa' },
    { raw: 'send_message("hi")', error: /Could not read the arguments of send_message: arguments are not valid JSON/ },
    { raw: '["hi"]', error: /must be a JSON object, got an array/ },
    { raw: '{"mesage": "typo"}', error: /unknown argument "mesage".*missing required argument "message"/ },
  ];
  try {
    for (const c of cases) {
      h.server.enqueue(toolCall('send_message', c.raw));
      if (c.error) h.server.enqueue(sendMessage('recovered'));
      const r = await h.agent.handle({ type: 'user_message', text: 'go' });
      if (c.delivered !== undefined) {
        assert.deepEqual(r.messages, [c.delivered], c.raw);
      } else {
        assert.deepEqual(r.messages, ['recovered'], `${c.raw}: the failure heartbeat let the model retry`);
        const req = stepRequests(h.server).at(-1)!;
        const failed = JSON.parse(req.body.messages.at(-1)!.content as string);
        assert.equal(failed.status, 'Failed');
        assert.match(failed.message, c.error!);
      }
    }
  } finally {
    await h.close();
  }
});

test('workspace functions through the loop: numbered lines, paging hint, listing and text search', async () => {
  const body = Array.from({ length: 300 }, (_, i) => `export const v${i + 1} = ${i + 1};`).join('\n');
  const h = await makeHarness({ files: { 'src/values.ts': body, 'src/util.ts': 'export function helper() {}\n', 'docs/a.md': '# A' } });
  try {
    h.server.enqueue(
      toolCall('read_file', { path: 'src/values.ts', start_line: 5, end_line: 7, request_heartbeat: true }),
      toolCall('read_file', { path: 'src/values.ts', request_heartbeat: true }),
      toolCall('list_files', { glob: 'src/**', request_heartbeat: true }),
      toolCall('search_text', { query: 'HELPER', request_heartbeat: true }),
      toolCall('read_file', { path: '../outside.txt', request_heartbeat: true }),
      sendMessage('done'),
    );
    await h.agent.handle({ type: 'user_message', text: 'read' });
    const results = stepRequests(h.server)
      .slice(1)
      .map((r) => JSON.parse(r.body.messages.at(-1)!.content as string) as { status: string; message: string });
    assert.equal(
      results[0]!.message,
      'src/values.ts, lines 5-7 of 300:\n5| export const v5 = 5;\n6| export const v6 = 6;\n7| export const v7 = 7;\n[293 more lines; to read on, call read_file with start_line=8.]',
    );
    // The default page is bounded by the result budget and says where to continue.
    assert.match(results[1]!.message, /^src\/values\.ts, lines 1-\d+ of 300:/);
    assert.match(results[1]!.message, /to read on, call read_file with start_line=\d+/);
    assert.match(results[2]!.message, /^Showing 2 of 2 results \(page 0\/0\):\nsrc\/util\.ts\nsrc\/values\.ts$/);
    assert.match(results[3]!.message, /src\/util\.ts:1: export function helper\(\) \{\}/);
    assert.equal(results[4]!.status, 'Failed');
    assert.match(results[4]!.message, /leaves the workspace/);
  } finally {
    await h.close();
  }
});

test('archival_memory_search labels code with path:start-end and memories as memories', async () => {
  const h = await makeHarness();
  try {
    await h.archival.insertMemory('The deploy script lives in scripts/deploy.sh and needs AWS_PROFILE.');
    await h.archival.replaceFile('src/payments.ts', 'f1', [
      {
        startLine: 10,
        endLine: 24,
        language: 'typescript',
        text: 'export function deployCharge(amount: number) { /* deploy */ }',
        hash: 'h1',
      },
    ]);
    h.server.enqueue(toolCall('archival_memory_search', { query: 'deploy', request_heartbeat: true }), sendMessage('ok'));
    await h.agent.handle({ type: 'user_message', text: 'where is deploy' });
    const [r] = lastToolResults(h.server);
    assert.equal(r!.status, 'OK');
    assert.match(r!.message, /^Showing \d+ of \d+ results \(page 0\/0\):/);
    assert.match(r!.message, /\[memory, [^\]]+\] The deploy script lives in scripts\/deploy\.sh/);
    assert.match(r!.message, /\[code\] src\/payments\.ts:10-24\n/);
  } finally {
    await h.close();
  }
});

test('restricted mode: workspace functions are not offered and the system message says so', async () => {
  const h = await makeHarness({ workspace: false });
  try {
    h.server.enqueue(toolCall('read_file', { path: 'a.ts' }), sendMessage('cannot'));
    await h.agent.handle({ type: 'user_message', text: 'read a.ts' });
    const req = stepRequests(h.server)[0]!;
    const names = req.body.tools!.map((t) => t.function.name);
    assert.ok(!names.includes('read_file') && !names.includes('list_files') && !names.includes('search_text'));
    assert.ok(names.includes('archival_memory_search'));
    assert.match(req.body.messages[0]!.content as string, /No workspace folder is available/);
    const [r] = lastToolResults(h.server);
    assert.equal(r!.status, 'Failed');
    assert.match(r!.message, /read_file is not available: no workspace folder is open, or the workspace is not trusted/);
  } finally {
    await h.close();
  }
});

test('a long non-search result is truncated with a visible note', async () => {
  const h = await makeHarness({ files: { 'one-line.txt': 'y'.repeat(400) + '\n' } });
  try {
    // core_memory_replace's error echoes old_content: a long one makes a long failure text.
    h.server.enqueue(
      toolCall('core_memory_replace', { label: 'human', old_content: 'q'.repeat(9000), new_content: 'x' }),
      sendMessage('ok'),
    );
    await h.agent.handle({ type: 'user_message', text: 'x' });
    const req = stepRequests(h.server).at(-1)!;
    const r = JSON.parse(req.body.messages.at(-1)!.content as string);
    assert.ok(r.message.length <= 6000);
    assert.match(r.message, /\[\.\.\. truncated: the result was \d+ characters/);
  } finally {
    await h.close();
  }
});
