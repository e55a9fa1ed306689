/**
 * Read-only documents under `memgpt-view:` (a recall message, an archival memory): shown in an
 * editor tab, cannot be edited or saved by mistake, and never touch the disk.
 */
import * as vscode from 'vscode';

export const READ_ONLY_SCHEME = 'memgpt-view';
/** Documents kept at most; the oldest is forgotten first (its tab then shows an empty text). */
const MAX_DOCUMENTS = 50;

export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  /** Another scheme for another family of views (the agent's proposed edits use `memgpt-proposed`). */
  constructor(readonly scheme: string = READ_ONLY_SCHEME) {}

  /** Stores `text` under `name` and returns its URI. */
  put(name: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: this.scheme, path: `/${name}` });
    this.texts.delete(uri.path);
    this.texts.set(uri.path, text);
    while (this.texts.size > MAX_DOCUMENTS) this.texts.delete(this.texts.keys().next().value as string);
    this.emitter.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? 'This MemGPT view is no longer available. Search memory again to reopen it.';
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
