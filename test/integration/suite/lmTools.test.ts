/**
 * MemGPT's memory for the editor's own assistants, in the real extension host: our Language Model
 * Tools are listed in `vscode.lm.tools` and run through `vscode.lm.invokeTool` on this window's
 * memory, and the MCP server definition provider offers `memgpt mcp` on the same memory, which
 * the MCP SDK's client starts and queries here while the window holds the lock.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MEMORY_TOOLS } from '../../../src/core/mcp/memoryTools';
import { COMMANDS } from '../../../src/vscode/commandIds';
import { activatedExtension, waitFor } from '../support/extensionApi';

function resultText(result: vscode.LanguageModelToolResult): string {
  return result.content.map((part) => (part instanceof vscode.LanguageModelTextPart ? part.value : '')).join('');
}

function invoke(name: string, input: object): Thenable<vscode.LanguageModelToolResult> {
  return vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined });
}

describe('lmTools: the memory as Language Model Tools and as an MCP server', function () {
  this.timeout(120_000);

  before(async () => {
    await activatedExtension();
    await vscode.commands.executeCommand(COMMANDS.indexWorkspace);
  });

  it('lists our four tools in vscode.lm.tools with their schemas', async () => {
    const ours = await waitFor('our tools in vscode.lm.tools', () => {
      const found = vscode.lm.tools.filter((t) => t.name.startsWith('memgpt_'));
      return found.length === MEMORY_TOOLS.length ? found : undefined;
    });
    assert.deepEqual(ours.map((t) => t.name).sort(), MEMORY_TOOLS.map((t) => t.lmToolName).sort());
    for (const def of MEMORY_TOOLS) {
      const tool = ours.find((t) => t.name === def.lmToolName)!;
      assert.deepEqual((tool.inputSchema as { required?: string[] }).required, def.inputSchema.required);
      assert.ok(tool.tags.includes('memgpt'));
      assert.equal(tool.description, def.description);
    }
  });

  it('invokes archival search and core memory through vscode.lm.invokeTool on the window’s memory', async () => {
    const text = await waitFor('a search hit in src/search.ts', async () => {
      const t = resultText(await invoke('memgpt_archival_memory_search', { query: 'searchNotes', k: 3 }));
      return /src\/search\.ts:\d+-\d+/.test(t) ? t : undefined;
    });
    assert.match(text, /results for "searchNotes", best first/);
    const core = resultText(await invoke('memgpt_core_memory_read', {}));
    assert.match(core, /Core memory of the agent|no MemGPT agent yet/);
    await assert.rejects(Promise.resolve(invoke('memgpt_archival_memory_search', { k: 3 })), /missing required argument "query"/);
  });

  it('offers `memgpt mcp` for this folder, which starts and answers beside the window (read-only)', async () => {
    const api = (await activatedExtension()).exports;
    const definitions = api.mcpServerDefinitions();
    assert.equal(definitions.length, 1);
    const def = definitions[0]!;
    assert.equal(def.label, 'MemGPT memory');
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    assert.match(def.args[0]!, /dist[/\\]cli\.js$/);
    assert.deepEqual(def.args.slice(1, 3), ['mcp', folder]);
    assert.equal(def.args[3], '--state-dir');

    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...def.env })) if (typeof v === 'string') env[k] = v;
    const client = new Client({ name: 'lmTools-test', version: '0.0.0' });
    await client.connect(new StdioClientTransport({ command: def.command, args: def.args, env, stderr: 'pipe' }));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(
        tools.map((t) => t.name),
        MEMORY_TOOLS.map((t) => t.name),
      );
      const search = (await client.callTool({
        name: 'archival_memory_search',
        arguments: { query: 'searchNotes', k: 3 },
      })) as CallToolResult;
      assert.ok(!search.isError);
      assert.ok(
        (search.structuredContent as { results: { path: string }[] }).results.some((r) => r.path === 'src/search.ts'),
        'the window’s index, read by the server',
      );
      const note = (await client.callTool({
        name: 'archival_memory_insert',
        arguments: { content: 'A note from another assistant.' },
      })) as CallToolResult;
      assert.equal(note.isError, true, 'this window holds the memory');
      assert.match(JSON.stringify(note.content), /Cannot remember this note: the memory is open read-only here/);
    } finally {
      await client.close();
    }
  });
});
