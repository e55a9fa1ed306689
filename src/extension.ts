import * as vscode from 'vscode';
import { ChatViewProvider } from './vscode/chatView';

export interface MemGptApi {
  /** For tests and other extensions: the chat view provider. */
  readonly chatView: ChatViewProvider;
}

export function activate(context: vscode.ExtensionContext): MemGptApi {
  const chatView = new ChatViewProvider(context.extensionUri);
  context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(ChatViewProvider.viewId, chatView, {
      webviewOptions: { retainContextWhenHidden: true },
    }),
    vscode.commands.registerCommand('memgpt.openChat', () =>
      vscode.commands.executeCommand(`${ChatViewProvider.viewId}.focus`),
    ),
  );
  return { chatView };
}

export function deactivate(): void {}
