/**
 * MCP tools as function schemas, without a server: names every model API accepts (and the same
 * name for the same tool every time), schemas cleaned but carried over, tools that cannot be
 * offered said so; results turned into text; the configuration parsed with clear problems.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { checkToolArguments, functionNameFor, functionSchemaFor, toolResultText } from '../../../src/core/mcpClient/mcpFunctions';
import { mergeMcpConfigs, parseJsonc, parseMcpServers } from '../../../src/core/mcpClient/mcpServerConfig';

test('function names: mcp__server__tool, cleaned, at most 64 characters, unique and stable', () => {
  assert.equal(functionNameFor('github', 'create_issue', new Set()), 'mcp__github__create_issue');
  assert.equal(functionNameFor('my server', 'get.file/contents', new Set()), 'mcp__my_server__get_file_contents');
  const long = functionNameFor(
    'a-really-long-server-name-for-testing',
    'an_extremely_long_tool_name_that_goes_on_and_on_and_on',
    new Set(),
  );
  assert.ok(long.length <= 64, long);
  assert.match(long, /^mcp__[A-Za-z0-9_-]+$/);
  assert.equal(
    long,
    functionNameFor('a-really-long-server-name-for-testing', 'an_extremely_long_tool_name_that_goes_on_and_on_and_on', new Set()),
    'stable',
  );
  const taken = new Set(['mcp__s__a_b']);
  const other = functionNameFor('s', 'a.b', taken);
  assert.notEqual(other, 'mcp__s__a_b');
  assert.ok(other.length <= 64);
});

test('schemas: description and parameters carried over, request_heartbeat added, oversized or clashing schemas refused', () => {
  const tool: Tool = {
    name: 'search',
    title: 'Search issues',
    description: 'Finds issues.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'Words.' },
        state: { type: 'string', enum: ['open', 'closed'] },
        filter: { type: 'object', properties: { label: { type: ['string', 'null'] } }, required: ['label'] },
        limit: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] },
      },
      required: ['query', 'nope'],
    },
  };
  const r = functionSchemaFor('mcp__gh__search', 'gh', tool);
  assert.ok(r.ok);
  const f = r.schema.function;
  assert.match(f.description, /^Search issues\. Finds issues\./);
  assert.deepEqual(f.parameters.required, ['query'], 'a required name with no property is dropped');
  assert.deepEqual(f.parameters.properties.state?.enum, ['open', 'closed']);
  assert.equal(f.parameters.properties.filter?.properties?.label?.type, 'string');
  assert.equal(f.parameters.properties.limit?.type, 'integer');
  assert.equal(f.parameters.properties.limit?.minimum, 1);
  assert.equal(f.parameters.properties.request_heartbeat?.type, 'boolean');

  const clash = functionSchemaFor('mcp__x__y', 'x', {
    name: 'y',
    inputSchema: { type: 'object', properties: { request_heartbeat: { type: 'string' } } },
  });
  assert.ok(!clash.ok && /request_heartbeat/.test(clash.reason));
  const huge = functionSchemaFor('mcp__x__z', 'x', {
    name: 'z',
    inputSchema: {
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 400 }, (_, i) => [`p${i}`, { type: 'string', description: 'a fairly long description of this parameter' }]),
      ),
    },
  });
  assert.ok(!huge.ok && /over the/.test(huge.reason));
});

test('arguments are checked against the full schema, with the obvious slips fixed', () => {
  const tool: Tool = {
    name: 't',
    inputSchema: { type: 'object', properties: { n: { type: 'integer', minimum: 1 }, on: { type: 'boolean' } }, required: ['n'] },
  };
  const ok = checkToolArguments('mcp__s__t', tool, { n: '3', on: 'true', request_heartbeat: true });
  assert.deepEqual(ok, { ok: true, args: { n: 3, on: true } });
  const low = checkToolArguments('mcp__s__t', tool, { n: 0 });
  assert.ok(!low.ok && /Invalid arguments for mcp__s__t/.test(low.error));
  const missing = checkToolArguments('mcp__s__t', tool, {});
  assert.ok(!missing.ok && /n/.test(missing.error));
});

test('results: text as it is, images and binary resources named, structured content when there is no text', () => {
  assert.equal(
    toolResultText({
      content: [
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ],
    }),
    'a\nb',
  );
  assert.match(
    toolResultText({ content: [{ type: 'image', data: 'AAAA', mimeType: 'image/png' }] }),
    /\[image image\/png, 3 bytes: not shown\]/,
  );
  assert.match(toolResultText({ content: [], structuredContent: { total: 3 } }), /"total": 3/);
  assert.match(toolResultText({ content: [], isError: true }), /failed and gave no reason/);
  const long = toolResultText({ content: [{ type: 'text', text: 'y'.repeat(300_000) }] });
  assert.ok(long.length < 210_000 && /more characters not read/.test(long));
});

test('configuration: both keys, types inferred, every unusable server named with what to change', () => {
  const parsed = parseMcpServers(
    {
      servers: {
        a: { command: 'node', args: ['${workspaceFolder}/server.js'], env: { PORT: 3000 } },
        b: { url: 'http://127.0.0.1:1/mcp' },
        c: { type: 'stdio' },
        d: { type: 'http', url: 'file:///etc/passwd' },
        e: { type: 'websocket', url: 'ws://x' },
        f: { command: 'x', disabled: true },
      },
    },
    { origin: 'settings', source: 'memgpt.mcpServers', folder: '/work/app' },
  );
  assert.deepEqual(
    parsed.servers.map((s) => [s.name, s.transport]),
    [
      ['a', 'stdio'],
      ['b', 'http'],
    ],
  );
  const a = parsed.servers[0]!;
  assert.ok(a.transport === 'stdio' && a.args[0] === '/work/app/server.js' && a.env.PORT === '3000' && a.cwd === '/work/app');
  const byServer = Object.fromEntries(parsed.problems.map((p) => [p.server, p.message]));
  assert.match(byServer.c!, /needs "command"/);
  assert.match(byServer.d!, /only http and https/);
  assert.match(byServer.e!, /"type" "websocket"/);
  assert.match(byServer.f!, /disabled/);
  assert.equal(parseMcpServers({ mcpServers: { old: { command: 'x' } } }, { origin: 'settings', source: 's' }).servers.length, 1);
  assert.match(parseMcpServers([], { origin: 'settings', source: 'memgpt.mcpServers' }).problems[0]!.message, /must be an object/);
  const merged = mergeMcpConfigs(
    parseMcpServers({ servers: { a: { command: 'w' } } }, { origin: 'workspace', source: '.vscode/mcp.json' }),
    parsed,
  );
  assert.equal(merged.servers.find((s) => s.name === 'a')!.source, '.vscode/mcp.json');
  assert.ok(merged.problems.some((p) => /both \.vscode\/mcp\.json and memgpt\.mcpServers/.test(p.message)));
  assert.deepEqual(parseJsonc('{ "a": "x // not a comment", /* c */ "b": [1, 2,], }'), { a: 'x // not a comment', b: [1, 2] });
});
