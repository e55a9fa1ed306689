/**
 * Stale memories through the real agent loop: the real `openai` client against the scripted
 * server, a real WorkspaceRuntime and archival index on disk, files changed on disk and the
 * runtime told the way a save tells it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeRig, type RuntimeRig } from '../../fixtures/runtimeRig';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sendMessage, toolCall } from '../../fixtures/fakeOpenAIServer';
import { type WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';
import { CitationTracker, findCitations } from '../../../src/core/memory/staleness';

type Fixture = RuntimeRig;

const LINES = Array.from({ length: 30 }, (_, i) => `const line${i + 1} = ${i + 1};`);

function fixture(): Promise<Fixture> {
  return runtimeRig({ prefix: 'stale', files: { 'src/a.ts': `${LINES.join('\n')}\n` } });
}

const open = (f: Fixture) => f.open();

/** Rewrites src/a.ts with `edit` applied to its lines, then tells the runtime as a save does. */
async function edit(f: Fixture, runtime: WorkspaceRuntime, change: (lines: string[]) => string[]): Promise<void> {
  const file = path.join(f.folder, 'src', 'a.ts');
  const lines = (await readFile(file, 'utf8')).replace(/\n$/, '').split('\n');
  await writeFile(file, `${change(lines).join('\n')}\n`);
  await runtime.files.fileChanged(file);
}

/** The result the model reads for one archival_memory_search call in a turn of its own. */
async function searchAsModel(f: Fixture, runtime: WorkspaceRuntime, query: string): Promise<string> {
  f.server.enqueue(toolCall('archival_memory_search', { query, request_heartbeat: true }), sendMessage('done'));
  const outcome = await runtime.chat.handle({ type: 'user_message', text: `what do you remember about ${query}?` });
  assert.equal(outcome.reason, 'done', outcome.error);
  const requests = f.server.chatRequests();
  return (JSON.parse(lastToolResult(requests[requests.length - 1]!.body.messages)) as { message: string }).message;
}

/** The newest function result of a request (a system alert may follow it). */
function lastToolResult(messages: readonly { role: string; content?: unknown }[]): string {
  const tool = [...messages].reverse().find((m) => m.role === 'tool');
  assert.ok(tool, 'the request holds a function result');
  return tool.content as string;
}

test('a remembered item citing path:start-end becomes stale when those lines change and a save arrives; an edit elsewhere leaves it fresh; refreshing replaces it', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    f.server.enqueue(
      toolCall('archival_memory_insert', { content: 'parseConfig validates the port range at src/a.ts:10-20', request_heartbeat: true }),
      sendMessage('Noted.'),
    );
    await runtime.chat.handle({ type: 'user_message', text: 'remember where the port is validated' });
    let result = await searchAsModel(f, runtime, 'parseConfig port');
    assert.match(result, /parseConfig validates the port range/);
    assert.ok(!/stale/.test(result), result);

    // An edit below the cited range: nothing to say.
    await edit(f, runtime, (l) => l.map((line, i) => (i === 24 ? 'const line25 = 2500;' : line)));
    result = await searchAsModel(f, runtime, 'parseConfig port');
    assert.ok(!/stale|moved/.test(result), `an edit elsewhere is not a change of the cited lines: ${result}`);

    // Two lines added at the top: the cited lines are unchanged, only moved.
    await edit(f, runtime, (l) => ['// header', '// more header', ...l]);
    result = await searchAsModel(f, runtime, 'parseConfig port');
    assert.ok(!/stale/.test(result), result);
    assert.match(result, /moved: the lines it cites as src\/a\.ts:10-20 are unchanged, now at src\/a\.ts:12-22/);

    // A cited line itself changes: stale, and the result says how to refresh it.
    await edit(f, runtime, (l) => l.map((line, i) => (i === 16 ? 'const line15 = -1; // changed' : line)));
    result = await searchAsModel(f, runtime, 'parseConfig port');
    assert.match(
      result,
      /\(stale: lines 10-20 of src\/a\.ts changed since this was remembered; to refresh it, read the code and store the corrected note with archival_memory_insert citing src\/a\.ts:10-20 \(it replaces this one\)\)/,
    );

    // Still stale after a restart (the state is kept on disk).
    await runtime.close();
    const again = await open(f);
    result = await searchAsModel(f, again, 'parseConfig port');
    assert.match(result, /stale: lines 10-20 of src\/a\.ts changed/);

    // Refreshing with the existing function: the new note replaces the stale one, and says so.
    f.server.enqueue(
      toolCall('archival_memory_insert', {
        content: 'parseConfig validates the port range and rejects negatives at src/a.ts:12-22',
        request_heartbeat: true,
      }),
      sendMessage('Refreshed.'),
    );
    await again.chat.handle({ type: 'user_message', text: 'refresh that memory' });
    const requests = f.server.chatRequests();
    const inserted = JSON.parse(lastToolResult(requests[requests.length - 1]!.body.messages)) as { status: string; message: string };
    assert.equal(inserted.status, 'OK');
    assert.match(
      inserted.message,
      /Stored in archival memory\. It replaces 1 stale memory: mem-[\w-]+ \(citing src\/a\.ts:10-20\), which no longer shows in search results\./,
    );
    result = await searchAsModel(f, again, 'parseConfig port');
    assert.match(result, /rejects negatives/);
    assert.ok(!/stale/.test(result), `the replaced memory leaves the results: ${result}`);
    assert.ok(!/validates the port range at src\/a\.ts:10-20/.test(result));
    await again.close();
  } finally {
    await f.close();
  }
});

