/**
 * Instruction files in the real editor: the memory view shows them read-only, a save in the
 * editor refreshes them, the active editor brings its folder's AGENTS.md, and the model (the
 * scripted server) receives them in its system message.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { sendMessage, startFakeOpenAIServer, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import type { MemGptClientApi } from '../../../src/vscode/api';
import { activatedExtension, waitFor } from '../support/extensionApi';

function folder(): vscode.Uri {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the harness opens the sample workspace');
  return f.uri;
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const instructionUri = (p: string) => vscode.Uri.from({ scheme: 'memgpt-memory', path: `/instructions/${p}` });

async function readView(p: string): Promise<string | undefined> {
  try {
    return decode(await vscode.workspace.fs.readFile(instructionUri(p)));
  } catch {
    return undefined;
  }
}

describe('instruction files', function () {
  this.timeout(90_000);
  let server: FakeOpenAIServer;
  let api: MemGptClientApi;
  const created: vscode.Uri[] = [];

  before(async function () {
    api = (await activatedExtension()).exports as unknown as MemGptClientApi;
    server = await startFakeOpenAIServer({ models: ['gpt-4o-mini'] });
    const config = vscode.workspace.getConfiguration('memgpt');
    await config.update('baseUrl', server.url, vscode.ConfigurationTarget.Global);
    await config.update('model', 'gpt-4o-mini', vscode.ConfigurationTarget.Global);
    await config.update('contextWindow', 16_000, vscode.ConfigurationTarget.Global);
    for (const [rel, text] of [
      ['AGENTS.md', 'Run the tests before you answer. ROOT-RULE-IN-HOST\n'],
      ['src/store/AGENTS.md', 'The store is append-only. NESTED-RULE-IN-HOST\n'],
    ] as const) {
      const uri = vscode.Uri.joinPath(folder(), rel);
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
      created.push(uri);
    }
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const uri of created) await Promise.resolve(vscode.workspace.fs.delete(uri)).catch(() => undefined);
    await server?.close();
  });

  it('shows them read-only in the memory view; the active file brings its folder’s AGENTS.md; the model receives both', async () => {
    const root = await waitFor('AGENTS.md in the memory view', async () => {
      const text = await readView('AGENTS.md');
      return text?.includes('ROOT-RULE-IN-HOST') ? text : undefined;
    });
    assert.ok(root);
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.writeFile(instructionUri('AGENTS.md'), new TextEncoder().encode('hacked'))),
      /read-only/,
    );
    const stat = await vscode.workspace.fs.stat(instructionUri('AGENTS.md'));
    assert.equal(stat.permissions, vscode.FilePermission.Readonly);

    const store = (await vscode.workspace.findFiles('src/store/*.ts', undefined, 1))[0];
    assert.ok(store, 'the sample workspace has a file in src/store');
    await vscode.window.showTextDocument(store);
    await waitFor('the nested AGENTS.md for the active file', async () =>
      (await readView('src/store/AGENTS.md'))?.includes('NESTED-RULE-IN-HOST') ? true : undefined,
    );

    const agent = (await api.listAgents()).find((a) => a.active) ?? (await api.createAgent({}));
    server.enqueue(sendMessage('ok'));
    await api.userMessage(agent.id, 'hello');
    const system = server.chatRequests().at(-1)!.body.messages[0]!.content as string;
    assert.ok(system.includes('ROOT-RULE-IN-HOST') && system.includes('NESTED-RULE-IN-HOST'), 'both files reach the model');
    assert.match(system, /### Project instructions \(read-only\)/);
  });

  it('saving AGENTS.md in the editor refreshes what the view and the model see', async () => {
    const uri = vscode.Uri.joinPath(folder(), 'AGENTS.md');
    const editor = await vscode.window.showTextDocument(uri);
    await editor.edit((b) =>
      b.replace(new vscode.Range(0, 0, editor.document.lineCount, 0), 'Answer in one sentence. SAVED-RULE-IN-HOST\n'),
    );
    assert.ok(await editor.document.save());
    await waitFor('the saved text in the memory view', async () =>
      (await readView('AGENTS.md'))?.includes('SAVED-RULE-IN-HOST') ? true : undefined,
    );
    const agent = (await api.listAgents()).find((a) => a.active)!;
    server.enqueue(sendMessage('ok'));
    await api.userMessage(agent.id, 'again');
    const system = server.chatRequests().at(-1)!.body.messages[0]!.content as string;
    assert.ok(system.includes('SAVED-RULE-IN-HOST') && !system.includes('ROOT-RULE-IN-HOST'));
  });
});
