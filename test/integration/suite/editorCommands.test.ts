/**
 * Every editor-integration command in the real extension host, with the scripted model server
 * running inside the host. Needs the extension's wiring (registerEditorIntegration in extension.ts and
 * a runtime behind AgentRuntimePort); a missing wiring fails the suite.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { sendMessage, startFakeOpenAIServer, toolCall, toolCalls, type FakeOpenAIServer } from '../../fixtures/fakeOpenAIServer';
import type { ReflectionOutcome, ReflectionRecord } from '../../../src/core/runtime/reflectionService';
import type { MemGptClientApi } from '../../../src/vscode/api';
import { COMMANDS } from '../../../src/vscode/commandIds';
import type { RememberResult } from '../../../src/vscode/commands/selectionCommands';
import type { SearchChoice } from '../../../src/vscode/commands/searchMemory';
import type { IndexRunSummary } from '../../../src/core/runtime/runtimePort';
import { REMEMBER_SELECTION_MAX_CHARS } from '../../../src/core/limits';
import { activatedExtension, waitFor } from '../support/extensionApi';

const NOT_WIRED = 'the memgpt.* editor commands are not registered yet (registerEditorIntegration is not wired in extension.ts)';

async function wired(): Promise<MemGptClientApi | undefined> {
  const api = (await activatedExtension()).exports as unknown as Partial<MemGptClientApi>;
  const commands = new Set(await vscode.commands.getCommands(true));
  const all = Object.values(COMMANDS).every((id) => commands.has(id));
  return all && typeof api.getMemory === 'function' ? (api as MemGptClientApi) : undefined;
}

function folder(): vscode.Uri {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the harness opens the sample workspace');
  return f.uri;
}

async function openAndSelect(rel: string, startLine: number, endLine: number): Promise<vscode.TextEditor> {
  const editor = await vscode.window.showTextDocument(vscode.Uri.joinPath(folder(), rel));
  const end = editor.document.lineAt(endLine - 1).range.end;
  editor.selection = new vscode.Selection(startLine - 1, 0, end.line, end.character);
  return editor;
}

async function activeAgentId(api: MemGptClientApi): Promise<string> {
  const a = (await api.listAgents()).find((x) => x.active);
  assert.ok(a, 'an active agent exists');
  return a.id;
}

describe('editor integration: commands', function () {
  this.timeout(90_000);
  let server: FakeOpenAIServer;
  let api: MemGptClientApi;

  before(async function () {
    const found = await wired();
    if (!found) {
      // Wired since the runtime landed: a missing command or API is a failure, never a skip.
      throw new Error(`[editorCommands] ${NOT_WIRED}`);
    }
    api = found;
    server = await startFakeOpenAIServer({ models: ['gpt-4o-mini', 'llama-fake'] });
    const config = vscode.workspace.getConfiguration('memgpt');
    await config.update('baseUrl', server.url, vscode.ConfigurationTarget.Global);
    await config.update('model', 'gpt-4o-mini', vscode.ConfigurationTarget.Global);
    await config.update('contextWindow', 16_000, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await server?.close();
  });

  it('Index Workspace indexes the sample files; Pause and Resume run', async () => {
    const summary = await vscode.commands.executeCommand<IndexRunSummary | undefined>(COMMANDS.indexWorkspace);
    assert.ok(summary, 'the run finished');
    assert.equal(summary.cancelled, false);
    assert.ok(summary.indexed + summary.unchanged >= 5, `indexed ${summary.indexed}, unchanged ${summary.unchanged}`);
    await vscode.commands.executeCommand(COMMANDS.pauseIndexing);
    await vscode.commands.executeCommand(COMMANDS.resumeIndexing);
  });

  it('Rebuild Index (confirmed) re-indexes everything', async () => {
    const summary = await vscode.commands.executeCommand<IndexRunSummary | undefined>(COMMANDS.rebuildIndex, { confirmed: true });
    assert.ok(summary && summary.indexed >= 5, `rebuild indexed ${summary?.indexed}`);
  });

  it('Remember Selection stores path:start-end provenance and tells the agent', async () => {
    const id = await activeAgentId(api);
    const before = (await api.getMemory(id)).archivalCount;
    await openAndSelect('src/config.ts', 2, 4);
    const result = await vscode.commands.executeCommand<RememberResult | undefined>(COMMANDS.rememberSelection);
    assert.ok(result, 'remembered');
    assert.equal(result.label, 'src/config.ts:2-4');
    assert.equal(result.truncated, false);
    assert.equal((await api.getMemory(id)).archivalCount, before + 1);
    // The agent hears it at its next step.
    server.enqueue(sendMessage('ok'));
    const n = server.chatRequests().length;
    await api.userMessage(id, 'What did I just ask you to remember?');
    const sent = JSON.stringify(server.chatRequests()[n]!.body.messages);
    assert.match(sent, /selection_remembered/);
    assert.match(sent, /src\/config\.ts/);
  });

  it('Remember Selection caps a huge selection and says so', async () => {
    const doc = await vscode.workspace.openTextDocument({
      content: 'x'
        .repeat(99)
        .concat('\n')
        .repeat(Math.ceil((REMEMBER_SELECTION_MAX_CHARS * 2) / 100)),
    });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, doc.lineCount - 1, 0);
    const result = await vscode.commands.executeCommand<RememberResult | undefined>(COMMANDS.rememberSelection);
    assert.ok(result);
    assert.equal(result.truncated, true);
  });

  it('Ask About Selection sends a user message quoting the code with its path:lines', async () => {
    await openAndSelect('src/server.ts', 1, 3);
    server.enqueue(sendMessage('It starts the server.'));
    const n = server.chatRequests().length;
    const outcome = await vscode.commands.executeCommand<{ reason: string; messages: string[] } | undefined>(COMMANDS.askAboutSelection, {
      question: 'What is this?',
    });
    assert.ok(outcome, 'answered');
    assert.deepEqual(outcome.messages, ['It starts the server.']);
    const request = server.chatRequests()[n]!;
    const lastUser = request.body.messages.filter((m) => m.role === 'user').at(-1);
    const text = String(lastUser?.content);
    assert.match(text, /What is this\?/);
    assert.match(text, /src\/server\.ts:1-3/);
  });

  it('Search Memory finds a workspace file and opens it at the hit', async () => {
    // A new agent has remembered nothing yet (remembered items are per agent and listed first).
    await api.createAgent({ name: 'Search test' });
    const pending = vscode.commands.executeCommand<SearchChoice | undefined>(COMMANDS.searchMemory, { query: 'todo store' });
    await new Promise((r) => setTimeout(r, 1500));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const choice = await pending;
    assert.ok(choice, 'an item was chosen');
    assert.ok(choice.kind === 'file', `a workspace file was opened, not ${choice.kind}`);
    const active = vscode.window.activeTextEditor;
    assert.ok(active);
    assert.equal(active.document.uri.toString(), choice.uri.toString());
  });

  it('Show Core Memory opens a block; saving writes it back; an over-limit save changes nothing', async () => {
    const id = await activeAgentId(api);
    const uri = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMANDS.showCoreMemory, { label: 'human' });
    assert.ok(uri);
    assert.equal(uri.scheme, 'memgpt-memory');
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('Name: Ada. Likes short answers.\n'));
    assert.equal((await api.getMemory(id)).core.human, 'Name: Ada. Likes short answers.');
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.writeFile(uri, new TextEncoder().encode('y'.repeat(5000)))),
      /at most 2000 characters/,
    );
    assert.equal((await api.getMemory(id)).core.human, 'Name: Ada. Likes short answers.');
    const doc = await waitFor('the editor to show the block', async () => {
      const d = vscode.workspace.textDocuments.find((t) => t.uri.toString() === uri.toString());
      return d && d.getText().startsWith('Name: Ada') ? d : undefined;
    });
    assert.ok(doc);
  });

  it('Set API Key stores the key in SecretStorage only; Select Model writes memgpt.model', async () => {
    const result = await vscode.commands.executeCommand<string>(COMMANDS.setApiKey, { key: 'sk-test-0123456789abcdefghij' });
    assert.equal(result, 'stored');
    const settingsText = JSON.stringify(vscode.workspace.getConfiguration('memgpt'));
    assert.ok(!settingsText.includes('sk-test-0123456789'), 'the key is not in settings');
    const model = await vscode.commands.executeCommand<string | undefined>(COMMANDS.selectModel, { model: 'llama-fake' });
    assert.equal(model, 'llama-fake');
    assert.equal(vscode.workspace.getConfiguration('memgpt').get('model'), 'llama-fake');
    await vscode.workspace.getConfiguration('memgpt').update('model', 'gpt-4o-mini', vscode.ConfigurationTarget.Global);
    assert.equal(await vscode.commands.executeCommand<string>(COMMANDS.setApiKey, { key: '' }), 'cleared');
  });

  it('New, Switch, Reset, Export and Import agent', async () => {
    const created = await vscode.commands.executeCommand<{ id: string } | undefined>(COMMANDS.newAgent, {
      name: 'Cmd agent',
      personaPreset: 'terse',
      humanPreset: 'learner',
    });
    assert.ok(created);
    assert.equal(await activeAgentId(api), created.id);
    const other = (await api.listAgents()).find((a) => a.id !== created.id);
    assert.ok(other);
    assert.equal(await vscode.commands.executeCommand(COMMANDS.switchAgent, { agentId: other.id }), other.id);
    assert.equal(await activeAgentId(api), other.id);
    await vscode.commands.executeCommand(COMMANDS.switchAgent, { agentId: created.id });

    await vscode.commands.executeCommand(COMMANDS.showCoreMemory, { label: 'persona' });
    await vscode.workspace.fs.writeFile(
      vscode.Uri.from({ scheme: 'memgpt-memory', path: '/persona.md' }),
      new TextEncoder().encode('Changed by the test.'),
    );
    assert.equal((await api.getMemory(created.id)).core.persona, 'Changed by the test.');
    const sharedHuman = (await api.getMemory(created.id)).core.human;
    assert.equal(await vscode.commands.executeCommand(COMMANDS.resetAgent, { agentId: created.id, confirmed: true }), true);
    const afterReset = (await api.getMemory(created.id)).core;
    assert.match(afterReset.persona ?? '', /terse coding assistant/, 'the agent’s own block is back to its preset');
    assert.equal(afterReset.human, sharedHuman, 'the user’s block is left alone by a reset');

    await vscode.commands.executeCommand(COMMANDS.setApiKey, { key: 'sk-export-check-0123456789abcd', skipValidation: true });
    const file = vscode.Uri.joinPath(folder(), 'exported-agent.json');
    const written = await vscode.commands.executeCommand<vscode.Uri | undefined>(COMMANDS.exportAgent, { agentId: created.id, uri: file });
    assert.ok(written);
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    assert.ok(!text.includes('sk-export-check'), 'the export never contains the key');
    assert.ok(JSON.parse(text), 'one JSON file');
    await vscode.commands.executeCommand(COMMANDS.setApiKey, { key: '' });

    const count = (await api.listAgents()).length;
    const imported = await vscode.commands.executeCommand<{ id: string; name: string } | undefined>(COMMANDS.importAgent, {
      uri: file,
      switchTo: true,
    });
    assert.ok(imported);
    assert.equal((await api.listAgents()).length, count + 1);
    assert.equal(await activeAgentId(api), imported.id);
    await vscode.workspace.fs.delete(file);
  });

  it('Import Agent refuses a file that is not an export, with a clear error and nothing imported', async () => {
    const file = vscode.Uri.joinPath(folder(), 'not-an-agent.json');
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode('{"hello": 1'));
    const count = (await api.listAgents()).length;
    const imported = await vscode.commands.executeCommand(COMMANDS.importAgent, { uri: file });
    assert.equal(imported, undefined);
    assert.equal((await api.listAgents()).length, count);
    await vscode.workspace.fs.delete(file);
  });

  it('Reflect on Memory Now merges two duplicates and tightens persona; Undo Reflection puts both back exactly', async () => {
    const created = await vscode.commands.executeCommand<{ id: string } | undefined>(COMMANDS.newAgent, { name: 'Reflective agent' });
    assert.ok(created);
    server.enqueue(
      toolCall('archival_memory_insert', { content: 'Ada prefers tabs over spaces.', request_heartbeat: true }),
      toolCall('archival_memory_insert', { content: 'The user (Ada) likes tabs, not spaces.', request_heartbeat: true }),
      sendMessage('Noted.'),
    );
    await api.userMessage(created.id, 'I like tabs, not spaces.');
    const before = await api.getMemory(created.id);
    server.enqueue(
      toolCalls([
        { name: 'merge_memories', arguments: { items: [1, 2], content: 'Ada prefers tabs over spaces.' } },
        { name: 'tighten_block', arguments: { label: 'persona', new_content: 'A helpful coding assistant.' } },
      ]),
    );
    const outcome = await vscode.commands.executeCommand<ReflectionOutcome | undefined>(COMMANDS.reflectNow);
    assert.equal(outcome?.status, 'changed', JSON.stringify(outcome));
    assert.ok(outcome?.status === 'changed');
    const during = await api.getMemory(created.id);
    assert.equal(during.archivalCount, before.archivalCount - 1, 'two items became one');
    assert.equal(during.core.persona, 'A helpful coding assistant.');

    const undone = await vscode.commands.executeCommand<ReflectionRecord | undefined>(COMMANDS.undoReflection, { id: outcome.record.id });
    assert.ok(undone?.undoneAt, 'undone');
    const after = await api.getMemory(created.id);
    assert.equal(after.archivalCount, before.archivalCount);
    assert.equal(after.core.persona, before.core.persona);
  });
});
