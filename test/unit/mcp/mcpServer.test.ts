/**
 * `memgpt mcp <folder>` driven by the MCP SDK's own Client over stdio, against the built
 * dist/cli.js in a child process: the tool list, every tool on a memory prepared with the CLI
 * (index, a conversation with the scripted model server, a remembered note), bad arguments as
 * MCP errors, read tools leaving the storage byte-identical, and the server beside a process
 * that holds the memory's lock (reads work, remembering says why it cannot).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { sendMessage, startFakeOpenAIServer, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { CLI, REPO, cleanEnv, ensureBuilt, runCli, until } from '../cli/cliHarness';
import { MEMORY_TOOLS } from '../../../src/core/mcp/memoryTools';
import { runtimeConfigFrom } from '../../../src/cli/config';
import { deliverLogin } from '../../../src/core/events/agentWakeups';
import { WorkspaceRuntime } from '../../../src/core/runtime/workspaceRuntime';

let root: string;
let folder: string;
let stateDir: string;
let server: FakeOpenAIServer;
let env: Record<string, string>;

before(async () => {
  ensureBuilt();
  root = await mkdtemp(path.join(tmpdir(), 'memgpt-mcp-'));
  folder = path.join(root, 'project');
  stateDir = path.join(root, 'state');
  await mkdir(path.join(folder, 'src'), { recursive: true });
  await writeFile(
    path.join(folder, 'src', 'billing.ts'),
    'export function computeInvoiceTotal(lines: number[]): number {\n  return lines.reduce((a, b) => a + b, 0);\n}\n',
  );
  await writeFile(
    path.join(folder, 'src', 'shipping.ts'),
    'export function estimateParcelWeight(items: { grams: number }[]): number {\n  return items.reduce((a, i) => a + i.grams, 0);\n}\n',
  );
  await writeFile(path.join(folder, 'README.md'), '# Project\n\nInvoices are totalled in src/billing.ts.\n');
  server = await startFakeOpenAIServer({ models: ['local-model'] });
  env = cleanEnv({ MEMGPT_STATE_DIR: stateDir, OPENAI_BASE_URL: server.url, MEMGPT_MODEL: 'local-model' });
  const indexed = await runCli(['index', folder], { env });
  assert.equal(indexed.code, 0, indexed.stderr);
  server.enqueue(sendMessage('Noted: the purple elephant is the staging server.'));
  const asked = await runCli(['ask', folder, 'Remember that the purple elephant is our staging server'], { env });
  assert.equal(asked.code, 0, asked.stderr);
});

after(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

interface Connected {
  client: Client;
  stderr: () => string;
  close: () => Promise<void>;
}

async function connect(): Promise<Connected> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', folder], env, cwd: REPO, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const client = new Client({ name: 'memgpt-test', version: '0.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** Every file under the storage folder with its bytes' hash: a read that writes anything changes it. */
async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else
        out.set(
          path.relative(dir, p),
          createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
        );
    }
  };
  await walk(dir);
  return out;
}

async function expectMcpError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof McpError, `an McpError, got ${String(error)}`);
    assert.equal(error.code, ErrorCode.InvalidParams);
    assert.match(error.message, pattern);
    return true;
  });
}

test('mcp: lists the five memory tools with JSON-schema input, read tools marked read-only', async () => {
  const c = await connect();
  try {
    const { tools } = await c.client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['archival_memory_search', 'find_symbol', 'conversation_search', 'core_memory_read', 'archival_memory_insert'],
    );
    for (const tool of tools) {
      const def = MEMORY_TOOLS.find((d) => d.name === tool.name)!;
      assert.equal(tool.inputSchema.type, 'object');
      assert.deepEqual(tool.inputSchema.properties, def.inputSchema.properties);
      assert.ok((tool.description ?? '').length > 80, `${tool.name} explains itself`);
      assert.equal(tool.annotations?.readOnlyHint, !def.writes);
    }
    assert.deepEqual(tools.find((t) => t.name === 'archival_memory_search')!.inputSchema.required, ['query']);
    assert.equal(c.client.getServerVersion()?.name, 'memgpt');
  } finally {
    await c.close();
  }
});

