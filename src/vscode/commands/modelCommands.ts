/** Set API key (SecretStorage, checked with a real request) and Select model (from the server's list). */
import * as vscode from 'vscode';
import { redactSecrets } from '../../core/security/redact';
import type { CommandContext } from '../commandContext';
import { errorMessage } from '../../core/base/errors';

export type SetApiKeyResult = 'stored' | 'cleared' | 'cancelled' | 'rejected';

/** Words in an error that mean the server refused the key (as opposed to being unreachable). */
const AUTH_FAILURE = /\b(401|403|unauthori[sz]ed|invalid api key|incorrect api key|authentication|forbidden|api key)\b/i;

export async function setApiKey(ctx: CommandContext, args?: { key?: string; skipValidation?: boolean }): Promise<SetApiKeyResult> {
  const key =
    args?.key ??
    (await vscode.window.showInputBox({
      title: 'MemGPT: API key',
      prompt: 'Stored in VS Code SecretStorage (your OS keychain), never in settings or exports. Leave empty to remove the stored key.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (/\s/.test(v.trim()) ? 'Keys contain no spaces or line breaks.' : undefined),
    }));
  if (key === undefined) return 'cancelled';
  if (key.trim() === '') {
    await ctx.keys.clear();
    void vscode.window.showInformationMessage('MemGPT: the stored API key was removed.');
    return 'cleared';
  }
  if (!args?.skipValidation) {
    try {
      await ctx.runtime.models.listModels({ apiKey: key.trim() });
    } catch (error) {
      const raw = redactSecrets(errorMessage(error), [key]);
      if (AUTH_FAILURE.test(raw)) {
        void vscode.window.showErrorMessage(`MemGPT: the server refused this API key, so it was not stored. ${raw}`);
        return 'rejected';
      }
      // The server may just be down: the user decides whether to keep the key anyway.
      const keep =
        args?.key !== undefined
          ? 'Store Anyway'
          : await vscode.window.showWarningMessage(
              `MemGPT could not check the key: ${raw}`,
              { modal: true, detail: 'The server did not answer, so the key is untested.' },
              'Store Anyway',
            );
      if (keep !== 'Store Anyway') return 'cancelled';
    }
  }
  try {
    await ctx.keys.store(key);
  } catch (error) {
    await ctx.reportError('The API key was not stored', error);
    return 'rejected';
  }
  vscode.window.setStatusBarMessage('$(key) MemGPT: API key stored', 4000);
  return 'stored';
}

export async function selectModel(ctx: CommandContext, args?: { model?: string }): Promise<string | undefined> {
  let models: string[];
  try {
    models = await ctx.runtime.models.listModels();
  } catch (error) {
    await ctx.reportError('Could not list the models of the server', error);
    return undefined;
  }
  const current = ctx.settings.current.model;
  let model = args?.model;
  if (model !== undefined && !models.includes(model)) {
    void vscode.window.showErrorMessage(
      `MemGPT: the server offers no model "${model}". It offers: ${models.slice(0, 20).join(', ') || '(none)'}.`,
    );
    return undefined;
  }
  if (model === undefined) {
    if (models.length === 0) {
      void vscode.window.showWarningMessage(
        'MemGPT: the server lists no models. Load or pull a model on the server (e.g. `ollama pull llama3.1`), then try again.',
      );
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      models.map((m) => ({ label: m, description: m === current ? '(current)' : '' })),
      { title: 'MemGPT: chat model', placeHolder: 'Models the server offers', ignoreFocusOut: true },
    );
    model = picked?.label;
  }
  if (model === undefined) return undefined;
  await ctx.settings.update('model', model);
  return model;
}
