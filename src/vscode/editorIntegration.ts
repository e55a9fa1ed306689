/**
 * The editor integration in one call. extension.ts builds the runtime (an AgentRuntimePort), then:
 *
 *   const settings = new LiveSettings(log);            // src/vscode/config.ts
 *   const keys = new ApiKeyStore(context.secrets);      // src/vscode/secrets.ts
 *   const runtime = ...;                                // an AgentRuntimePort over src/core/runtime
 *   const editor = registerEditorIntegration(context, { runtime, settings, keys, log });
 *   return { chatView, ...editor.api };                 // the MemGptClientApi for other extensions
 *
 * It registers every command of package.json (except memgpt.openChat, the chat view's),
 * the core-memory file system, read-only views, the status bar, file events, the login event,
 * indexing on startup, and workspace trust handling. Everything it creates is disposed with
 * `context.subscriptions`.
 */
import * as vscode from 'vscode';
import { createClientApi, type MemGptClientApi } from './api';
import { reportErrorWith, type CommandContext } from './commandContext';
import { COMMANDS, CONTEXT_KEYS } from './commandIds';
import { newAgent, exportAgent, importAgent, resetAgent, switchAgent } from './commands/agentCommands';
import { IndexRunner, pauseIndexing, rebuildIndex, resumeIndexing } from './commands/indexCommands';
import { selectModel, setApiKey } from './commands/modelCommands';
import { setSharedStoreConnection } from './sharedStoreSecret';
import { searchMemory } from './commands/searchMemory';
import { reflectNow, undoReflection } from './commands/reflectionCommands';
import { askAboutSelection, rememberSelection } from './commands/selectionCommands';
import type { LiveSettings } from './config';
import { CORE_MEMORY_SCHEME, CoreMemoryFileSystem, showCoreMemory } from './coreMemoryFileSystem';
import { FileEvents } from './fileEvents';
import { READ_ONLY_SCHEME, ReadOnlyDocuments } from './readOnlyDocuments';
import type { AgentRuntimePort } from '../core/runtime/runtimePort';
import type { ApiKeyStore } from './secrets';
import type { RevealTarget } from './chatView';
import { AgentStatusBar } from './statusBar';
import { errorMessage } from '../core/base/errors';
import { chatProvider } from '../core/runtime/runtimeConfig';
import { LOGIN_ANSWER_LOOKBACK_RECORDS } from '../core/events/agentWakeups';
import { loginWaitsFor, type LoginAtOpenFacts } from '../core/runtime/loginAtOpen';

export type * from '../core/runtime/runtimePort';
export type { MemGptClientApi } from './api';

export interface EditorIntegrationDeps {
  runtime: AgentRuntimePort;
  settings: LiveSettings;
  keys: ApiKeyStore;
  log: vscode.LogOutputChannel;
  /** Default: the `memgpt.openChat` command. */
  openChat?: () => Thenable<unknown>;
  /** Scrolls the window's chat to a message (a Search Memory hit); without a chat view, nothing scrolls. */
  revealInChat?: (target: RevealTarget) => void;
  /** Default true: send the `login` event when the window opens. */
  sendLogin?: boolean;
  /**
   * Registers one command handler. Default `vscode.commands.registerCommand`; the extension passes
   * its DeferredCommands, whose commands exist from activation on and wait for these handlers.
   */
  registerCommand?: (id: string, handler: (...args: unknown[]) => unknown) => vscode.Disposable;
}

export interface EditorIntegration {
  /** The client API to return from `activate` (MemGPT's create_agent / user_message / get_memory). */
  api: MemGptClientApi;
  statusBar: AgentStatusBar;
  fileEvents: FileEvents;
  indexRunner: IndexRunner;
}

/** What the login decision (loginWaitsFor, in the core) needs to know that only the editor has. */
async function loginFacts(
  runtime: AgentRuntimePort,
  settings: LiveSettings,
  keys: ApiKeyStore,
  trusted: boolean,
): Promise<LoginAtOpenFacts> {
  const s = settings.current;
  return {
    settings: s,
    hasApiKey: (await keys.source(chatProvider(s))) !== 'none',
    trusted,
    readOnly: runtime.activity().kind === 'read-only',
    recentRecords: await runtime.chat.conversation(undefined, LOGIN_ANSWER_LOOKBACK_RECORDS),
  };
}