test('mcp: each tool answers on a prepared memory; read tools write nothing; search equals `memgpt search`', async () => {
  const c = await connect();
  try {
    const stored = await call(c.client, 'archival_memory_insert', {
      content: 'Deploys happen on Fridays only, through the release train.',
    });
    assert.ok(!stored.isError, text(stored));
    assert.match(text(stored), /Stored in archival memory \(id /);
    const noteId = (stored.structuredContent as { id: string }).id;

    const before = await hashTree(stateDir);
    assert.ok(![...before.keys()].some((k) => k.endsWith('memory.lock')), 'the lock taken for the note was released');

    const search = await call(c.client, 'archival_memory_search', { query: 'computeInvoiceTotal', k: 3 });
    assert.ok(!search.isError, text(search));
    const results = (search.structuredContent as { results: { id: string; path: string | null; source: string }[] }).results;
    assert.equal(results[0]!.path, 'src/billing.ts');
    assert.match(text(search), /src\/billing\.ts:1-3[\s\S]*computeInvoiceTotal/);
    const cli = await runCli(['search', folder, 'computeInvoiceTotal', '-k', '3', '--json'], { env });
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(
      results.map((r) => r.id),
      (JSON.parse(cli.stdout) as { results: { id: string }[] }).results.map((r) => r.id),
      'the same hits as memgpt search',
    );

    const memories = await call(c.client, 'archival_memory_search', { query: 'when do deploys happen', source: 'memory' });
    const memoryHits = (memories.structuredContent as { results: { id: string; source: string }[] }).results;
    assert.deepEqual(
      memoryHits.map((h) => [h.id, h.source]),
      [[noteId, 'memory']],
    );
    const globbed = await call(c.client, 'archival_memory_search', { query: 'reduce', path: 'src/shipping*' });
    assert.deepEqual(
      [...new Set((globbed.structuredContent as { results: { path: string }[] }).results.map((r) => r.path))],
      ['src/shipping.ts'],
    );

    const symbol = await call(c.client, 'find_symbol', { name: 'computeInvoiceTotal' });
    assert.ok(!symbol.isError, text(symbol));
    assert.match(text(symbol), /Definitions:\n- src\/billing\.ts:1 function computeInvoiceTotal/);
    assert.deepEqual(
      (symbol.structuredContent as { definitions: { path: string }[] }).definitions.map((d) => d.path),
      ['src/billing.ts'],
    );

    const recall = await call(c.client, 'conversation_search', { query: 'purple elephant' });
    assert.ok(!recall.isError, text(recall));
    assert.match(text(recall), /^Showing \d+ of \d+ results \(page 0\/0\):/);
    const records = (recall.structuredContent as { results: { role: string; text: string }[] }).results;
    assert.ok(
      records.some((r) => r.role === 'user' && /purple elephant is our staging server/.test(r.text)),
      JSON.stringify(records),
    );
    const none = await call(c.client, 'conversation_search', { query: 'zebra crossing' });
    assert.match(text(none), /No past messages match "zebra crossing"/);

    const core = await call(c.client, 'core_memory_read', {});
    const blocks = (core.structuredContent as { agent: { name: string }; blocks: { label: string; limit: number }[] }).blocks;
    assert.ok(blocks.some((b) => b.label === 'human') && blocks.some((b) => b.label === 'persona'), JSON.stringify(blocks));
    assert.match(text(core), /<human chars="\d+\/\d+">/);
    const human = await call(c.client, 'core_memory_read', { label: 'human' });
    assert.deepEqual(
      (human.structuredContent as { blocks: { label: string }[] }).blocks.map((b) => b.label),
      ['human'],
    );

    assert.deepEqual(await hashTree(stateDir), before, 'the read tools left every file of the memory byte-identical');
  } finally {
    await c.close();
  }
});

test('mcp: conversation_search marks the records of a turn nobody asked for (a login greeting) automatic, as recall does', async () => {
  // A window opening on this memory runs the login, and the agent greets on its own.
  const window = await WorkspaceRuntime.open({
    storageRoot: stateDir,
    folders: [{ name: path.basename(folder), path: folder }],
    trusted: true,
    owner: 'VS Code window',
    config: runtimeConfigFrom({}, env),
  });
  try {
    server.enqueue(sendMessage('Welcome back! The purple elephant still hosts staging.'));
    assert.equal(await deliverLogin(window.chat, true), 'ran');
  } finally {
    await window.close();
  }
  const c = await connect();
  try {
    const recall = await call(c.client, 'conversation_search', { query: 'purple elephant' });
    assert.ok(!recall.isError, text(recall));
    const results = (recall.structuredContent as { results: { role: string; text: string; automatic?: unknown }[] }).results;
    const greeting = results.find((r) => r.role === 'assistant' && /Welcome back/.test(r.text));
    assert.equal(greeting?.automatic, true, JSON.stringify(results));
    const asked = results.find((r) => r.role === 'user' && /purple elephant is our staging server/.test(r.text));
    assert.ok(asked, JSON.stringify(results));
    assert.ok(!('automatic' in asked), "the user's own message carries no flag");
    const answer = results.find((r) => r.role === 'assistant' && /Noted: the purple elephant/.test(r.text));
    assert.ok(answer && !('automatic' in answer), 'nor does the reply to it');
    assert.match(text(recall), /automatic turn: not a reply to the user/);
  } finally {
    await c.close();
  }
});

test('mcp: bad arguments and unknown tools are MCP errors (InvalidParams), and nothing runs', async () => {
  const c = await connect();
  try {
    const before = await hashTree(stateDir);
    await expectMcpError(call(c.client, 'archival_memory_search', {}), /missing required argument "query"/);
    await expectMcpError(call(c.client, 'archival_memory_search', { query: 'x', k: 0 }), /"k" must be at least 1/);
    await expectMcpError(call(c.client, 'archival_memory_search', { query: 'x', k: 51 }), /"k" must be at most 50/);
    await expectMcpError(
      call(c.client, 'archival_memory_search', { query: 'x', source: 'web' }),
      /"source" must be one of "workspace", "memory"/,
    );
    await expectMcpError(call(c.client, 'archival_memory_search', { query: 'x', limit: 3 }), /unknown argument "limit"/);
    await expectMcpError(call(c.client, 'archival_memory_search', { query: '   ' }), /"query" is empty/);
    await expectMcpError(call(c.client, 'conversation_search', { query: 'purple', page: 7 }), /Page 7 does not exist/);
    await expectMcpError(call(c.client, 'core_memory_read', { label: 'nope' }), /no block "nope"\. Blocks: .*human/);
    await expectMcpError(call(c.client, 'archival_memory_insert', { content: 'x'.repeat(8001) }), /more than 8000\. Split the note/);
    await expectMcpError(call(c.client, 'archival_memory_insert', { content: '' }), /"content" is empty/);
    await expectMcpError(call(c.client, 'delete_everything', {}), /There is no tool "delete_everything"/);
    assert.deepEqual(await hashTree(stateDir), before, 'rejected calls changed nothing');
  } finally {
    await c.close();
  }
});

test('mcp: beside a process holding the lock it still searches; remembering fails and says why', async () => {
  const c = await connect();
  // The server is running but holds no lock: the "window" opened after it becomes the writer.
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
    const search = await call(c.client, 'archival_memory_search', { query: 'estimateParcelWeight' });
    assert.ok(!search.isError, text(search));
    assert.equal((search.structuredContent as { results: { path: string }[] }).results[0]!.path, 'src/shipping.ts');
    const recall = await call(c.client, 'conversation_search', { query: 'staging server' });
    assert.ok(!recall.isError, text(recall));

    const refused = await call(c.client, 'archival_memory_insert', { content: 'A note while the window holds the memory.' });
    assert.equal(refused.isError, true);
    assert.match(
      text(refused),
      /Cannot remember this note: the memory is open read-only here \(VS Code window \(pid \d+.*holds this workspace's memory.*searching and reading work meanwhile/,
    );
    assert.equal((refused.structuredContent as { error: { code: string } }).error.code, 'read_only');
  } finally {
    holder.stdin.end();
    assert.equal(await holderExit, 0, holderOut);
    await c.close();
  }
  const memories = await runCli(['search', folder, 'window holds the memory', '--source', 'memory', '--json'], { env });
  assert.ok(!memories.stdout.includes('A note while the window holds'), 'the refused note was not stored');
});

test('mcp: the server exits 0 when the client closes stdin', async () => {
  const child = spawn(process.execPath, [CLI, 'mcp', folder], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end();
  assert.equal(await exited, 0);
});
