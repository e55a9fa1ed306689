/**
 * Memory that follows the user and moves with the agent, measured from outside: the built
 * `memgpt` binary against the scripted OpenAI-compatible server, real state folders.
 * Two workspaces on one state folder share `human`; MEMGPT_HUMAN_SCOPE=workspace keeps it apart;
 * an export carries the remembered items and every block with its scope into an empty state
 * folder; a bad import file is refused and changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  sendMessage,
  startFakeOpenAIServer,
  toolCall,
  type FakeOpenAIServer,
  type RecordedChatRequest,
} from '../../fixtures/fakeOpenAIServer';
import { cleanEnv, ensureBuilt, runCli } from './cliHarness';

let root: string;
let server: FakeOpenAIServer;
let counter = 0;

before(async () => {
  ensureBuilt();
  root = await mkdtemp(path.join(tmpdir(), 'memgpt-cli-scopes-'));
  server = await startFakeOpenAIServer({ models: ['local-model'] });
});

after(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

async function newFolder(name: string): Promise<string> {
  const folder = path.join(root, `${name}-${++counter}`);
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'README.md'), `# ${name}\n`);
  return folder;
}

function envFor(stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({ MEMGPT_STATE_DIR: stateDir, OPENAI_BASE_URL: server.url, MEMGPT_MODEL: 'local-model', ...extra });
}

interface Block {
  label: string;
  value: string;
  limit: number;
  scope: string;
}

async function blocksOf(folder: string, env: Record<string, string>): Promise<Block[]> {
  const r = await runCli(['memory', folder, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { coreMemory: Block[] }).coreMemory;
}

function systemOf(req: RecordedChatRequest): string {
  return req.body.messages[0]!.content as string;
}

async function ask(folder: string, text: string, env: Record<string, string>): Promise<void> {
  const r = await runCli(['ask', folder, text], { env });
  assert.equal(r.code, 0, r.stderr);
}

test('two workspaces on one state folder share human; MEMGPT_HUMAN_SCOPE=workspace keeps a workspace apart', async () => {
  const state = path.join(root, `state-${++counter}`);
  const env = envFor(state);
  const a = await newFolder('alpha');
  const b = await newFolder('beta');

  server.enqueue(
    toolCall('core_memory_append', { label: 'human', content: 'Name: Ada. Prefers tabs.', request_heartbeat: true }),
    sendMessage('Hi Ada'),
  );
  await ask(a, 'I am Ada and I like tabs', env);
  server.enqueue(
    toolCall('core_memory_append', { label: 'project', content: 'Alpha uses pnpm.', request_heartbeat: true }),
    sendMessage('ok'),
  );
  await ask(a, 'we use pnpm here', env);

  // Another workspace, same user: its first request already knows her.
  const from = server.chatRequests().length;
  server.enqueue(sendMessage('You are Ada.'));
  await ask(b, 'who am I?', env);
  const system = systemOf(server.chatRequests()[from]!);
  assert.match(system, /<human characters="\d+\/2000" scope="user">[\s\S]*Name: Ada\. Prefers tabs\./);
  assert.doesNotMatch(system, /pnpm/, "the other workspace's project stays there");

  const blocks = await blocksOf(b, env);
  assert.deepEqual(
    blocks.map((x) => [x.label, x.scope]),
    [
      ['persona', 'agent'],
      ['human', 'user'],
      ['project', 'workspace'],
    ],
  );
  const text = await runCli(['memory', b], { env });
  assert.match(text.stdout, /human \[user: shared by every workspace\] \(\d+\/2000 chars\)\n {4}A developer[\s\S]*Name: Ada\./);

  // Per workspace by choice: starts from the shared copy, and its edits stay in it.
  const c = await newFolder('gamma');
  const apart = envFor(state, { MEMGPT_HUMAN_SCOPE: 'workspace' });
  server.enqueue(
    toolCall('core_memory_append', { label: 'human', content: 'Here she writes Rust.', request_heartbeat: true }),
    sendMessage('ok'),
  );
  await ask(c, 'in this repo I write Rust', apart);
  const cHuman = (await blocksOf(c, apart)).find((x) => x.label === 'human')!;
  assert.equal(cHuman.scope, 'workspace');
  assert.match(cHuman.value, /Name: Ada\.[\s\S]*Here she writes Rust\./);
  const aHuman = (await blocksOf(a, env)).find((x) => x.label === 'human')!;
  assert.doesNotMatch(aHuman.value, /Rust/);
});

/** Content hashes of the primary data in a state folder (agents, recall, remembered items, shared blocks). */
function primaryData(stateDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) {
        walk(file);
        continue;
      }
      const rel = path.relative(stateDir, file);
      if (/(^|\/)agents\/[^/]+\.json$|recall\/recall\.log$|memories\.jsonl$|blocks\.json$/.test(rel)) {
        out[rel] = createHash('sha256').update(readFileSync(file)).digest('hex');
      }
    }
  };
  walk(stateDir);
  return out;
}

