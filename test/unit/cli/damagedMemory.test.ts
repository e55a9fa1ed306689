/**
 * Issue 13, items 3 and 4 on the command line: damage found in the memory is said on stderr and
 * in `memgpt memory` (text and --json), and a broken archival manifest never stops a command.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { sendMessage, startFakeOpenAIServer, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { BILLING_TS, cleanEnv, cliProject, ensureBuilt, runCli } from './cliHarness';

let root: string;
let folder: string;
let server: FakeOpenAIServer;

before(async () => {
  ensureBuilt();
  ({ root, folder } = await cliProject('memgpt-cli-damage-', { 'src/billing.ts': BILLING_TS }));
  server = await startFakeOpenAIServer({ models: ['local-model'] });
});

after(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

function envFor(stateDir: string): Record<string, string> {
  return cleanEnv({ MEMGPT_STATE_DIR: stateDir, OPENAI_BASE_URL: server.url, MEMGPT_MODEL: 'local-model' });
}

/** The one workspace storage folder under a state folder. */
function storageDir(stateDir: string): string {
  const workspaces = path.join(stateDir, 'workspaces');
  const [key] = readdirSync(workspaces).filter((n) => !n.startsWith('.') && !n.endsWith('.json'));
  return path.join(workspaces, key!);
}

test('a damaged active.json: `memory` lists the notice (text and --json), `ask` says it on stderr and keeps the agent', async () => {
  const stateDir = path.join(root, 'state-pointer');
  const env = envFor(stateDir);
  server.enqueue(sendMessage('noted'));
  const first = await runCli(['ask', folder, 'remember the blue door'], { env });
  assert.equal(first.code, 0, first.stderr);
  const dir = storageDir(stateDir);
  await writeFile(path.join(dir, 'agents', 'active.json'), '{"agentId": "');

  const json = await runCli(['memory', folder, '--json'], { env });
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as { notices: string[]; recall: { count: number } };
  assert.ok(
    report.notices.some((n) => /active\.json/.test(n)),
    json.stdout,
  );
  assert.equal(report.recall.count, 3, 'the conversation is still counted');
  assert.match(json.stderr, /active\.json/);

  const text = await runCli(['memory', folder], { env });
  assert.match(text.stdout, /Notices:\n {2}! .*active\.json/);

  server.enqueue(sendMessage('the blue door'));
  const ask = await runCli(['ask', folder, 'what did I ask you to remember?'], { env });
  assert.equal(ask.code, 0, ask.stderr);
  assert.match(ask.stderr, /active\.json.*MemGPT/);
  const after = JSON.parse((await runCli(['memory', folder, '--json'], { env })).stdout) as {
    recall: { count: number };
    notices: string[];
  };
  assert.equal(after.recall.count, 6, 'the same agent carried on');
  assert.deepEqual(after.notices, [], 'repaired: the next run has nothing to say');
});

test('an archival manifest of {} blocks nothing: the index is rebuilt and the commands say so', async () => {
  const stateDir = path.join(root, 'state-manifest');
  const env = envFor(stateDir);
  const index = await runCli(['index', folder], { env });
  assert.equal(index.code, 0, index.stderr);
  const archival = path.join(storageDir(stateDir), 'archival');
  const [indexFolder] = readdirSync(archival).filter((n) => !n.includes('.'));
  await writeFile(path.join(archival, indexFolder!, 'manifest.json'), '{}');

  const memory = await runCli(['memory', folder, '--json'], { env });
  assert.equal(memory.code, 0, memory.stderr);
  assert.doesNotMatch(memory.stderr, /newer/);
  const report = JSON.parse(memory.stdout) as { notices: string[] };
  assert.ok(
    report.notices.some((n) => /manifest\.json/.test(n) && /re-?index/i.test(n)),
    memory.stdout,
  );

  server.enqueue(sendMessage('hello'));
  const ask = await runCli(['ask', folder, 'hi'], { env });
  assert.equal(ask.code, 0, ask.stderr);
  assert.match(ask.stderr, /manifest\.json/);
  const again = await runCli(['index', folder], { env });
  assert.equal(again.code, 0, again.stderr);
  const search = await runCli(['search', folder, 'invoice total'], { env });
  assert.equal(search.code, 0, search.stderr);
  assert.match(search.stdout, /billing\.ts/);
});
