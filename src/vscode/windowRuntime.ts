/**
 * Everything a window does once its chat view and commands exist: settings, keys, the workspace
 * runtime (memory, index, agent), the editor integration, file watching and MCP. The extension's
 * entry registers the view and the commands first and loads this module afterwards, in a file of
 * its own (dist/extensionRuntime.js, see esbuild.mjs), so the editor can show the view before the
 * code below is read.
 */
import * as vscode from 'vscode';
import { WorkspaceRuntime } from '../core/runtime/workspaceRuntime';
import { chatProvider } from '../core/runtime/runtimeConfig';
import { ChatApprovals, PROPOSED_SCHEME, unsavedText, WorkspaceEditApplier } from './acting';
import { AgentChatBackend } from './agentChatBackend';
import type { MemGptClientApi } from './api';
import { registerChatParticipant } from './chatParticipant';
import type { ChatViewProvider } from './chatView';
import { reportErrorWith } from './commandContext';
import { downloadEmbeddingModel } from './commands/embeddingModelCommands';
import { COMMANDS } from './commandIds';
import { LiveSettings } from './config';
import type { DeferredCommands } from './deferredCommands';
import { registerEditorIntegration } from './editorIntegration';
import { VsCodeModelSource } from './lmChatModel';
import { registerMemoryMcpServer, registerMemoryTools } from './lmTools';
import { registerMcpServers } from './mcpServers';
import { editorExcludeGlobs, runtimeConfig, runtimeFolders } from './runtimeSettings';
import { ApiKeyStore } from './secrets';
import { SharedStoreSecret } from './sharedStoreSecret';
import { WorkspaceFileWatcher } from './workspaceFileWatcher';
import { errorMessage } from '../core/base/errors';
import { FileOutcomeStore } from './fileOutcomeStore';

/**
 * What `activate` returns: MemGPT's client API (createAgent, userMessage, getMemory, ...) for
 * other extensions and tests, plus the chat view provider. Without a runtime (its storage could
 * not be opened) the client methods reject with the reason.
 */
export interface MemGptApi extends MemGptClientApi {
  readonly chatView: ChatViewProvider;
  /** The agent's chat backend, so a test can put it back after swapping in its own. */
  readonly chatBackend: AgentChatBackend | undefined;
  /** The MCP servers MemGPT offers the editor (`memgpt mcp` on this window's memory). */
  mcpServerDefinitions(): vscode.McpStdioServerDefinition[];
}

/** What the entry already made: the log, the chat view and the commands waiting for their handlers. */
export interface WindowShell {
  log: vscode.LogOutputChannel;
  chatView: ChatViewProvider;
  commands: DeferredCommands;
}

let runtimeToClose: WorkspaceRuntime | undefined;

