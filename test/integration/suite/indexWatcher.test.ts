/**
 * The archival index follows files created, deleted and renamed outside a save (on disk, in the
 * Explorer), in the real extension host: the agent's archival_memory_search, scripted on the fake
 * model server, is the observer (its result goes back to the model in the next request).
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { sendMessage, startFakeOpenAIServer, toolCall, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import type { MemGptApi } from '../../../src/extension';
import { COMMANDS } from '../../../src/vscode/commandIds';
import { activatedExtension, waitFor } from '../support/extensionApi';

describe('workspace index follows the file system', function () {
  this.timeout(90_000);
  let server: FakeOpenAIServer;
  let api: MemGptApi;
  let agentId: string;
  let root: string;

  before(async function () {
    if (!vscode.workspace.isTrusted) return this.skip(); // restricted mode indexes nothing (editorEvents covers it)
    api = (await activatedExtension()).exports;
    server = await startFakeOpenAIServer({ models: ['gpt-4o-mini'] });
    const config = vscode.workspace.getConfiguration('memgpt');
    await config.update('baseUrl', server.url, vscode.ConfigurationTarget.Global);
    await config.update('model', 'gpt-4o-mini', vscode.ConfigurationTarget.Global);
    await config.update('contextWindow', 16_000, vscode.ConfigurationTarget.Global);
    agentId = (await api.createAgent({ name: 'Watcher agent' })).id;
    root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    await vscode.commands.executeCommand(COMMANDS.indexWorkspace);
  });

  after(async () => {
    await server?.close();
  });

  /** What archival_memory_search returned to the model for `query`. */
  async function searchResult(query: string): Promise<string> {
    server.enqueue(toolCall('archival_memory_search', { query, request_heartbeat: true }), sendMessage('ok'));
    const n = server.chatRequests().length;
    await api.userMessage(agentId, `search ${query}`);
    const messages = server.chatRequests()[n + 1]!.body.messages;
    return String(messages[messages.length - 1]!.content);
  }

  it('a file created on disk becomes searchable, follows a rename, and leaves the index when deleted', async () => {
    const file = path.join(root, 'src', 'zebraCrossing.ts');
    await fsp.writeFile(file, 'export function zebraCrossingCounter(stripes: number): number {\n  return stripes * 2;\n}\n');
    await waitFor(
      'the created file to be indexed',
      async () => /src\/zebraCrossing\.ts:1-3/.test(await searchResult('zebraCrossingCounter')),
      30_000,
    );

    const renamed = vscode.Uri.file(path.join(root, 'src', 'pedestrian.ts'));
    const edit = new vscode.WorkspaceEdit();
    edit.renameFile(vscode.Uri.file(file), renamed);
    assert.ok(await vscode.workspace.applyEdit(edit), 'the rename was applied');
    await waitFor(
      'the rename to reach the index',
      async () => {
        const text = await searchResult('zebraCrossingCounter');
        return /src\/pedestrian\.ts:1-3/.test(text) && !/zebraCrossing\.ts/.test(text);
      },
      30_000,
    );

    await fsp.rm(renamed.fsPath);
    await waitFor(
      'the deleted file to leave the index',
      async () => !/pedestrian\.ts/.test(await searchResult('zebraCrossingCounter')),
      30_000,
    );
  });
});
