/**
 * Keeps the archival index current with changes the editor did not save itself: files created,
 * changed or deleted on disk (git checkout, a build, another editor) and renames done in the
 * Explorer. Each path is debounced; the runtime decides what its index rules skip.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { KeyedDebouncer } from '../core/events/keyedDebouncer';
import { REINDEX_ON_SAVE_DEBOUNCE_MS } from '../core/limits';
import type { WorkspaceRuntimePort } from '../core/runtime/runtimePort';
import { errorMessage } from '../core/base/errors';

type Change = 'changed' | 'deleted';

export class WorkspaceFileWatcher implements vscode.Disposable {
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly pending = new Map<string, Change>();
  private readonly debouncer: KeyedDebouncer<string>;

  constructor(
    private readonly runtime: WorkspaceRuntimePort,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.debouncer = new KeyedDebouncer(REINDEX_ON_SAVE_DEBOUNCE_MS, (file) => this.apply(file));
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    this.subscriptions.push(
      watcher,
      watcher.onDidCreate((uri) => this.queue(uri, 'changed')),
      watcher.onDidChange((uri) => this.queue(uri, 'changed')),
      watcher.onDidDelete((uri) => this.queue(uri, 'deleted')),
      vscode.workspace.onDidRenameFiles((e) => {
        for (const { oldUri, newUri } of e.files) {
          if (oldUri.scheme !== 'file' || newUri.scheme !== 'file') continue;
          this.pending.delete(oldUri.fsPath);
          this.runtime.files
            .fileRenamed(oldUri.fsPath, newUri.fsPath)
            .catch((error: unknown) => this.warn(`Following the rename of ${oldUri.fsPath}`, error));
        }
      }),
    );
  }

  private queue(uri: vscode.Uri, change: Change): void {
    if (uri.scheme !== 'file' || this.isStorage(uri.fsPath)) return;
    this.pending.set(uri.fsPath, change);
    this.debouncer.trigger(uri.fsPath);
  }

  private isStorage(file: string): boolean {
    return this.runtime.storageDirs().some((dir) => {
      const rel = path.relative(dir, file);
      return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
    });
  }

  private apply(file: string): void {
    const change = this.pending.get(file);
    this.pending.delete(file);
    if (!change) return;
    const work = change === 'deleted' ? this.runtime.files.fileRemoved(file) : this.runtime.files.fileChanged(file);
    work.catch((error: unknown) => this.warn(`Updating the index for ${file}`, error));
  }

  private warn(what: string, error: unknown): void {
    this.log.warn(`${what} failed: ${errorMessage(error)}`);
  }

  dispose(): void {
    // Pending updates are dropped, not run against a closing runtime: the next start-up reconcile catches them.
    this.debouncer.cancelAll();
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}
