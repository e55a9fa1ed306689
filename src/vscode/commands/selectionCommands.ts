/**
 * "Remember selection" and "Ask about selection": the two ways code in the editor reaches the
 * agent on purpose. Both use the primary selection and name it `path:start-end`.
 */
import * as vscode from 'vscode';
import { askAboutSelectionMessage, rememberedSelectionText, type SelectionRef } from '../../core/events/selection';
import { ASK_SELECTION_MAX_CHARS, REMEMBER_SELECTION_MAX_CHARS } from '../../core/limits';
import type { TurnOutcome } from '../../core/runtime/runtimePort';
import { workspacePath, type CommandContext } from '../commandContext';

function currentSelection(): SelectionRef | string {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return 'There is no active editor. Open a file, select the code, then run the command again.';
  const selection = editor.selection;
  const text = editor.document.getText(selection);
  if (selection.isEmpty || text.trim() === '') return 'Nothing is selected. Select the code you mean, then run the command again.';
  // A selection ending at column 0 of the next line covers the line before it, as the user sees it.
  const endLine = selection.end.character === 0 && selection.end.line > selection.start.line ? selection.end.line : selection.end.line + 1;
  return {
    path: workspacePath(editor.document.uri),
    startLine: selection.start.line + 1,
    endLine,
    text,
    languageId: editor.document.languageId,
  };
}

export interface RememberResult {
  memoryId: string;
  label: string;
  truncated: boolean;
}

export async function rememberSelection(ctx: CommandContext): Promise<RememberResult | undefined> {
  const selection = currentSelection();
  if (typeof selection === 'string') {
    void vscode.window.showWarningMessage(`MemGPT: ${selection}`);
    return undefined;
  }
  const stored = rememberedSelectionText(selection, REMEMBER_SELECTION_MAX_CHARS);
  try {
    const memoryId = await ctx.runtime.memory.remember(stored.text, {
      path: selection.path,
      startLine: selection.startLine,
      endLine: selection.endLine,
    });
    await ctx.runtime.chat.enqueue({
      type: 'selection_remembered',
      path: selection.path,
      startLine: selection.startLine,
      endLine: selection.endLine,
      memoryId,
    });
    if (stored.truncated) {
      void vscode.window.showWarningMessage(
        `MemGPT remembered ${stored.label}, but only its first ${REMEMBER_SELECTION_MAX_CHARS} of ${stored.originalChars} characters: ` +
          'one memory should be something the agent can read back in one search result. Select smaller parts to remember the rest.',
      );
    } else {
      vscode.window.setStatusBarMessage(`$(check) MemGPT remembered ${stored.label}`, 4000);
    }
    return { memoryId, label: stored.label, truncated: stored.truncated };
  } catch (error) {
    await ctx.reportError(`Could not remember ${stored.label}`, error);
    return undefined;
  }
}

export async function askAboutSelection(ctx: CommandContext, args?: { question?: string }): Promise<TurnOutcome | undefined> {
  const selection = currentSelection();
  if (typeof selection === 'string') {
    void vscode.window.showWarningMessage(`MemGPT: ${selection}`);
    return undefined;
  }
  let question = args?.question;
  if (question === undefined) {
    question = await vscode.window.showInputBox({
      title: 'Ask MemGPT about the selection',
      prompt: `Your question about ${selection.path}:${selection.startLine}-${selection.endLine} (Enter alone: "Explain this code.")`,
      ignoreFocusOut: true,
    });
    if (question === undefined) return undefined; // Escape: the user changed their mind.
  }
  const ask = askAboutSelectionMessage(selection, question, ASK_SELECTION_MAX_CHARS);
  if (ask.truncated) {
    void vscode.window.showWarningMessage(
      `MemGPT: the selection has ${ask.originalChars} characters; the chat quotes the first ${ask.text.length} and the agent can read the rest of the file itself.`,
    );
  }
  await ctx.openChat();
  try {
    return await ctx.runtime.chat.handle({ type: 'user_message', text: ask.message });
  } catch (error) {
    await ctx.reportError('The question about the selection was not answered', error);
    return undefined;
  }
}
