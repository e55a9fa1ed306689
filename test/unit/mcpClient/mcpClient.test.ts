/**
 * The agent's MCP client (McpHub over the official SDK's client) against real servers the tests
 * start: the SDK-written server of test/fixtures/mcpTestServer.ts as a stdio process (normal, one
 * that exits at start, one that never answers the handshake, one whose tool hangs, one that
 * crashes in a call) and over streamable HTTP on 127.0.0.1; approval asked for every call;
 * workspace trust; secrets kept out of the servers' environment.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApprovalAnswer, ApprovalRequest, ApprovalRequester } from '../../../src/core/interfaces/approval';
import { McpHub, type McpHubOptions } from '../../../src/core/mcpClient/mcpHub';
import { bundleMcpTestServer, startMcpHttpServer } from '../../fixtures/mcpTestServer';

const REPO = path.resolve(__dirname, '../../..');
let FIXTURE = '';
const API_KEY = 'sk-mcp-test-secret-0123456789';
const roots: string[] = [];
const hubs: McpHub[] = [];

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'memgpt-mcp-fixture-'));
  roots.push(dir);
  FIXTURE = await bundleMcpTestServer(dir);
});

after(async () => {
  await Promise.all(hubs.map((h) => h.close()));
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function stdioServer(mode = 'normal', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'stdio', command: process.execPath, args: [FIXTURE, mode], cwd: REPO, ...extra };
}

interface TestHub {
  hub: McpHub;
  asked: ApprovalRequest[];
  logs: string[];
  folder: string;
}

function makeHub(
  servers: Record<string, unknown>,
  options: {
    answer?: (r: ApprovalRequest) => ApprovalAnswer;
    trusted?: boolean;
    mcpJson?: unknown;
    timeouts?: McpHubOptions['timeouts'];
    baseEnv?: NodeJS.ProcessEnv;
  } = {},
): TestHub {
  const folder = mkdtempSync(path.join(tmpdir(), 'memgpt-mcp-client-'));
  roots.push(folder);
  if (options.mcpJson !== undefined) {
    mkdirSync(path.join(folder, '.vscode'), { recursive: true });
    writeFileSync(
      path.join(folder, '.vscode', 'mcp.json'),
      typeof options.mcpJson === 'string' ? options.mcpJson : JSON.stringify(options.mcpJson),
    );
  }
  const asked: ApprovalRequest[] = [];
  const logs: string[] = [];
  const approver: ApprovalRequester = {
    request: (r) => {
      asked.push(r);
      return Promise.resolve(options.answer ? options.answer(r) : { decision: 'accept' });
    },
  };
  const hub = new McpHub({
    folders: () => [{ name: 'ws', path: folder }],
    trusted: () => options.trusted ?? true,
    settingServers: () => ({ servers }),
    secretValues: () => [API_KEY],
    approver: () => approver,
    log: (_level, m) => logs.push(m),
    baseEnv: options.baseEnv ?? {
      ...process.env,
      OPENAI_API_KEY: API_KEY,
      GITHUB_TOKEN: 'ghp_notreal',
      INNOCENT_NAME: `prefix-${API_KEY}`,
    },
    // A busy test machine starts processes slowly: turns wait longer here than a user's would.
    timeouts: { turnWaitMs: 20_000, ...options.timeouts },
  });
  hubs.push(hub);
  return { hub, asked, logs, folder };
}

test('a stdio server: its tools become named, described functions, and a call is approved, then run', async () => {
  const { hub, asked } = makeHub({ test: stdioServer('normal', { env: { MCP_TEST_VAR: 'from-config' } }) });
  await hub.start();
  const turn = await hub.prepareTurn();
  const names = turn.schemas.map((s) => s.function.name);
  for (const n of ['mcp__test__echo', 'mcp__test__add', 'mcp__test__env', 'mcp__test__weird_name_with_dots'])
    assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  for (const n of names) assert.match(n, /^[A-Za-z0-9_-]{1,64}$/);
  const echo = turn.schemas.find((s) => s.function.name === 'mcp__test__echo')!;
  assert.match(echo.function.description, /Returns the text it is given/);
  assert.match(echo.function.description, /MCP server "test"/);
  assert.deepEqual(echo.function.parameters.required, ['text']);
  assert.equal(echo.function.parameters.properties.text?.type, 'string');
  assert.equal(echo.function.parameters.properties.request_heartbeat?.type, 'boolean');
  // A type list with null becomes its real type.
  const big = turn.schemas.find((s) => s.function.name === 'mcp__test__big')!;
  assert.equal(big.function.parameters.properties.chars?.type, 'integer');

  const out = await hub.call('mcp__test__echo', { text: 'hello there', request_heartbeat: true }, { callId: 'c1' });
  assert.equal(out.status, 'OK', out.message);
  assert.match(out.message, /echo: hello there/);
  assert.equal(asked.length, 1);
  const req = asked[0]!;
  assert.equal(req.kind, 'tool');
  if (req.kind !== 'tool') return;
  assert.equal(req.callId, 'c1');
  assert.equal(req.server, 'test');
  assert.equal(req.tool, 'echo');
  assert.equal(req.readOnlyHint, true);
  // request_heartbeat is MemGPT's, never sent to the server nor shown as an argument.
  assert.deepEqual(JSON.parse(req.arguments), { text: 'hello there' });
});

test('the server starts without secrets in its environment; env from the configuration is passed as written', async () => {
  const { hub } = makeHub({ test: stdioServer('normal', { env: { MCP_TEST_VAR: 'from-config' } }) });
  await hub.start();
  await hub.prepareTurn();
  const out = await hub.call(
    'mcp__test__env',
    { names: ['OPENAI_API_KEY', 'GITHUB_TOKEN', 'INNOCENT_NAME', 'MCP_TEST_VAR', 'PATH'] },
    { callId: 'c' },
  );
  assert.equal(out.status, 'OK', out.message);
  const seen = JSON.parse(out.message.slice(out.message.indexOf('{'))) as Record<string, string | null>;
  assert.equal(seen.OPENAI_API_KEY, null);
  assert.equal(seen.GITHUB_TOKEN, null);
  assert.equal(seen.INNOCENT_NAME, null, 'a variable holding the key by value is removed too');
  assert.equal(seen.MCP_TEST_VAR, 'from-config');
  assert.ok(seen.PATH, 'ordinary variables stay');
});

test('arguments are checked against the tool schema before anyone is asked; obvious slips are fixed', async () => {
  const { hub, asked } = makeHub({ test: stdioServer() });
  await hub.start();
  await hub.prepareTurn();
  const bad = await hub.call('mcp__test__add', { a: 'two', b: 3 }, { callId: 'c' });
  assert.equal(bad.status, 'Failed');
  assert.match(bad.message, /Invalid arguments for mcp__test__add/);
  assert.equal(asked.length, 0, 'an invalid call is never put to the user');
  const fixed = await hub.call('mcp__test__add', { a: '2', b: 3 }, { callId: 'c2' });
  assert.equal(fixed.status, 'OK', fixed.message);
  assert.match(fixed.message, /\b5\b/);
  const extra = await hub.call('mcp__test__echo', { text: 'x', approved: true }, { callId: 'c3' });
  assert.equal(extra.status, 'Failed', 'echo declares additionalProperties: false');
});

test('a declined call is not run and says why; "always" stops asking for that tool only', async () => {
  const { hub, asked } = makeHub(
    { test: stdioServer() },
    {
      answer: (r) => (r.kind === 'tool' && r.tool === 'crash' ? { decision: 'reject', reason: 'do not crash it' } : { decision: 'always' }),
    },
  );
  await hub.start();
  await hub.prepareTurn();
  const denied = await hub.call('mcp__test__crash', {}, { callId: 'c1' });
  assert.equal(denied.status, 'Failed');
  assert.match(denied.message, /not approved — the user declined: do not crash it/);
  assert.equal(hub.servers()[0]!.state.kind, 'running', 'the declined tool did not run');
  await hub.call('mcp__test__echo', { text: 'a' }, { callId: 'c2' });
  const again = await hub.call('mcp__test__echo', { text: 'b' }, { callId: 'c3' });
  assert.match(again.message, /allowed for this session/);
  assert.equal(asked.filter((r) => r.kind === 'tool' && r.tool === 'echo').length, 1);
  const add = await hub.call('mcp__test__add', { a: 1, b: 1 }, { callId: 'c4' });
  assert.equal(add.status, 'OK');
  assert.equal(asked.filter((r) => r.kind === 'tool' && r.tool === 'add').length, 1, 'another tool still asks');
});

test('a tool that hangs is cut off at the call time-out and the server stays usable', async () => {
  const { hub } = makeHub({ test: stdioServer() }, { timeouts: { callMs: 1_500 } });
  await hub.start();
  await hub.prepareTurn();
  const started = Date.now();
  const out = await hub.call('mcp__test__slow', {}, { callId: 'c' });
  const elapsed = Date.now() - started;
  assert.equal(out.status, 'Failed');
  assert.match(out.message, /did not answer within 2 s|did not answer within 1 s/);
  assert.ok(elapsed < 6_000, `bounded: ${elapsed} ms`);
  const next = await hub.call('mcp__test__echo', { text: 'still here' }, { callId: 'c2' });
  assert.equal(next.status, 'OK', next.message);
});

test('Stop during a hanging call ends it at once', async () => {
  const { hub } = makeHub({ test: stdioServer() });
  await hub.start();
  await hub.prepareTurn();
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 300);
  const started = Date.now();
  const out = await hub.call('mcp__test__slow', {}, { callId: 'c', signal: controller.signal });
  assert.equal(out.status, 'Failed');
  assert.match(out.message, /stopped by the user/);
  assert.ok(Date.now() - started < 3_000);
});

test('a server that crashes during a call is reported with its last output, then started again at the next turn', async () => {
  const { hub, logs } = makeHub({ test: stdioServer() });
  await hub.start();
  await hub.prepareTurn();
  const out = await hub.call('mcp__test__crash', {}, { callId: 'c' });
  assert.equal(out.status, 'Failed');
  assert.match(out.message, /exited/);
  assert.match(out.message, /fatal: the test server was told to crash/);
  assert.equal(hub.servers()[0]!.state.kind, 'exited');
  assert.ok(
    logs.some((l) => /stopped/.test(l) && /told to crash/.test(l)),
    'the user is told (log)',
  );
  const gone = await hub.call('mcp__test__echo', { text: 'x' }, { callId: 'c2' });
  assert.equal(gone.status, 'Failed');
  assert.match(gone.message, /stopped|not running|exited/);
  const turn = await hub.prepareTurn();
  assert.ok(
    turn.notices.some((n) => /MCP server "test" stopped/.test(n)),
    turn.notices.join('\n'),
  );
  assert.ok(
    turn.schemas.some((s) => s.function.name === 'mcp__test__echo'),
    'restarted for the next turn',
  );
  const back = await hub.call('mcp__test__echo', { text: 'back' }, { callId: 'c3' });
  assert.equal(back.status, 'OK', back.message);
});

test('a server that exits at start is reported with its stderr and offers nothing', async () => {
  const { hub } = makeHub({ broken: stdioServer('exit-at-start'), good: stdioServer() });
  await hub.start();
  const turn = await hub.prepareTurn();
  assert.ok(
    turn.notices.some((n) => /"broken" could not be started/.test(n) && /missing configuration file server\.yaml/.test(n)),
    turn.notices.join('\n'),
  );
  assert.ok(!turn.schemas.some((s) => s.function.name.startsWith('mcp__broken__')));
  assert.ok(
    turn.schemas.some((s) => s.function.name === 'mcp__good__echo'),
    'the other server still works',
  );
  const again = await hub.prepareTurn();
  assert.ok(!again.notices.some((n) => /broken/.test(n)), 'said once');
});

test('a server that never answers the handshake does not hold up the turn, and fails at the start time-out', async () => {
  const { hub } = makeHub({ stuck: stdioServer('hang-at-start') }, { timeouts: { connectMs: 2_000, turnWaitMs: 300 } });
  const started = Date.now();
  const turn = await hub.prepareTurn();
  assert.ok(Date.now() - started < 1_500, `the turn waited ${Date.now() - started} ms`);
  assert.ok(
    turn.notices.some((n) => /still starting/.test(n)),
    turn.notices.join('\n'),
  );
  await new Promise((r) => setTimeout(r, 2_500));
  const view = hub.servers()[0]!;
  assert.equal(view.state.kind, 'failed');
  if (view.state.kind === 'failed') assert.match(view.state.message, /did not finish starting within 2 s/);
  const closing = Date.now();
  await hub.close();
  assert.ok(Date.now() - closing < 6_000);
});

test('a command that does not exist says so', async () => {
  const { hub } = makeHub({ missing: { command: 'memgpt-no-such-mcp-server-command' } });
  await hub.start();
  const turn = await hub.prepareTurn();
  assert.ok(
    turn.notices.some((n) => /was not found/.test(n)),
    turn.notices.join('\n'),
  );
});

test('streamable HTTP on 127.0.0.1, with the headers from the configuration', async () => {
  const http = await startMcpHttpServer({ token: 'letmein' });
  try {
    const { hub, asked } = makeHub({
      remote: { type: 'http', url: http.url, headers: { Authorization: 'Bearer letmein' } },
      locked: { type: 'http', url: http.url },
    });
    await hub.start();
    const turn = await hub.prepareTurn();
    assert.ok(turn.schemas.some((s) => s.function.name === 'mcp__remote__add'));
    const out = await hub.call('mcp__remote__add', { a: 20, b: 22 }, { callId: 'c' });
    assert.equal(out.status, 'OK', out.message);
    assert.match(out.message, /42/);
    assert.equal(asked.length, 1);
    const failed = await hub.call('mcp__remote__fail', {}, { callId: 'c2' });
    assert.equal(failed.status, 'Failed');
    assert.match(failed.message, /the widget is broken/);
    const locked = hub.servers().find((s) => s.name === 'locked')!;
    assert.equal(locked.state.kind, 'failed', 'no token: refused');
  } finally {
    await http.close();
  }
});

test('an untrusted workspace starts nothing: its .vscode/mcp.json runs commands', async () => {
  const marker = path.join(mkdtempSync(path.join(tmpdir(), 'memgpt-mcp-marker-')), 'started');
  roots.push(path.dirname(marker));
  const command = { command: process.execPath, args: ['-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`] };
  const { hub } = makeHub({ fromSetting: command }, { trusted: false, mcpJson: { servers: { fromFolder: command } } });
  await hub.start();
  const turn = await hub.prepareTurn();
  assert.deepEqual(turn.schemas, []);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(existsSync(marker), false, 'no server process ran');
  assert.deepEqual(
    hub.servers().map((s) => [s.name, s.state.kind]),
    [['fromSetting', 'untrusted']],
    "the folder's own file is not even read while untrusted",
  );
});

test('.vscode/mcp.json with comments and trailing commas, ${workspaceFolder}, and the older mcpServers key', async () => {
  const json = `{
    // VS Code allows comments here
    "servers": {
      "local": { "type": "stdio", "command": ${JSON.stringify(process.execPath)}, "args": [${JSON.stringify(FIXTURE)}], "cwd": ${JSON.stringify(REPO)}, },
      "prompted": { "command": "x", "env": { "TOKEN": "\${input:token}" } },
      "old": { "type": "sse", "url": "http://127.0.0.1:9/sse" },
    },
  }`;
  const { hub } = makeHub({}, { mcpJson: json });
  await hub.start();
  const turn = await hub.prepareTurn();
  assert.ok(turn.schemas.some((s) => s.function.name === 'mcp__local__echo'));
  const problems = hub.problems.map((p) => p.message).join('\n');
  assert.match(problems, /\$\{input:token\}.*cannot/);
  assert.match(problems, /SSE server/);
});
