import * as vscode from 'vscode';
import { ChatViewProvider } from './vscode/chatView';
import { COMMANDS } from './vscode/commandIds';
import { DeferredCommands } from './vscode/deferredCommands';
import type { MemGptApi } from './vscode/windowRuntime';

export type { MemGptApi } from './vscode/windowRuntime';

/** The rest of the extension, once loaded (deactivate needs it only if it was). */
let windowRuntime: typeof import('./vscode/windowRuntime') | undefined;

/**
 * Registers what the editor shows first (the chat view and every command of the manifest), then
 * loads the rest of the extension and opens the workspace's memory. The rest is a file of its own
 * (dist/extensionRuntime.js): until it is read, the commands wait for their handlers and the view
 * says the agent is not running yet.
 */
export async function activate(context: vscode.ExtensionContext): Promise<MemGptApi> {
  const log = vscode.window.createOutputChannel('MemGPT', { log: true });
  const chatView = new ChatViewProvider(context.extensionUri, undefined, log);
  context.subscriptions.push(
    log,
    chatView,
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, chatView, {
      webviewOptions: { retainContextWhenHidden: true },
    }),
    vscode.commands.registerCommand(COMMANDS.openChat, () => vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`)),
  );
  // Every other command exists from this moment on and waits for the memory to open.
  const commands = new DeferredCommands(Object.values(COMMANDS).filter((id) => id !== COMMANDS.openChat));
  context.subscriptions.push(commands);
  let rest: typeof import('./vscode/windowRuntime');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    rest = require('./vscode/windowRuntime') as typeof import('./vscode/windowRuntime');
  } catch (error) {
    // A broken install: the commands say so instead of waiting for handlers that never come.
    const reason = `its code could not be loaded (${error instanceof Error ? error.message : String(error)}). Reinstall the extension.`;
    log.error(`MemGPT could not start: ${reason}`);
    commands.fail(reason);
    throw error;
  }
  windowRuntime = rest;
  return rest.openWindowRuntime(context, { log, chatView, commands });
}

/** Saves the agent and releases the workspace lock before the host exits. */
export async function deactivate(): Promise<void> {
  await windowRuntime?.closeWindowRuntime();
}
