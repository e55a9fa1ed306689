/**
 * The MCP servers of a folder from the command line, against the built dist/cli.js: `memgpt
 * mcp-servers` lists each configured server with its state and functions (and a broken one with
 * its reason, exit 1), and `memgpt ask --yes` lets the agent call an MCP tool (the --yes covers it,
 * as it covers edits and commands) with the result in the reply's turn.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sendMessage, startFakeOpenAIServer, toolCall, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import { bundleMcpTestServer } from '../../fixtures/mcpTestServer';
import { cleanEnv, ensureBuilt, runCli } from './cliHarness';
import { stepRequests, toolResultIn } from '../agent/agentHarness';

let root: string;
let folder: string;
let server: FakeOpenAIServer;
let env: Record<string, string>;

before(async () => {
  ensureBuilt();
  root = await mkdtemp(path.join(tmpdir(), 'memgpt-cli-mcp-'));
  folder = path.join(root, 'project');
  await mkdir(path.join(folder, '.vscode'), { recursive: true });
  const fixture = await bundleMcpTestServer(root);
  await writeFile(
    path.join(folder, '.vscode', 'mcp.json'),
    JSON.stringify({
      servers: {
        tools: { type: 'stdio', command: process.execPath, args: [fixture] },
        broken: { command: process.execPath, args: [fixture, 'exit-at-start'] },
      },
    }),
  );
  server = await startFakeOpenAIServer({ models: ['local-model'] });
  env = cleanEnv({ MEMGPT_STATE_DIR: path.join(root, 'state'), OPENAI_BASE_URL: server.url, MEMGPT_MODEL: 'local-model' });
});

after(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

test('memgpt mcp-servers lists each server, its state and its functions; a broken one says why and exits 1', async () => {
  const r = await runCli(['mcp-servers', folder], { env, timeoutMs: 90_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /\* tools \(stdio, \.vscode\/mcp\.json\): running, \d+ functions/);
  assert.match(r.stdout, /- mcp__tools__echo/);
  assert.match(r.stdout, /! broken .*could not start/);
  assert.match(r.stdout, /missing configuration file server\.yaml/);
  const json = await runCli(['mcp-servers', folder, '--json'], { env, timeoutMs: 90_000 });
  const parsed = JSON.parse(json.stdout) as { servers: { name: string; state: { kind: string }; functions: string[] }[] };
  const tools = parsed.servers.find((s) => s.name === 'tools')!;
  assert.equal(tools.state.kind, 'running');
  assert.ok(tools.functions.includes('mcp__tools__add'));
});

test('memgpt ask --yes: the agent calls an MCP tool and reads its result', async () => {
  server.enqueue(toolCall('mcp__tools__add', { a: 40, b: 2, request_heartbeat: true }, { id: 'call-1' }));
  server.enqueue(sendMessage('It is 42.'));
  const r = await runCli(['ask', folder, 'What is 40 + 2? Use the tool.', '--yes'], { env, timeoutMs: 90_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /It is 42\./);
  const steps = stepRequests(server);
  const read = toolResultIn(steps[steps.length - 1]!, 'call-1')!;
  assert.equal(read.status, 'OK', read.message);
  assert.match(read.message, /42/);
  assert.match(read.message, /approved by the user/);
});
