/**
 * Chat models that the host application supplies rather than a server we call: in VS Code, the
 * editor's own language models (`vscode.lm`, e.g. Copilot's), chosen with `memgpt.provider`
 * "vscode-lm". The core cannot reach them (it never imports `vscode`), so the editor adapter
 * implements this port and hands it to the WorkspaceRuntime; the command line has none.
 */
import type { ChatModel } from '../interfaces/chatModel';
import type { TokenCounter } from '../tokens/tokenCounter';

export interface HostModel {
  model: ChatModel;
  /** Tokens the model accepts in one request, as the host reports it. */
  contextWindow: number;
  /** The counter the context window plans with (for vscode.lm, calibrated by the model's own counts). */
  counter: TokenCounter;
}

export interface HostModelSource {
  /**
   * Opens the model `selector` names (matched against id, family, then name; '' = the first one
   * the host offers). Rejects with a ChatModelError (`not_found`, `auth`) that says what to do.
   */
  open(selector: string): Promise<HostModel>;
  /** Ids a user can put in `memgpt.model`, for "Select Model". */
  list(signal?: AbortSignal): Promise<string[]>;
}
