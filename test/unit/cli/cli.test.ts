/**
 * End-to-end tests of the built `memgpt` binary (dist/cli.js, rebuilt when stale) against the
 * scripted OpenAI-compatible server and temporary folders and state folders: every command,
 * the --json shapes, exit codes 1-5 and 130, Ctrl-C, a lock held by another process, and an agent
 * moving between two state folders.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { errorStep, hang, sendMessage, startFakeOpenAIServer, toolCall, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { BILLING_TS, REPO, cleanEnv, cliProject, ensureBuilt, runCli, startCli, until, type CliResult } from './cliHarness';
import { COMMON_OPTIONS } from '../../../src/cli/commandTable';
import { VARIABLE_FOR } from '../../../src/cli/config';
import { SETTING_ENV_FALLBACKS } from '../../../src/core/runtime/settingsSchema';
import { POSTGRES_URL_ENV } from '../../../src/core/team/env';

let root: string;
let folder: string;
let server: FakeOpenAIServer;
let stateCounter = 0;

before(async () => {
  ensureBuilt();
  ({ root, folder } = await cliProject('memgpt-cli-', {
    'src/billing.ts': BILLING_TS,
    'README.md': '# Project\n\nInvoices are totalled in src/billing.ts.\n',
    '.env': 'OPENAI_API_KEY=sk-canary-should-never-be-indexed\n',
  }));
  server = await startFakeOpenAIServer({ models: ['local-model'] });
});

after(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** A fresh state folder, so tests do not see each other's agents. */
function newStateDir(): string {
  return path.join(root, `state-${++stateCounter}`);
}

function envFor(stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return cleanEnv({ MEMGPT_STATE_DIR: stateDir, OPENAI_BASE_URL: server.url, MEMGPT_MODEL: 'local-model', ...extra });
}

/** Failures are one line on stderr, never a stack trace. */
function assertOneLineError(r: CliResult, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

test('--help lists every command, option and exit code; --version prints the package version', async () => {
  const help = await runCli(['--help'], { env: cleanEnv() });
  assert.equal(help.code, 0);
  for (const word of [
    'index',
    'search',
    'ask',
    'chat',
    'memory',
    'export',
    'import',
    '--state-dir',
    '--base-url',
    '--model',
    '--context-window',
    '--agent',
    '130',
  ]) {
    assert.ok(help.stdout.includes(word), `help mentions ${word}`);
  }
  assert.match(help.stdout, /3 +no model configured/);
  // Options every command takes are listed once, not repeated on each usage line.
  const usage = help.stdout.slice(help.stdout.indexOf('Usage:'), help.stdout.indexOf('Commands:'));
  for (const common of COMMON_OPTIONS) assert.ok(!usage.includes(`--${common}`), `usage lines leave out the common --${common}`);
  for (const common of COMMON_OPTIONS) assert.ok(help.stdout.includes(`--${common}`), `help lists the common --${common}`);
  // Every variable the command line reads is in the Environment section.
  const environment = help.stdout.slice(help.stdout.indexOf('Environment:'), help.stdout.indexOf('Exit codes:'));
  const variables = [...Object.values(SETTING_ENV_FALLBACKS).flat(), ...Object.values(VARIABLE_FOR), POSTGRES_URL_ENV];
  for (const variable of variables) assert.ok(environment.includes(variable ?? ''), `help's environment names ${variable}`);
  const ask = await runCli(['ask', '--help'], { env: cleanEnv() });
  assert.equal(ask.code, 0);
  assert.match(ask.stdout, /^Usage: memgpt ask <folder> <message> \[--json\] \[--yes\] \[common options\]$/m);
  assert.match(ask.stdout, /^Common options:$/m);
  assert.match(ask.stdout, /--local-model <folder>/);
  const version = await runCli(['--version'], { env: cleanEnv() });
  const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout.trim(), `memgpt ${pkg.version}`);
});

