/**
 * `memgpt search` opens only what a search reads (the index, which agent is active, the
 * citations): the built CLI against the scripted server and real state folders. Remembered items
 * of the active agent are found with and without --source memory, and a search still answers when
 * the conversation history (the recall log, which a search never reads) cannot be opened at all,
 * while a command that needs it says so and exits 1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { sendMessage, startFakeOpenAIServer, toolCall, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { BILLING_TS, cleanEnv, cliProject, ensureBuilt, runCli } from './cliHarness';

let root: string;
let folder: string;
let server: FakeOpenAIServer;
let env: Record<string, string>;

const REMEMBERED = 'Invoice totals are rounded half to even, as finance decided for the 2024 audit.';

before(async () => {
  ensureBuilt();
  ({ root, folder } = await cliProject('memgpt-search-open-', {
    'src/billing.ts': BILLING_TS,
    'README.md': '# Billing\n\nComputes invoice totals.\n',
  }));
  server = await startFakeOpenAIServer({ models: ['local-model'] });
  env = cleanEnv({ MEMGPT_STATE_DIR: path.join(root, 'state'), OPENAI_BASE_URL: server.url, MEMGPT_MODEL: 'local-model' });
  const indexed = await runCli(['index', folder], { env });
  assert.equal(indexed.code, 0, indexed.stderr);
  server.enqueue(toolCall('archival_memory_insert', { content: REMEMBERED, request_heartbeat: true }), sendMessage('Noted.'));
  const asked = await runCli(['ask', folder, 'remember how invoice totals are rounded'], { env });
  assert.equal(asked.code, 0, asked.stderr);
});

after(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

interface Result {
  source: string;
  path: string | null;
  text: string;
}

async function search(query: string, extra: string[] = []): Promise<Result[]> {
  const r = await runCli(['search', folder, query, '--json', ...extra], { env });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { results: Result[] }).results;
}

test('search finds the active agent’s remembered item beside the code, and --source narrows to each', async () => {
  const requests = server.chatRequests().length;
  const both = await search('how are invoice totals rounded');
  assert.ok(
    both.some((h) => h.source === 'memory' && h.text === REMEMBERED),
    JSON.stringify(both),
  );
  assert.ok(
    both.some((h) => h.source === 'workspace' && h.path === 'src/billing.ts'),
    JSON.stringify(both),
  );
  const memories = await search('how are invoice totals rounded', ['--source', 'memory']);
  assert.deepEqual(
    memories.map((h) => [h.source, h.text]),
    [['memory', REMEMBERED]],
  );
  const code = await search('computeInvoiceTotal', ['--source', 'workspace']);
  assert.ok(code.length > 0 && code.every((h) => h.source === 'workspace'), JSON.stringify(code));
  assert.equal(code[0]!.path, 'src/billing.ts');
  assert.equal(server.chatRequests().length, requests, 'a search without --rerank never asks the model');
});

test('a recall log that cannot be opened stops memory (exit 1) but not search, which never reads it', async () => {
  const workspaces = path.join(root, 'state', 'workspaces');
  const [dir] = readdirSync(workspaces);
  const log = path.join(workspaces, dir!, 'recall', 'recall.log');
  rmSync(log);
  // A folder where the log should be: no process can read it as a log.
  mkdirSync(log);
  try {
    const memory = await runCli(['memory', folder, '--json'], { env });
    assert.equal(memory.code, 1, `${memory.stdout}${memory.stderr}`);
    assert.match(memory.stderr, /could not be opened/);
    const hits = await search('how are invoice totals rounded', ['--source', 'memory']);
    assert.deepEqual(
      hits.map((h) => h.text),
      [REMEMBERED],
    );
  } finally {
    rmSync(log, { recursive: true, force: true });
  }
});