test('export then import into an empty state folder: the remembered note is found, the blocks keep their scopes; a bad file changes nothing', async () => {
  const stateA = path.join(root, `state-${++counter}`);
  const stateB = path.join(root, `state-${++counter}`);
  const envA = envFor(stateA);
  const envB = envFor(stateB);
  const folder = await newFolder('release');

  server.enqueue(
    toolCall('archival_memory_insert', {
      content: 'The release checklist lives in docs/release.md and needs two approvals.',
      request_heartbeat: true,
    }),
    toolCall('core_memory_append', { label: 'human', content: 'Name: Ada.', request_heartbeat: true }),
    sendMessage('Noted.'),
  );
  await ask(folder, 'remember where the release checklist is; I am Ada', envA);
  const file = path.join(root, 'agent.json');
  const exported = await runCli(['export', folder, '--out', file], { env: envA });
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stderr, /1 remembered items, \d+ recall messages\) to /);
  const data = JSON.parse(await readFile(file, 'utf8')) as {
    formatVersion: number;
    memories: { text: string }[];
    blocks: { label: string; scope: string }[];
  };
  assert.equal(data.formatVersion, 2);
  assert.deepEqual(
    data.memories.map((m) => m.text),
    ['The release checklist lives in docs/release.md and needs two approvals.'],
  );
  assert.deepEqual(
    data.blocks.map((b) => [b.label, b.scope]),
    [
      ['persona', 'agent'],
      ['human', 'user'],
      ['project', 'workspace'],
    ],
  );

  assert.ok(!existsSync(stateB), 'the target state folder is empty');
  const imported = await runCli(['import', folder, file], { env: envB });
  assert.equal(imported.code, 0, imported.stderr);
  const memory = JSON.parse((await runCli(['memory', folder, '--json'], { env: envB })).stdout) as {
    archival: { memory: number };
    coreMemory: Block[];
  };
  assert.equal(memory.archival.memory, 1);
  const human = memory.coreMemory.find((b) => b.label === 'human')!;
  assert.equal(human.scope, 'user');
  assert.match(human.value, /Name: Ada\./);

  server.enqueue(
    toolCall('archival_memory_search', { query: 'release checklist', request_heartbeat: true }),
    sendMessage('docs/release.md'),
  );
  const before = server.chatRequests().length;
  await ask(folder, 'where is the release checklist?', envB);
  const result = server.chatRequests().slice(before).at(-1)!.body.messages.at(-1)!;
  assert.equal(result.role, 'tool');
  assert.match(result.content as string, /\[memory, [^\]]+\] The release checklist lives in docs\/release\.md/);

  // Bad files: each refused with the reason, and the state folder's primary data is byte-identical.
  const snapshot = primaryData(stateB);
  assert.ok(Object.keys(snapshot).some((k) => k.endsWith('memories.jsonl')) && Object.keys(snapshot).some((k) => k.startsWith('user')));
  const good = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & { memories: Record<string, unknown>[] };
  const cases: { name: string; content: string; error: RegExp }[] = [
    {
      name: 'bad-memory.json',
      content: JSON.stringify({ ...good, memories: [{ ...good.memories[0], time: 'last Tuesday' }] }),
      error: /Remembered item 0 of this export is malformed .*Nothing was imported\./,
    },
    {
      name: 'bad-scope.json',
      content: JSON.stringify({ ...good, blocks: [{ label: 'human', value: 'x', limit: 2000, scope: 'everyone' }] }),
      error: /block "human" has scope "everyone".*Nothing was imported\./,
    },
    {
      name: 'bad-recall.json',
      content: JSON.stringify({ ...good, recall: [{ id: 'r1' }] }),
      error: /Recall record 0 of this export is malformed.*Nothing was imported\./,
    },
    { name: 'not-json.json', content: '{"format": "memgpt-vscode-agent", ', error: /is not JSON .*nothing was imported/ },
  ];
  for (const c of cases) {
    const bad = path.join(root, c.name);
    await writeFile(bad, c.content);
    const r = await runCli(['import', folder, bad], { env: envB });
    assert.notEqual(r.code, 0, c.name);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${c.name}: one line, got ${r.stderr}`);
    assert.match(r.stderr, c.error, c.name);
    assert.deepEqual(primaryData(stateB), snapshot, `${c.name}: nothing changed`);
  }
});
