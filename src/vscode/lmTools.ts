/**
 * This window's memory for VS Code's own assistants (Copilot Chat's agent mode and any extension
 * using `vscode.lm`): the memory tools of src/core/mcp as Language Model Tools over the window's
 * runtime, and `memgpt mcp <folder>` published through the MCP server definition provider, so
 * MCP-aware features of the editor find it without a configuration file.
 * package.json declares both (`languageModelTools`, `mcpServerDefinitionProviders`); a unit test
 * keeps its tool declarations equal to MEMORY_TOOLS.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MEMORY_TOOLS, MemoryToolError, callMemoryTool, type MemoryToolDefinition } from '../core/mcp/memoryTools';
import { runtimeMemoryPort } from '../core/mcp/runtimeMemoryPort';
import type { WorkspaceRuntimePort } from '../core/runtime/runtimePort';
import { chatProvider } from '../core/runtime/runtimeConfig';
import type { LiveSettings } from './config';
import type { ApiKeyStore } from './secrets';
import { errorMessage } from '../core/base/errors';

/** The id under `contributes.mcpServerDefinitionProviders`. */
export const MCP_PROVIDER_ID = 'memgpt.memory';
export const MCP_SERVER_LABEL = 'MemGPT memory';

type ToolInput = Record<string, unknown>;

function quoted(value: unknown, max = 300): string {
  const text = typeof value === 'string' ? value : '';
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function invocationMessage(tool: MemoryToolDefinition, input: ToolInput): string {
  switch (tool.name) {
    case 'archival_memory_search':
      return `Searching MemGPT archival memory for "${quoted(input.query, 80)}"`;
    case 'find_symbol':
      return `Finding ${quoted(input.name, 80)} in the MemGPT index`;
    case 'conversation_search':
      return `Searching past MemGPT conversations for "${quoted(input.query, 80)}"`;
    case 'core_memory_read':
      return 'Reading MemGPT core memory';
    case 'archival_memory_insert':
      return 'Remembering a note in MemGPT';
  }
}

function memoryTool(tool: MemoryToolDefinition, runtime: WorkspaceRuntimePort): vscode.LanguageModelTool<ToolInput> {
  const port = runtimeMemoryPort(runtime);
  return {
    prepareInvocation(options) {
      const prepared: vscode.PreparedToolInvocation = { invocationMessage: invocationMessage(tool, options.input ?? {}) };
      // The one tool that changes memory shows the user the exact note before it is stored.
      if (tool.writes) {
        const note = new vscode.MarkdownString();
        note.appendMarkdown(
          'Store this note in the archival memory of this workspace? MemGPT and other assistants will find it in later searches.\n\n',
        );
        note.appendCodeblock(quoted(options.input?.content, 2000), 'text');
        prepared.confirmationMessages = { title: 'Remember in MemGPT?', message: note };
      }
      return prepared;
    },
    async invoke(options, token) {
      const controller = new AbortController();
      const cancel = token.onCancellationRequested(() => controller.abort());
      try {
        const result = await callMemoryTool(port, tool.name, options.input, { signal: controller.signal });
        return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(result.text)]);
      } catch (error) {
        // VS Code hands the message to the calling model, which can correct its arguments.
        throw new Error(error instanceof MemoryToolError ? error.message : `${tool.name} failed: ${errorMessage(error)}`);
      } finally {
        cancel.dispose();
      }
    },
  };
}

export function registerMemoryTools(runtime: WorkspaceRuntimePort, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const disposables: vscode.Disposable[] = [];
  for (const tool of MEMORY_TOOLS) {
    try {
      disposables.push(vscode.lm.registerTool(tool.lmToolName, memoryTool(tool, runtime)));
    } catch (error) {
      // A host without the tools API (or a tool missing from package.json) must not stop the chat.
      log.warn(`The language model tool ${tool.lmToolName} could not be registered: ${errorMessage(error)}`);
    }
  }
  return disposables;
}

/** The command and arguments that start this window's memory as an MCP server (exported for tests). */
export function mcpServerDefinition(options: {
  extensionPath: string;
  folder: string;
  stateDir: string;
  embeddings: { baseUrl: string; model: string };
  version: string;
}): vscode.McpStdioServerDefinition {
  const args = [path.join(options.extensionPath, 'dist', 'cli.js'), 'mcp', options.folder, '--state-dir', options.stateDir];
  // The server must embed queries the way this window's index was built.
  if (options.embeddings.baseUrl !== '')
    args.push('--embeddings-base-url', options.embeddings.baseUrl, '--embeddings-model', options.embeddings.model);
  // process.execPath is the editor's own Node (Electron on desktop, which runs as Node with this variable).
  const server = new vscode.McpStdioServerDefinition(
    MCP_SERVER_LABEL,
    process.execPath,
    args,
    { ELECTRON_RUN_AS_NODE: '1' },
    options.version,
  );
  server.cwd = vscode.Uri.file(options.folder);
  return server;
}

export interface MemoryMcpRegistration {
  disposables: vscode.Disposable[];
  /** What the provider currently offers the editor (for the extension API and tests). */
  definitions(): vscode.McpStdioServerDefinition[];
}

export function registerMemoryMcpServer(
  context: vscode.ExtensionContext,
  settings: LiveSettings,
  keys: ApiKeyStore,
  log: vscode.LogOutputChannel,
): MemoryMcpRegistration {
  const changed = new vscode.EventEmitter<void>();
  const definitions = (): vscode.McpStdioServerDefinition[] => {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    // `memgpt mcp` serves one folder; a multi-root window's memory is keyed by all its folders.
    if (folders.length !== 1 || !vscode.workspace.isTrusted) return [];
    const version = String((context.extension.packageJSON as { version?: unknown }).version ?? '0');
    return [
      mcpServerDefinition({
        extensionPath: context.extensionUri.fsPath,
        folder: folders[0]!.uri.fsPath,
        stateDir: context.globalStorageUri.fsPath,
        embeddings: settings.current.embeddings,
        version,
      }),
    ];
  };
  const provider: vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition> = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: definitions,
    async resolveMcpServerDefinition(server) {
      // The key is added only when the server starts, and only when an embeddings endpoint needs it
      // (an Anthropic key is never an embeddings key: Anthropic serves none).
      if (settings.current.embeddings.baseUrl !== '' && chatProvider(settings.current) === 'openai') {
        const key = await keys.get();
        if (key) server.env = { ...server.env, OPENAI_API_KEY: key };
      }
      return server;
    },
  };
  const disposables: vscode.Disposable[] = [changed];
  try {
    disposables.push(vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider));
  } catch (error) {
    log.warn(`The MemGPT MCP server could not be offered to the editor: ${errorMessage(error)}`);
    return { disposables, definitions };
  }
  disposables.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => changed.fire()),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
    settings.onDidChange((e) => {
      if (e.changed.includes('embeddings')) changed.fire();
    }),
  );
  return { disposables, definitions };
}
