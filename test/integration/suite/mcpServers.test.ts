/**
 * MCP servers for the agent in the real extension host: a server set in memgpt.mcpServers (a
 * small stdio server written with the SDK's server side, run by the host's own Node) starts when
 * the setting changes, and "MemGPT: Show MCP Servers" reports it running with its function; a
 * server whose command does not exist is reported with the reason. The setting is put back after.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/vscode/commandIds';
import type { McpServerView } from '../../../src/core/mcpClient/mcpHub';
import { activatedExtension, waitFor } from '../support/extensionApi';

const SERVER_SCRIPT = `
const { Server } = require('@modelcontextprotocol/sdk/server/index.js');
const { StdioServerTransport } = require('@modelcontextprotocol/sdk/server/stdio.js');
const { ListToolsRequestSchema, CallToolRequestSchema } = require('@modelcontextprotocol/sdk/types.js');
const server = new Server({ name: 'host-test', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [{ name: 'shout', description: 'Upper-cases text.', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }] }));
server.setRequestHandler(CallToolRequestSchema, (r) => ({ content: [{ type: 'text', text: String(r.params.arguments.text).toUpperCase() }] }));
server.connect(new StdioServerTransport());
`;

describe('MCP servers for the agent', function () {
  this.timeout(120_000);

  after(async () => {
    await vscode.workspace.getConfiguration('memgpt').update('mcpServers', undefined, vscode.ConfigurationTarget.Global);
  });

  it('a server from memgpt.mcpServers runs and offers its tool; a broken one says why', async () => {
    const ext = await activatedExtension();
    await vscode.workspace.getConfiguration('memgpt').update(
      'mcpServers',
      {
        servers: {
          hosttest: { type: 'stdio', command: process.execPath, args: ['-e', SERVER_SCRIPT], cwd: ext.extensionPath },
          missing: { command: 'memgpt-no-such-mcp-command' },
        },
      },
      vscode.ConfigurationTarget.Global,
    );
    const views = await waitFor(
      'the MCP server to run',
      async () => {
        const list = (await vscode.commands.executeCommand<McpServerView[]>(COMMANDS.showMcpServers, { pick: false })) ?? [];
        const test = list.find((v) => v.name === 'hosttest');
        const missing = list.find((v) => v.name === 'missing');
        return test?.state.kind === 'running' && missing?.state.kind === 'failed' ? list : undefined;
      },
      90_000,
    );
    const test = views.find((v) => v.name === 'hosttest')!;
    assert.deepEqual(test.functions, ['mcp__hosttest__shout']);
    assert.equal(test.source, 'memgpt.mcpServers');
    const missing = views.find((v) => v.name === 'missing')!;
    assert.ok(missing.state.kind === 'failed' && /was not found/.test(missing.state.message), JSON.stringify(missing.state));
  });
});