test('usage errors exit 2 with one clear line', async () => {
  const notJson = path.join(root, 'not-json.json');
  await writeFile(notJson, '{ this is not json');
  const env = envFor(newStateDir());
  const cases: [string[], RegExp][] = [
    [[], /No command given/],
    [['serch', folder], /Unknown command "serch"/],
    [['search', folder], /needs <query>/],
    [['search', folder, 'q', '-k', '0'], /-k 0 is out of range/],
    [['search', folder, 'q', '-k', 'many'], /needs a whole number/],
    [['search', folder, 'q', '--source', 'disk'], /--source "disk" is not a source/],
    [['search', folder, 'q', '--rebuild'], /--rebuild does not apply to `memgpt search`/],
    [['index', folder, '--bogus'], /Unknown option --bogus/],
    [['ask', folder, 'hi', '--context-window', '100'], /at least 2048/],
    [['ask', folder, 'hi', '--base-url', 'ftp://example.com'], /not an http\(s\) URL/],
    [['ask', folder, '   '], /message is empty/],
    [['ask', folder, 'two', 'words'], /Unexpected argument "words"/],
    [['import', folder, path.join(root, 'missing.json')], /does not exist/],
    [['import', folder, notJson], /is not JSON/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args, { env });
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}\n${r.stderr}`);
    assertOneLineError(r, pattern);
    assert.equal(r.stdout, '');
  }
});

test('a missing folder or a file instead of a folder exits 5', async () => {
  const env = envFor(newStateDir());
  const file = path.join(folder, 'README.md');
  for (const args of [
    ['index', path.join(root, 'nope')],
    ['search', path.join(root, 'nope'), 'q'],
    ['memory', file],
    ['ask', file, 'hi'],
    ['export', path.join(root, 'nope')],
  ]) {
    const r = await runCli(args, { env });
    assert.equal(r.code, 5, `${args.join(' ')} → ${r.code}\n${r.stderr}`);
    assertOneLineError(r, /does not exist|is a file, not a folder/);
  }
});

test('no model configured (no key for OpenAI, no base URL) exits 3 before opening anything', async () => {
  const stateDir = newStateDir();
  const env = cleanEnv({ MEMGPT_STATE_DIR: stateDir });
  for (const args of [
    ['ask', folder, 'hi'],
    ['chat', folder],
  ]) {
    const r = await runCli(args, { env });
    assert.equal(r.code, 3, `${args.join(' ')} → ${r.code}\n${r.stderr}`);
    assertOneLineError(r, /No model is configured.*OPENAI_API_KEY.*--base-url/);
  }
  // Commands that need no model still work without one.
  const memory = await runCli(['memory', folder, '--json'], { env });
  assert.equal(memory.code, 0, memory.stderr);
});

test('an unreachable server exits 4 quickly and names the URL', async () => {
  const closed = await startFakeOpenAIServer();
  const deadUrl = closed.url;
  await closed.close();
  const env = envFor(newStateDir());
  for (const args of [
    ['ask', folder, 'hi', '--base-url', deadUrl],
    ['chat', folder, '--base-url', deadUrl],
  ]) {
    const started = Date.now();
    const r = await runCli(args, { env });
    assert.equal(r.code, 4, `${args.join(' ')} → ${r.code}\n${r.stderr}`);
    assertOneLineError(r, new RegExp(`${deadUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*unreachable.*refused`));
    assert.doesNotMatch(r.stderr, /MemGPT: Base URL/, 'the CLI names its own flag, not the editor setting');
    assert.ok(Date.now() - started < 15_000, 'no long retry chain before saying so');
  }
  // Reading memory needs no server, even when the model name would have to come from it.
  server.enqueue(sendMessage('made an agent'));
  assert.equal((await runCli(['ask', folder, 'hi'], { env })).code, 0);
  const offline = cleanEnv({ MEMGPT_STATE_DIR: env.MEMGPT_STATE_DIR!, OPENAI_BASE_URL: deadUrl });
  const exported = await runCli(['export', folder], { env: offline });
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal((JSON.parse(exported.stdout) as { recall: unknown[] }).recall.length, 3);
  const memory = await runCli(['memory', folder], { env: offline });
  assert.equal(memory.code, 0, memory.stderr);
  assert.match(memory.stdout, /Recall: 3 messages\n/);
  assert.match(memory.stdout, /Context window: the agent could not be loaded: .*refused.*Set --model, or check/);
});

test('index then search: summary, --json shapes, -k, --source, --path', async () => {
  const env = envFor(newStateDir());
  const indexed = await runCli(['index', folder], { env });
  assert.equal(indexed.code, 0, indexed.stderr);
  assert.match(indexed.stdout, /^Indexed .*project: 2 files indexed \(0 unchanged, 0 removed, 0 skipped\), \d+ chunks? in \d+\.\d s\./);
  assert.doesNotMatch(indexed.stdout + indexed.stderr, /\r/, 'no progress bar when not on a terminal');

  const again = await runCli(['index', folder, '--json'], { env });
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout) as Record<string, unknown> & { archival: { workspace: number; memory: number } };
  assert.equal(summary.indexed, 0);
  assert.equal(summary.unchanged, 2);
  assert.equal(summary.cancelled, false);
  assert.ok(summary.archival.workspace > 0);
  assert.equal(typeof summary.ms, 'number');

  const search = await runCli(['search', folder, 'computeInvoiceTotal', '--json'], { env });
  assert.equal(search.code, 0, search.stderr);
  const parsed = JSON.parse(search.stdout) as { query: string; results: Record<string, unknown>[] };
  assert.equal(parsed.query, 'computeInvoiceTotal');
  const top = parsed.results[0]!;
  assert.equal(top.path, 'src/billing.ts');
  assert.equal(top.source, 'workspace');
  assert.equal(top.startLine, 1);
  assert.equal(top.endLine, 3);
  assert.equal(top.rank, 1);
  assert.equal(typeof top.score, 'number');
  assert.match(String(top.text), /computeInvoiceTotal/);
  assert.ok(
    parsed.results.every((r) => !String(r.text).includes('sk-canary')),
    '.env is never indexed',
  );

  const one = JSON.parse((await runCli(['search', folder, 'invoice', '-k', '1', '--json'], { env })).stdout) as { results: unknown[] };
  assert.equal(one.results.length, 1);
  const memories = JSON.parse((await runCli(['search', folder, 'invoice', '--source', 'memory', '--json'], { env })).stdout) as {
    results: unknown[];
  };
  assert.equal(memories.results.length, 0, 'nothing was remembered, only indexed');
  const readmeOnly = JSON.parse((await runCli(['search', folder, 'invoice', '--path', '*.md', '--json'], { env })).stdout) as {
    results: { path: string }[];
  };
  assert.ok(readmeOnly.results.length > 0);
  assert.ok(
    readmeOnly.results.every((r) => r.path === 'README.md'),
    JSON.stringify(readmeOnly.results),
  );

  const text = await runCli(['search', folder, 'computeInvoiceTotal'], { env });
  assert.match(text.stdout, /^1\. src\/billing\.ts:1-3 {2}\(workspace, score \d\.\d{4}\)\n {4}export function computeInvoiceTotal/);
});

test('search on a folder never indexed says how to fix it', async () => {
  const r = await runCli(['search', folder, 'invoice'], { env: envFor(newStateDir()) });
  assert.equal(r.code, 0);
  assert.match(r.stderr, /archival memory of .* is empty\. Run `memgpt index/);
});