export function registerEditorIntegration(context: vscode.ExtensionContext, deps: EditorIntegrationDeps): EditorIntegration {
  const { runtime, settings, keys, log } = deps;
  const isTrusted = (): boolean => vscode.workspace.isTrusted;
  const ctx: CommandContext = {
    runtime,
    settings,
    keys,
    log,
    isTrusted,
    openChat: deps.openChat ?? (() => vscode.commands.executeCommand(COMMANDS.openChat)),
    revealInChat: deps.revealInChat ?? (() => undefined),
    reportError: (what, error) => reportErrorWith(keys, log, what, error),
  };

  const documents = new ReadOnlyDocuments();
  const coreMemoryFs = new CoreMemoryFileSystem(runtime);
  const statusBar = new AgentStatusBar(runtime, isTrusted);
  const fileEvents = new FileEvents(runtime, settings, isTrusted, log);
  const indexRunner = new IndexRunner(ctx);

  const guarded =
    <A extends unknown[], R>(what: string, run: (...args: A) => Promise<R> | R) =>
    async (...args: A): Promise<R | undefined> => {
      try {
        return await run(...args);
      } catch (error) {
        await ctx.reportError(what, error);
        return undefined;
      }
    };
  // Commands take one optional argument object so programs and tests skip the prompts.
  type Args<T> = [T?];
  const registerCommand = deps.registerCommand ?? ((id, handler) => vscode.commands.registerCommand(id, handler));
  const register = <T, R>(id: string, what: string, run: (args?: T) => Promise<R> | R): vscode.Disposable => {
    const handler = guarded<Args<T>, R>(what, (args?: T) => run(args));
    return registerCommand(id, (...args: unknown[]) => handler(args[0] as T | undefined));
  };

  context.subscriptions.push(
    documents,
    coreMemoryFs,
    statusBar,
    fileEvents,
    vscode.workspace.registerTextDocumentContentProvider(READ_ONLY_SCHEME, documents),
    vscode.workspace.registerFileSystemProvider(CORE_MEMORY_SCHEME, coreMemoryFs, { isCaseSensitive: true }),
    register(COMMANDS.rememberSelection, 'Remember selection failed', () => rememberSelection(ctx)),
    register(COMMANDS.askAboutSelection, 'Ask about selection failed', (a?: { question?: string }) => askAboutSelection(ctx, a)),
    register(COMMANDS.indexWorkspace, 'Indexing failed', () => indexRunner.run({ reason: 'command' })),
    register(COMMANDS.rebuildIndex, 'Rebuilding the index failed', (a?: { confirmed?: boolean }) => rebuildIndex(ctx, indexRunner, a)),
    register(COMMANDS.pauseIndexing, 'Pausing indexing failed', () => pauseIndexing(ctx)),
    register(COMMANDS.resumeIndexing, 'Resuming indexing failed', () => resumeIndexing(ctx)),
    register(COMMANDS.searchMemory, 'Search memory failed', (a?: { query?: string }) => searchMemory(ctx, documents, a)),
    register(COMMANDS.showCoreMemory, 'Could not show core memory', (a?: { label?: string }) => showCoreMemory(runtime, a, documents)),
    register(COMMANDS.reflectNow, 'Reflecting on memory failed', () => reflectNow(ctx, documents)),
    register(COMMANDS.undoReflection, 'Undoing the reflection failed', (a?: { id?: string }) => undoReflection(ctx, a)),
    register(COMMANDS.setApiKey, 'Setting the API key failed', (a?: { key?: string; skipValidation?: boolean }) => setApiKey(ctx, a)),
    register(COMMANDS.setSharedStoreConnection, 'Storing the shared index connection failed', (a?: { url?: string }) =>
      setSharedStoreConnection(context.secrets, a),
    ),
    register(COMMANDS.selectModel, 'Selecting a model failed', (a?: { model?: string }) => selectModel(ctx, a)),
    register(COMMANDS.newAgent, 'Creating an agent failed', (a?: { name?: string; personaPreset?: string; humanPreset?: string }) =>
      newAgent(ctx, a),
    ),
    register(COMMANDS.switchAgent, 'Switching agents failed', (a?: { agentId?: string }) => switchAgent(ctx, a)),
    register(COMMANDS.resetAgent, 'Resetting the agent failed', (a?: { agentId?: string; confirmed?: boolean }) => resetAgent(ctx, a)),
    register(COMMANDS.exportAgent, 'Exporting the agent failed', (a?: { agentId?: string; uri?: vscode.Uri }) => exportAgent(ctx, a)),
    register(COMMANDS.importAgent, 'Importing the agent failed', (a?: { uri?: vscode.Uri; switchTo?: boolean }) => importAgent(ctx, a)),
  );

  // Context keys drive `enablement` of Pause/Resume and menus.
  const setContext = (key: string, value: boolean): void => void vscode.commands.executeCommand('setContext', key, value);
  const syncContext = (): void => {
    const a = runtime.activity();
    setContext(CONTEXT_KEYS.indexing, a.kind === 'indexing');
    setContext(CONTEXT_KEYS.indexingPaused, a.kind === 'indexing' && a.paused);
    setContext(CONTEXT_KEYS.readOnly, a.kind === 'read-only');
  };
  syncContext();
  context.subscriptions.push(runtime.onDidChangeActivity(syncContext));

  // Trust: restricted mode until granted; granting enables file functions and indexing live.
  const applyTrust = async (): Promise<void> => {
    const trusted = isTrusted();
    try {
      await runtime.setWorkspaceTrusted(trusted);
    } catch (error) {
      await ctx.reportError('Could not apply workspace trust', error);
    }
    statusBar.refresh();
    if (trusted && settings.current.index.onStartup && (vscode.workspace.workspaceFolders?.length ?? 0) > 0) {
      void indexRunner.run({ reason: 'startup' });
    }
  };
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void applyTrust()));
  void applyTrust();
  if (!isTrusted()) {
    log.info('Restricted Mode: MemGPT indexes no files and offers the agent no file functions until the workspace is trusted.');
  }

  if (deps.sendLogin !== false) {
    void loginFacts(runtime, settings, keys, isTrusted())
      .then((facts) => fileEvents.login(loginWaitsFor(facts) === null))
      .catch((error: unknown) => log.warn(`The login event was not recorded: ${errorMessage(error)}`));
  }

  const api = createClientApi(runtime, (text) => keys.redact(text));
  return { api, statusBar, fileEvents, indexRunner };
}
