/**
 * A tiny companion extension loaded next to MemGPT in UI scenarios (built by the harness, never
 * shipped). Its command "MemGPT Test: Use Echo Backend" connects the chat view to the EchoBackend,
 * so a scenario can drive a full send → reply cycle through the real webview without a model.
 */
import * as vscode from 'vscode';
import type { MemGptApi } from '../../../src/extension';
import { USE_ECHO_BACKEND_COMMAND } from './echoCommand';
import { EchoBackend } from './echoBackend';
import { EXTENSION_ID } from './extensionApi';


export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(USE_ECHO_BACKEND_COMMAND, async () => {
      const memgpt = vscode.extensions.getExtension<MemGptApi>(EXTENSION_ID);
      if (!memgpt) throw new Error(`${EXTENSION_ID} is not loaded next to the echo test extension.`);
      const api = await memgpt.activate();
      api.chatView.setBackend(new EchoBackend());
      void vscode.window.showInformationMessage('MemGPT test: the chat now answers with an echo.');
    }),
  );
}

export function deactivate(): void {}
