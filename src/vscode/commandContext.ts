/**
 * What every command module receives: the runtime port and the window's services. Errors go
 * through `reportError`, which redacts keys before anything is shown or logged.
 */
import * as vscode from 'vscode';
import { redactSecrets } from '../core/security/redact';
import type { LiveSettings } from './config';
import type { AgentRuntimePort } from '../core/runtime/runtimePort';
import type { ApiKeyStore } from './secrets';
import type { RevealTarget } from './chatView';
import { errorMessage } from '../core/base/errors';
import { errorAction } from './errorActions';

export interface CommandContext {
  runtime: AgentRuntimePort;
  settings: LiveSettings;
  keys: ApiKeyStore;
  log: vscode.LogOutputChannel;
  /** False in restricted mode: no indexing, no file events, no file functions. */
  isTrusted(): boolean;
  openChat(): Thenable<unknown>;
  /** Scrolls the window's chat to a message (open it first). */
  revealInChat(target: RevealTarget): void;
  /** Shows `what failed: why` to the user (redacted) and logs it; never throws. */
  reportError(what: string, error: unknown): Promise<void>;
}

export async function reportErrorWith(keys: ApiKeyStore, log: vscode.LogOutputChannel, what: string, error: unknown): Promise<void> {
  const raw = errorMessage(error);
  const message = redactSecrets(`${what}: ${raw}`, await keys.knownSecrets().catch(() => []));
  log.error(message);
  const action = errorAction(error);
  if (!action) {
    void vscode.window.showErrorMessage(`MemGPT: ${message}`);
    return;
  }
  void vscode.window.showErrorMessage(`MemGPT: ${message}`, action.title).then((picked) => {
    if (picked === action.title) void vscode.commands.executeCommand(action.command);
  });
}

/** Workspace-relative path with forward slashes (folder name first in multi-root), or the file name outside the workspace. */
export function workspacePath(uri: vscode.Uri): string {
  const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
  const rel = vscode.workspace.asRelativePath(uri, multiRoot);
  return rel.split('\\').join('/');
}

/** The file for a workspace-relative path as `workspacePath` writes it (folder name first in multi-root). */
export function resolveWorkspacePath(relPath: string): vscode.Uri | undefined {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) return undefined;
  const parts = relPath.split('/').filter((p) => p.length > 0 && p !== '.');
  if (parts.some((p) => p === '..')) return undefined;
  if (folders.length > 1) {
    const folder = folders.find((f) => f.name === parts[0]);
    if (folder) return vscode.Uri.joinPath(folder.uri, ...parts.slice(1));
  }
  return vscode.Uri.joinPath(folders[0]!.uri, ...parts);
}
