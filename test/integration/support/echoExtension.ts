/**
 * A tiny companion extension loaded next to MemGPT in UI scenarios (built by the harness, never
 * shipped). Its command "MemGPT Test: Use Echo Backend" connects the chat view to the EchoBackend,
 * so a scenario can drive a full send → reply cycle through the real webview without a model.
 */
import * as vscode from 'vscode';
import type { MemGptApi } from '../../../src/extension';
import { REGISTER_SCRIPTED_MODELS_COMMAND, SCRIPTED_MODEL_ID, SCRIPTED_VENDOR, USE_ECHO_BACKEND_COMMAND } from './echoCommand';
import { registerScriptedModels, type ScriptedModels } from './scriptedModels';
import { EchoBackend } from './echoBackend';
import { EXTENSION_ID } from './extensionApi';

/** What the companion offers in-host tests: a chat-model provider they script. */
export interface EchoTestApi {
  registerScriptedModels(maxInputTokens?: number): ScriptedModels;
}

export function activate(context: vscode.ExtensionContext): EchoTestApi {
  context.subscriptions.push(
    // For UI scenarios: the scripted models with their default answers, picked in the Chat view
    // (which picks no model by itself before a first request, without Copilot).
    vscode.commands.registerCommand(REGISTER_SCRIPTED_MODELS_COMMAND, async () => {
      context.subscriptions.push(registerScriptedModels());
      await vscode.commands.executeCommand('workbench.action.chat.open', {
        modelSelector: { vendor: SCRIPTED_VENDOR, id: SCRIPTED_MODEL_ID },
      });
      void vscode.window.showInformationMessage('MemGPT test: scripted language models registered and picked in the Chat view.');
    }),
    vscode.commands.registerCommand(USE_ECHO_BACKEND_COMMAND, async () => {
      const memgpt = vscode.extensions.getExtension<MemGptApi>(EXTENSION_ID);
      if (!memgpt) throw new Error(`${EXTENSION_ID} is not loaded next to the echo test extension.`);
      const api = await memgpt.activate();
      api.chatView.setBackend(new EchoBackend());
      void vscode.window.showInformationMessage('MemGPT test: the chat now answers with an echo.');
    }),
  );
  return {
    registerScriptedModels: (maxInputTokens) => {
      const models = registerScriptedModels(maxInputTokens);
      context.subscriptions.push(models);
      return models;
    },
  };
}

export function deactivate(): void {}
