/**
 * `memgpt reflect` and the reflections in `memgpt memory`, measured from outside: the built
 * binary against the scripted OpenAI-compatible server, a real state folder.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sendMessage, startFakeOpenAIServer, toolCall, toolCalls, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { cleanEnv, ensureBuilt, runCli } from './cliHarness';

let root: string;
let server: FakeOpenAIServer;

before(async () => {
  ensureBuilt();
  root = await mkdtemp(path.join(tmpdir(), 'memgpt-cli-reflect-'));
  server = await startFakeOpenAIServer({ models: ['local-model', 'cheap-model'] });
});

after(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

interface Record {
  id: string;
  model: string;
  merges: { removed: { id: string; text: string }[]; added: { id: string; text: string } }[];
  undoneAt?: string;
}

test('memgpt reflect merges duplicates with its own model, memgpt memory shows the record with before and after, and --undo puts the items back', async () => {
  const folder = path.join(root, 'project');
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'README.md'), '# project\n');
  const env = cleanEnv({
    MEMGPT_STATE_DIR: path.join(root, 'state'),
    OPENAI_BASE_URL: server.url,
    MEMGPT_MODEL: 'local-model',
    MEMGPT_REFLECTION_MODEL: 'cheap-model',
  });
  server.enqueue(
    toolCall('archival_memory_insert', { content: 'Ada prefers tabs over spaces.', request_heartbeat: true }),
    toolCall('archival_memory_insert', { content: 'The user (Ada) likes tabs, not spaces.', request_heartbeat: true }),
    sendMessage('Noted.'),
  );
  const ask = await runCli(['ask', folder, 'I like tabs, not spaces.'], { env });
  assert.equal(ask.code, 0, ask.stderr);

  server.enqueue(toolCalls([{ name: 'merge_memories', arguments: { items: [1, 2], content: 'Ada prefers tabs over spaces.' } }]));
  const reflect = await runCli(['reflect', folder, '--json'], { env });
  assert.equal(reflect.code, 0, reflect.stderr);
  const outcome = JSON.parse(reflect.stdout) as { status: string; record: Record };
  assert.equal(outcome.status, 'changed');
  assert.equal(outcome.record.model, 'cheap-model');
  assert.equal(server.chatRequests().at(-1)!.body.model, 'cheap-model');
  const removed = outcome.record.merges[0]!.removed.map((m) => m.text);
  assert.deepEqual(removed, ['Ada prefers tabs over spaces.', 'The user (Ada) likes tabs, not spaces.']);

  const report = JSON.parse((await runCli(['memory', folder, '--json'], { env })).stdout) as {
    reflections: Record[];
    archival: { memory: number };
  };
  assert.equal(report.archival.memory, 1, 'two items became one');
  assert.equal(report.reflections[0]!.id, outcome.record.id);
  const text = await runCli(['memory', folder], { env });
  assert.match(text.stdout, /Reflections \(1, newest first; undo one with memgpt reflect .* --undo <id>\)/);
  assert.match(
    text.stdout,
    /Merged 2 remembered items into one:\n\s+- "Ada prefers tabs over spaces\."\n\s+- "The user \(Ada\) likes tabs, not spaces\."\n\s+into: "Ada prefers tabs over spaces\."/,
  );

  const undo = await runCli(['reflect', folder, '--undo', outcome.record.id, '--json'], { env });
  assert.equal(undo.code, 0, undo.stderr);
  assert.ok((JSON.parse(undo.stdout) as { record: Record }).record.undoneAt);
  const after = JSON.parse((await runCli(['memory', folder, '--json'], { env })).stdout) as { archival: { memory: number } };
  assert.equal(after.archival.memory, 2, 'both items are back');
  const again = await runCli(['reflect', folder, '--undo', outcome.record.id], { env });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already undone/);
});