test('ask streams the reply to stdout as it arrives and shows function calls on stderr', async () => {
  const env = envFor(newStateDir());
  await runCli(['index', folder], { env });
  const answer = 'Invoices are totalled by computeInvoiceTotal in src/billing.ts, lines 1 to 3.';
  server.enqueue(
    toolCall('archival_memory_search', { query: 'invoice total', request_heartbeat: true }),
    sendMessage(answer, { chunkDelayMs: 60, argumentChunkSize: 4 }),
  );
  const before = server.chatRequests().length;
  const cli = startCli(['ask', folder, 'Where are invoices totalled?'], { env });
  await until(() => cli.stdout().length > 0, 'the first streamed words');
  const partial = cli.stdout();
  const r = await cli.done;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    partial.length < answer.length && answer.startsWith(partial),
    `stdout grew while streaming (first seen: ${JSON.stringify(partial)})`,
  );
  assert.equal(r.stdout, `${answer}\n`);
  assert.match(r.stderr, /→ archival_memory_search\(\{"query":"invoice total"/);
  assert.doesNotMatch(r.stderr, /send_message/);
  const second = server.chatRequests()[before + 1]!.body.messages;
  assert.match(String(second[second.length - 1]!.content), /src\/billing\.ts/, 'the search really ran against the index');
});

test('ask --json prints {reply, functionCalls, finishReason} and nothing else on stdout', async () => {
  const env = envFor(newStateDir());
  server.enqueue(
    toolCall('core_memory_append', { label: 'human', content: 'Prefers tabs.', request_heartbeat: true }),
    sendMessage('Noted: tabs.'),
  );
  const r = await runCli(['ask', folder, 'I prefer tabs', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    reply: string;
    functionCalls: { name: string; arguments: unknown; status: string }[];
    finishReason: string;
  };
  assert.deepEqual(Object.keys(out).sort(), ['finishReason', 'functionCalls', 'reply']);
  assert.equal(out.reply, 'Noted: tabs.');
  assert.equal(out.finishReason, 'done');
  assert.deepEqual(
    out.functionCalls.map((c) => [c.name, c.status]),
    [
      ['core_memory_append', 'OK'],
      ['send_message', 'OK'],
    ],
  );
  assert.deepEqual(out.functionCalls[0]!.arguments, { label: 'human', content: 'Prefers tabs.', request_heartbeat: true });
  assert.doesNotMatch(r.stderr, /→/, 'no call lines with --json');
  const memory = JSON.parse((await runCli(['memory', folder, '--json'], { env })).stdout) as {
    coreMemory: { label: string; value: string }[];
  };
  assert.match(memory.coreMemory.find((b) => b.label === 'human')!.value, /Prefers tabs\./, 'the memory edit was saved');
});

test('a failed turn exits 1 with one line; the API key never appears in any output', async () => {
  const key = 'sk-cli-test-canary-0123456789abcdef';
  const env = envFor(newStateDir(), { OPENAI_API_KEY: key });
  server.enqueue(errorStep(400, { message: `Invalid request for key ${key}` }));
  const failed = await runCli(['ask', folder, 'hi'], { env });
  assert.equal(failed.code, 1, failed.stderr);
  assertOneLineError(failed, /^error: .*rejected the request.*\[redacted\]/);
  assert.ok(!failed.stderr.includes(key) && !failed.stdout.includes(key));
  assert.equal(server.chatRequests().at(-1)!.headers.authorization, `Bearer ${key}`, 'the key is sent to the server');

  server.enqueue(sendMessage(`Your key is ${key}, keep it safe.`, { argumentChunkSize: 3 }));
  const echoed = await runCli(['ask', folder, 'what is my key?'], { env });
  assert.equal(echoed.code, 0, echoed.stderr);
  assert.equal(echoed.stdout, 'Your key is [redacted], keep it safe.\n', 'redacted even when streamed in pieces');
  const exported = await runCli(['export', folder], { env });
  assert.ok(!exported.stdout.includes(key), 'the export never holds the key');
});

test('chat: piped lines are messages, /memory prints memory, /exit ends the session', async () => {
  const env = envFor(newStateDir());
  server.enqueue(sendMessage('Hi from chat'));
  const before = server.chatRequests().length;
  const r = await runCli(['chat', folder], { env, stdin: 'hello there\n/memory\n/exit\nnever sent\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Hi from chat\n/);
  assert.match(r.stdout, /Core memory:\n {2}persona/);
  assert.match(r.stdout, /Recall: \d+ messages/);
  assert.equal(server.chatRequests().length - before, 1, 'one model call: /memory and /exit are not messages, nothing after /exit is sent');
  assert.match(r.stderr, /Chatting with agent "MemGPT"/);
});

test('memory --json: agent, core memory blocks, recall and archival counts, context breakdown', async () => {
  const env = envFor(newStateDir());
  await runCli(['index', folder], { env });
  server.enqueue(sendMessage('ok'));
  assert.equal((await runCli(['ask', folder, 'hello'], { env })).code, 0);
  const r = await runCli(['memory', folder, '--json', '--context-window', '4096'], { env });
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout) as {
    agent: { id: string; name: string; active: boolean };
    readOnly: boolean;
    coreMemory: { label: string; value: string; limit: number }[];
    recall: { count: number };
    archival: { total: number; workspace: number; memory: number };
    context: { windowTokens: number; usedTokens: number; systemTokens: number; messagesTokens: number } | null;
  };
  assert.equal(m.agent.name, 'MemGPT');
  assert.equal(m.agent.active, true);
  assert.equal(m.readOnly, false);
  assert.deepEqual(m.coreMemory.map((b) => b.label).slice(0, 2), ['persona', 'human']);
  assert.ok(m.coreMemory.every((b) => b.limit > 0));
  assert.ok(m.recall.count >= 2, 'the user message and the reply');
  assert.ok(m.archival.workspace > 0 && m.archival.total === m.archival.workspace + m.archival.memory);
  assert.equal(m.context!.windowTokens, 4096, '--context-window is applied');
  assert.ok(m.context!.usedTokens > m.context!.systemTokens && m.context!.messagesTokens > 0);
  const text = await runCli(['memory', folder], { env });
  assert.match(text.stdout, /Context window: 8192 tokens, pressure ok\n {2}system/);
});

test('Ctrl-C during a hanging model call exits 130, saves the message and releases the lock', async () => {
  const stateDir = newStateDir();
  const env = envFor(stateDir);
  server.enqueue(hang());
  const before = server.chatRequests().length;
  const cli = startCli(['ask', folder, 'the canary question about invoices'], { env });
  await until(() => server.chatRequests().length > before, 'the model call');
  const interruptedAt = Date.now();
  cli.child.kill('SIGINT');
  const r = await cli.done;
  assert.equal(r.code, 130, r.stderr);
  assert.ok(Date.now() - interruptedAt < 10_000, 'the hanging call was aborted, not waited for');
  assert.match(r.stderr, /Cancelled\. The message and everything before it are saved\./);

  const exported = await runCli(['export', folder], { env });
  assert.equal(exported.code, 0, exported.stderr);
  assert.doesNotMatch(exported.stderr, /read-only/, 'the lock was released');
  const data = JSON.parse(exported.stdout) as { recall: { message: { role: string; content: unknown } }[] };
  assert.ok(
    data.recall.some(
      (rec) => rec.message.role === 'user' && JSON.stringify(rec.message.content).includes('the canary question about invoices'),
    ),
    'the user message is in recall',
  );
});

test('Ctrl-C during indexing exits 130 and keeps what was indexed; the next run continues', async () => {
  const big = path.join(root, 'big');
  await mkdir(big, { recursive: true });
  const body = (i: number): string =>
    Array.from(
      { length: 40 },
      (_, line) => `export function handler${i}_${line}(input: string): string { return input.repeat(${line}) + 'module ${i}'; }`,
    ).join('\n');
  for (let i = 0; i < 1200; i++) await writeFile(path.join(big, `m${i}.ts`), body(i));
  const stateDir = newStateDir();
  const env = envFor(stateDir);
  const cli = startCli(['index', big], { env });
  const workspaces = path.join(stateDir, 'workspaces');
  await until(
    () => existsSync(workspaces) && readdirSync(workspaces).some((d) => existsSync(path.join(workspaces, d, 'memory.lock'))),
    'the memory to be opened',
  );
  await new Promise((r) => setTimeout(r, 300));
  cli.child.kill('SIGINT');
  const r = await cli.done;
  assert.equal(r.code, 130, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^Cancelled after .*: \d+ files indexed/);
  assert.match(r.stderr, /What was indexed so far is saved/);
  const done = Number(/: (\d+) files indexed/.exec(r.stdout)![1]);
  // Zero is possible on a slow machine (Ctrl-C while files are still being found); all 1200 is not.
  assert.ok(done < 1200, `stopped part-way (${done} files)`);
  const next = JSON.parse((await runCli(['index', big, '--json'], { env })).stdout) as { indexed: number; unchanged: number };
  assert.equal(next.unchanged, done, 'the files indexed before Ctrl-C are not indexed again');
  assert.equal(next.indexed + next.unchanged, 1200);
});

test('chat: Ctrl-C cancels the running reply and the session goes on; Ctrl-C twice quits with 130', async () => {
  const env = envFor(newStateDir());
  server.enqueue(hang(), sendMessage('after the cancel'));
  const before = server.chatRequests().length;
  const cli = startCli(['chat', folder], { env, keepStdinOpen: true });
  await cli.waitForStderr(/Chatting with agent/);
  cli.child.stdin!.write('first question\n');
  await until(() => server.chatRequests().length > before, 'the first model call');
  cli.child.kill('SIGINT');
  await cli.waitForStderr(/Cancelled\./);
  // /memory runs only after the turn has finished, so the next Ctrl-C finds the session idle.
  cli.child.stdin!.write('second question\n/memory\n');
  await until(() => cli.stdout().includes('Core memory:'), 'the second reply and the memory report');
  assert.match(cli.stdout(), /^after the cancel\n/);
  cli.child.kill('SIGINT');
  await cli.waitForStderr(/Ctrl-C again or Ctrl-D to quit/);
  cli.child.kill('SIGINT');
  const r = await cli.done;
  assert.equal(r.code, 130, r.stderr);
  const memory = JSON.parse((await runCli(['memory', folder, '--json'], { env })).stdout) as { recall: { count: number } };
  assert.ok(memory.recall.count >= 3, `both user messages and the reply were saved (${memory.recall.count})`);
});

test('another process holding the lock: search, memory and export work; ask, chat, index and import exit 1', async () => {
  const stateDir = newStateDir();
  const env = envFor(stateDir);
  await runCli(['index', folder], { env });
  server.enqueue(sendMessage('first'));
  await runCli(['ask', folder, 'hello'], { env });
  const exportFile = path.join(root, 'locked-export.json');
  await writeFile(exportFile, (await runCli(['export', folder], { env })).stdout);

  const holder = spawn(process.execPath, ['--import', 'tsx', 'test/unit/cli/lockHolder.ts', stateDir, folder], {
    cwd: REPO,
    env: cleanEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let holderOut = '';
  holder.stdout.setEncoding('utf8').on('data', (d: string) => (holderOut += d));
  holder.stderr.setEncoding('utf8').on('data', (d: string) => (holderOut += d));
  const holderExit = new Promise<number | null>((resolve) => holder.on('close', resolve));
  try {
    await until(() => holderOut.includes('READY'), `the lock holder (${holderOut})`);
    const search = await runCli(['search', folder, 'computeInvoiceTotal', '--json'], { env });
    assert.equal(search.code, 0, search.stderr);
    assert.equal((JSON.parse(search.stdout) as { results: { path: string }[] }).results[0]!.path, 'src/billing.ts');
    assert.match(search.stderr, /VS Code window .*holds this workspace's memory/);
    const memory = await runCli(['memory', folder, '--json'], { env });
    assert.equal(memory.code, 0, memory.stderr);
    assert.equal((JSON.parse(memory.stdout) as { readOnly: boolean }).readOnly, true);
    const exported = await runCli(['export', folder], { env });
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(
      (JSON.parse(exported.stdout) as { format: string }).format,
      (JSON.parse(await readFile(exportFile, 'utf8')) as { format: string }).format,
    );

    const requests = server.chatRequests().length;
    for (const args of [
      ['ask', folder, 'hi'],
      ['chat', folder],
      ['index', folder],
      ['import', folder, exportFile],
    ]) {
      const r = await runCli(args, { env, stdin: 'hi\n' });
      assert.equal(r.code, 1, `${args[0]} → ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, /memgpt: Cannot .*: VS Code window \(pid \d+.*holds this workspace's memory.*try again/);
    }
    assert.equal(server.chatRequests().length, requests, 'no model call while locked');
  } finally {
    holder.stdin.end();
    assert.equal(await holderExit, 0, holderOut);
  }
  server.enqueue(sendMessage('unlocked'));
  const after = await runCli(['ask', folder, 'and now?'], { env });
  assert.equal(after.code, 0, after.stderr);
  assert.equal(after.stdout, 'unlocked\n');
});

test('an agent exported by the CLI is imported into another state folder and continues its conversation', async () => {
  const envA = envFor(newStateDir());
  const envB = envFor(newStateDir());
  server.enqueue(
    toolCall('core_memory_replace', {
      label: 'human',
      old_content: 'Name: not known yet.',
      new_content: 'Name: Ada.',
      request_heartbeat: true,
    }),
    sendMessage('Hello Ada'),
  );
  assert.equal((await runCli(['ask', folder, 'My name is Ada, remember the purple elephant'], { env: envA })).code, 0);
  const file = path.join(root, 'ada.json');
  const exported = await runCli(['export', folder, '--out', file], { env: envA });
  assert.equal(exported.code, 0, exported.stderr);
  assert.equal(exported.stdout, '');
  assert.match(exported.stderr, /Exported agent "MemGPT" \(.*, \d+ recall messages\) to /);
  const data = JSON.parse(await readFile(file, 'utf8')) as { agent: { id: string } };

  const imported = await runCli(['import', folder, file, '--json'], { env: envB });
  assert.equal(imported.code, 0, imported.stderr);
  const info = JSON.parse(imported.stdout) as { id: string; name: string; active: boolean };
  assert.deepEqual(info, { id: data.agent.id, name: 'MemGPT', active: true });
  const memory = JSON.parse((await runCli(['memory', folder, '--json'], { env: envB })).stdout) as {
    agent: { id: string };
    coreMemory: { label: string; value: string }[];
  };
  assert.equal(memory.agent.id, data.agent.id);
  assert.match(memory.coreMemory.find((b) => b.label === 'human')!.value, /Name: Ada\./);

  server.enqueue(sendMessage('Still here'));
  const before = server.chatRequests().length;
  assert.equal((await runCli(['ask', folder, 'do you remember me?'], { env: envB })).code, 0);
  const request = server.chatRequests()[before]!.body.messages;
  assert.ok(
    request.some((m) => typeof m.content === 'string' && m.content.includes('purple elephant')),
    'the imported conversation is in context',
  );

  // Importing into a folder that has agents adds one (renamed) without switching; --agent selects it.
  const again = await runCli(['import', folder, file], { env: envB });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Imported agent "MemGPT \(imported\)" as [\w-]+\.\n/);
  const named = JSON.parse((await runCli(['memory', folder, '--json', '--agent', 'MemGPT (imported)'], { env: envB })).stdout) as {
    agent: { name: string; active: boolean };
  };
  assert.deepEqual([named.agent.name, named.agent.active], ['MemGPT (imported)', false]);
  server.enqueue(sendMessage('I am the copy'));
  assert.equal((await runCli(['ask', folder, 'who are you?', '--agent', 'memgpt (imported)'], { env: envB })).stdout, 'I am the copy\n');
  const active = JSON.parse((await runCli(['memory', folder, '--json'], { env: envB })).stdout) as { agent: { name: string } };
  assert.equal(active.agent.name, 'MemGPT (imported)', 'ask --agent made it the active agent');
  const unknown = await runCli(['ask', folder, 'hi', '--agent', 'nobody'], { env: envB });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /There is no agent "nobody".*"MemGPT"/);
});
