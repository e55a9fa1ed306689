/**
 * The status bar item: the agent's state (idle, thinking, indexing n%, read-only, restricted),
 * a click opens the chat. The tooltip says what the state means and what to do about it.
 */
import * as vscode from 'vscode';
import { COMMANDS } from './commandIds';
import type { AgentRuntimePort } from '../core/runtime/runtimePort';
import { statusView, type StatusView } from './statusView';

export class AgentStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly runtime: AgentRuntimePort,
    private readonly isTrusted: () => boolean,
  ) {
    this.item = vscode.window.createStatusBarItem('memgpt.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'MemGPT';
    this.item.command = COMMANDS.openChat;
    this.subscription = runtime.onDidChangeActivity(() => this.refresh());
    this.refresh();
    this.item.show();
  }

  /** What the item shows now (for tests). */
  get view(): StatusView {
    return {
      text: this.item.text,
      tooltip: typeof this.item.tooltip === 'string' ? this.item.tooltip : '',
      warning: this.item.backgroundColor !== undefined,
    };
  }

  private embedderId: (() => string) | undefined;

  /** Lets the tooltip say what archival search can do (the embedder the runtime uses now). */
  describeSearchWith(embedderId: () => string): void {
    this.embedderId = embedderId;
    this.refresh();
  }

  refresh(): void {
    const view = statusView(this.runtime.activity(), this.isTrusted(), this.embedderId?.());
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