/** Opens this window's memory and wires the editor to it; the commands get their handlers here. */
export async function openWindowRuntime(context: vscode.ExtensionContext, shell: WindowShell): Promise<MemGptApi> {
  const { log, chatView, commands } = shell;
  const settings = new LiveSettings(log);
  const keys = new ApiKeyStore(context.secrets);
  const sharedStore = new SharedStoreSecret(context.secrets);
  context.subscriptions.push(settings, keys, sharedStore);
  const storageRoot = context.globalStorageUri.fsPath;
  const config = async () =>
    runtimeConfig(settings.current, await keys.get(chatProvider(settings.current)), await sharedStore.get(), storageRoot);

  // The editor's own language models (memgpt.provider "vscode-lm"), for the runtime and the Chat view.
  const editorModels = new VsCodeModelSource(() => settings.current.requestTimeoutSeconds * 1000);
  let runtime: WorkspaceRuntime;
  try {
    runtime = await WorkspaceRuntime.open({
      storageRoot,
      folders: runtimeFolders(),
      trusted: vscode.workspace.isTrusted,
      config: await config(),
      owner: `VS Code window (pid ${process.pid})`,
      editorExcludes: editorExcludeGlobs(),
      log: (level, message) => log[level](message),
      hostModels: editorModels,
    });
  } catch (error) {
    const message = errorMessage(error);
    log.error(`MemGPT could not open this workspace's memory: ${message}`);
    void vscode.window.showErrorMessage(`MemGPT could not open this workspace's memory: ${message}`);
    // Commands still exist (the manifest promises them) but say why they cannot run.
    commands.fail(message);
    return unavailableApi(chatView, message);
  }
  runtimeToClose = runtime;
  context.subscriptions.push({ dispose: () => void runtime.close() });

  const status: { bar?: { refresh(): void } } = {};
  const reconfigure = async (): Promise<void> => {
    const embedderBefore = runtime.index.embedderId;
    try {
      await runtime.configure(config());
    } catch (error) {
      log.error(`Applying the new settings failed: ${errorMessage(error)}`);
    }
    status.bar?.refresh();
    // A new embedding model has an index of its own: fill it now, as a start-up pass would.
    if (runtime.index.embedderId !== embedderBefore && vscode.workspace.isTrusted && settings.current.index.onStartup) {
      void vscode.commands.executeCommand(COMMANDS.indexWorkspace);
    }
  };
  context.subscriptions.push(
    settings.onDidChange(() => void reconfigure()),
    keys.onDidChange(() => void reconfigure()),
    sharedStore.onDidChange(() => void reconfigure()),
  );

  // The agent's edits go through the editor (Undo, unsaved buffers) and are approved in the chat.
  const approvals = new ChatApprovals(log);
  runtime.acting.setApprover(approvals);
  runtime.acting.setFileChangeApplier(new WorkspaceEditApplier(), unsavedText);
  context.subscriptions.push(approvals, vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, approvals.proposed));
  // Failed and stopped turns are kept beside the memory, so a reload right after one still shows it.
  const outcomes = FileOutcomeStore.in(runtime.storage.dir, () => runtime.readOnly);
  const chatBackend = new AgentChatBackend(runtime, keys, settings, log, approvals, outcomes);
  context.subscriptions.push(chatBackend);
  chatView.setBackend(chatBackend);
  // @memgpt in VS Code's own Chat view: the same agent and memory.
  context.subscriptions.push(
    registerChatParticipant({ runtime, models: editorModels, settings, keys, log, extensionUri: context.extensionUri }),
  );

  const integration = registerEditorIntegration(context, {
    runtime,
    settings,
    keys,
    log,
    registerCommand: commands.provide,
    revealInChat: (target) => chatView.reveal(target),
  });
  integration.statusBar.describeSearchWith(() => runtime.index.embedderId);
  status.bar = integration.statusBar;
  context.subscriptions.push(
    commands.provide(COMMANDS.downloadEmbeddingModel, (args) =>
      downloadEmbeddingModel(
        {
          storageRoot,
          namedFolder: () => settings.current.embeddings.localModelPath,
          reconfigure,
          log,
          reportError: (what, error) => reportErrorWith(keys, log, what, error),
          ...(process.env.MEMGPT_MODEL_BASE_URL ? { baseUrl: process.env.MEMGPT_MODEL_BASE_URL } : {}),
        },
        args as { confirmed?: boolean } | undefined,
      ),
    ),
  );
  context.subscriptions.push(new WorkspaceFileWatcher(runtime, log));
  // The MCP servers the user configured start now, in the background: the first message finds their tools.
  context.subscriptions.push(...registerMcpServers(runtime.mcp, { log, provide: commands.provide, startNow: !runtime.readOnly }));
  // Copilot Chat's agent mode (and any MCP client the editor runs) can use this memory without configuration.
  const mcp = registerMemoryMcpServer(context, settings, keys, log);
  context.subscriptions.push(...registerMemoryTools(runtime, log), ...mcp.disposables);
  return { ...integration.api, chatView, chatBackend, mcpServerDefinitions: mcp.definitions };
}

function unavailableApi(chatView: ChatViewProvider, reason: string): MemGptApi {
  const fail = (): Promise<never> => Promise.reject(new Error(`MemGPT is not running in this window: ${reason}`));
  return {
    chatView,
    chatBackend: undefined,
    mcpServerDefinitions: () => [],
    createAgent: fail,
    userMessage: fail,
    getMemory: fail,
    listAgents: fail,
    onEvent: () => ({ dispose() {} }),
  };
}

/** Saves the agent and releases the workspace lock before the host exits. */
export async function closeWindowRuntime(): Promise<void> {
  await runtimeToClose?.close();
  runtimeToClose = undefined;
}
