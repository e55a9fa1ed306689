/**
 * The setup card's first offer when VS Code has language models of its own (GitHub Copilot's, or
 * any extension's): chat with one of them, no key. Choosing it is a click, so this is where VS
 * Code's consent question belongs: one tiny request is sent then, which both asks the user (the
 * first time) and proves the model answers, before memgpt.provider becomes "vscode-lm".
 */
import * as vscode from 'vscode';
import { LM_SELECT_TIMEOUT_MS } from '../core/limits';
import type { SetupResult } from '../protocol';
import type { LiveSettings } from './config';
import { lmFailure } from './lmMessages';

/** The first of the editor's models, named for the card ("GPT-4.1 (copilot)"), or undefined when there is none. */
export async function editorModelOffer(): Promise<string | undefined> {
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), LM_SELECT_TIMEOUT_MS).unref?.());
  try {
    const models = await Promise.race([Promise.resolve(vscode.lm.selectChatModels()), timeout]);
    const first = models?.[0];
    return first ? `${first.name} (${first.vendor})` : undefined;
  } catch {
    return undefined;
  }
}

export async function useEditorModel(settings: LiveSettings): Promise<SetupResult> {
  const [lm] = await vscode.lm.selectChatModels();
  if (!lm)
    return {
      ok: false,
      message:
        'VS Code offers no language models now. Install and sign in to GitHub Copilot (or another extension that provides models), then try again.',
    };
  const cancel = new vscode.CancellationTokenSource();
  const timer = setTimeout(() => cancel.cancel(), LM_SELECT_TIMEOUT_MS * 3);
  try {
    const response = await lm.sendRequest(
      [vscode.LanguageModelChatMessage.User('Reply with the single word OK.')],
      { justification: 'MemGPT checks that it may use this model for your chat.' },
      cancel.token,
    );
    for await (const chunk of response.text) {
      void chunk;
      break;
    }
  } catch (error) {
    const code = error instanceof vscode.LanguageModelError ? error.code : undefined;
    return {
      ok: false,
      message: lmFailure(code, error instanceof Error ? error.message : String(error), `${lm.vendor}/${lm.id}`).error.message,
    };
  } finally {
    clearTimeout(timer);
    cancel.dispose();
  }
  await settings.update('provider', 'vscode-lm');
  await settings.update('model', lm.id);
  return { ok: true, message: `Using ${lm.name} from VS Code (${lm.vendor}): no key needed. MemGPT: Select Model picks another.` };
}
