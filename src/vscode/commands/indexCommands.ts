/**
 * Index workspace / Rebuild index / Pause / Resume. A run shows a cancellable progress
 * notification; cancelling aborts the run (what was indexed so far is kept).
 */
import * as vscode from 'vscode';
import type { IndexRunSummary } from '../../core/runtime/runtimePort';
import type { CommandContext } from '../commandContext';

const RESTRICTED =
  'This workspace is in Restricted Mode, so MemGPT indexes none of its files. Trust the workspace (Manage Workspace Trust) to let the agent search and read it.';

export class IndexRunner {
  private running: { controller: AbortController; done: Promise<IndexRunSummary | undefined> } | undefined;

  constructor(private readonly ctx: CommandContext) {}

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Starts a run with a progress notification; a second call while one runs returns the first. */
  run(options: { rebuild?: boolean; reason: string }): Promise<IndexRunSummary | undefined> {
    if (!this.ctx.isTrusted()) {
      void vscode.window.showWarningMessage(`MemGPT: ${RESTRICTED}`);
      return Promise.resolve(undefined);
    }
    if (this.running) return this.running.done;
    const controller = new AbortController();
    const done = Promise.resolve(
      vscode.window
        .withProgress(
          {
            location: vscode.ProgressLocation.Notification,
            title: options.rebuild ? 'MemGPT: rebuilding the index' : 'MemGPT: indexing the workspace',
            cancellable: true,
          },
          async (progress, token) => {
            token.onCancellationRequested(() => controller.abort());
            let reported = 0;
            const sub = this.ctx.runtime.index.onIndexProgress((p) => {
              if (p.filesTotal <= 0) {
                progress.report({ message: p.phase === 'discovering' ? 'finding files…' : (p.currentFile ?? '') });
                return;
              }
              const percent = Math.min(100, (100 * p.filesDone) / p.filesTotal);
              progress.report({
                increment: Math.max(0, percent - reported),
                message: `${p.filesDone}/${p.filesTotal} files${p.currentFile ? ` — ${p.currentFile}` : ''}`,
              });
              reported = Math.max(reported, percent);
            });
            try {
              return await this.ctx.runtime.index.indexWorkspace({
                ...(options.rebuild ? { rebuild: true } : {}),
                signal: controller.signal,
              });
            } finally {
              sub.dispose();
            }
          },
        )
        .then(
          (summary) => {
            this.ctx.log.info(
              `Index (${options.reason}): ${summary.indexed} indexed, ${summary.unchanged} unchanged, ${summary.removed} removed, ${summary.skipped} skipped, ${summary.shared} left to the shared index, ${summary.chunks} chunks in ${summary.ms} ms${summary.cancelled ? ' (cancelled)' : ''}.`,
            );
            if (summary.cancelled)
              void vscode.window.showInformationMessage(
                'MemGPT: indexing was cancelled; what was indexed so far is kept. Run "MemGPT: Index Workspace" to continue.',
              );
            return summary;
          },
          async (error: unknown) => {
            await this.ctx.reportError('Indexing the workspace failed', error);
            return undefined;
          },
        ),
    ).finally(() => {
      this.running = undefined;
    });
    this.running = { controller, done };
    return done;
  }

  cancel(): void {
    this.running?.controller.abort();
  }
}

export async function rebuildIndex(
  ctx: CommandContext,
  runner: IndexRunner,
  args?: { confirmed?: boolean },
): Promise<IndexRunSummary | undefined> {
  if (!ctx.isTrusted()) return runner.run({ rebuild: true, reason: 'rebuild' });
  if (args?.confirmed !== true) {
    const answer = await vscode.window.showWarningMessage(
      'Rebuild the MemGPT index?',
      {
        modal: true,
        detail:
          'The workspace index is deleted and every file is indexed again; with an embeddings server this re-sends all files. Memories you or the agent saved are kept.',
      },
      'Rebuild',
    );
    if (answer !== 'Rebuild') return undefined;
  }
  return runner.run({ rebuild: true, reason: 'rebuild' });
}

export function pauseIndexing(ctx: CommandContext): void {
  ctx.runtime.index.pauseIndexing();
  vscode.window.setStatusBarMessage('$(debug-pause) MemGPT indexing paused', 3000);
}

export function resumeIndexing(ctx: CommandContext): void {
  ctx.runtime.index.resumeIndexing();
  vscode.window.setStatusBarMessage('$(play) MemGPT indexing resumed', 3000);
}