test('Remember Selection: the provenance range is followed; deleting the file makes it stale; the CLI search shows the note', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    await runtime.memory.remember(LINES.slice(4, 8).join('\n'), { path: 'src/a.ts', startLine: 5, endLine: 8 });
    let hits = await runtime.memory.searchArchival('line5 line6', { limit: 5, source: 'memory' });
    assert.equal(hits[0]?.note, undefined);
    await edit(f, runtime, (l) => l.map((line, i) => (i === 5 ? 'const line6 = 600;' : line)));
    hits = await runtime.memory.searchArchival('line5 line6', { limit: 5, source: 'memory' });
    assert.match(hits[0]?.note ?? '', /^stale: lines 5-8 of src\/a\.ts changed since this was remembered/);
    // Changed back: fresh again.
    await edit(f, runtime, (l) => l.map((line, i) => (i === 5 ? LINES[5]! : line)));
    hits = await runtime.memory.searchArchival('line5 line6', { limit: 5, source: 'memory' });
    assert.equal(hits[0]?.note, undefined);
    await rm(path.join(f.folder, 'src', 'a.ts'));
    await runtime.files.fileRemoved(path.join(f.folder, 'src', 'a.ts'));
    hits = await runtime.memory.searchArchival('line5 line6', { limit: 5, source: 'memory' });
    assert.match(hits[0]?.note ?? '', /^stale: src\/a\.ts was deleted since this was remembered/);
    await runtime.close();
  } finally {
    await f.close();
  }
});

test('a change made while no window was open is found when the memory opens again', async () => {
  const f = await fixture();
  try {
    const runtime = await open(f);
    await runtime.memory.remember('the constants at src/a.ts:2-3 are the defaults');
    await runtime.close();
    const file = path.join(f.folder, 'src', 'a.ts');
    await writeFile(file, (await readFile(file, 'utf8')).replace('const line2 = 2;', 'const line2 = 22;'));
    const again = await open(f);
    // Checked in the background at open: wait for it through the tracker's own queue.
    await again.files.citations.verifyAll();
    const hits = await again.memory.searchArchival('constants defaults', { limit: 5, source: 'memory' });
    assert.match(hits[0]?.note ?? '', /stale: lines 2-3 of src\/a\.ts changed/);
    await again.close();
  } finally {
    await f.close();
  }
});

test('parts: citations found in text; a damaged record is kept aside with a notice', async () => {
  assert.deepEqual(findCitations('see `src/a.ts:10-20` and lib/b.py:7, not 3:4 or http://x.io:80, twice src/a.ts:10-20'), [
    { path: 'src/a.ts', startLine: 10, endLine: 20 },
    { path: 'lib/b.py', startLine: 7, endLine: 7 },
  ]);
  assert.deepEqual(findCitations('backwards src/a.ts:20-10 and zero src/a.ts:0-3'), []);
  const dir = await mkdtemp(path.join(tmpdir(), 'memgpt-citations-'));
  try {
    const file = path.join(dir, 'citations.json');
    await writeFile(file, '{not json');
    const notices: string[] = [];
    const tracker = await CitationTracker.open({ file, read: async () => ['a', 'b'], notice: (m) => notices.push(m) });
    assert.equal(tracker.size, 0);
    assert.match(notices[0] ?? '', /was damaged and kept as .*citations\.json\.corrupt-/);
    await tracker.track('m1', 'x at f.ts:1-2');
    assert.equal(tracker.size, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
