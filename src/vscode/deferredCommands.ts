/**
 * Every command of the manifest is registered the moment the extension activates, before the
 * workspace's memory is open: a command run in that window (from the palette, a keybinding or
 * another extension) waits for its handler with a progress notification instead of failing with
 * "command not found". Opening the memory can take seconds on a slow disk or a busy machine.
 *
 * `provide` hands a handler over once the runtime is open; `fail` makes every waiting and later
 * call say why MemGPT is not running in this window. A wait is bounded by
 * COMMAND_HANDLER_WAIT_MS: past it the call says the memory is still opening and returns.
 */
import * as vscode from 'vscode';
import { COMMAND_HANDLER_PROGRESS_AFTER_MS, COMMAND_HANDLER_WAIT_MS } from '../core/limits';

type Handler = (...args: unknown[]) => unknown;

type Slot = { state: 'waiting'; promise: Promise<Handler>; resolve: (handler: Handler) => void } | { state: 'ready'; handler: Handler };

export class DeferredCommands implements vscode.Disposable {
  private readonly slots = new Map<string, Slot>();
  private readonly registrations: vscode.Disposable[] = [];
  private failure: string | undefined;
  private readonly failed: Promise<string>;
  private reportFailure: (reason: string) => void = () => undefined;

  constructor(ids: readonly string[]) {
    this.failed = new Promise((resolve) => (this.reportFailure = resolve));
    for (const id of ids) {
      let resolve: (handler: Handler) => void = () => undefined;
      const promise = new Promise<Handler>((r) => (resolve = r));
      this.slots.set(id, { state: 'waiting', promise, resolve });
      this.registrations.push(vscode.commands.registerCommand(id, (...args: unknown[]) => this.call(id, args)));
    }
  }

  /**
   * Gives `id` its real handler; the same shape as `vscode.commands.registerCommand`, so code that
   * registers commands can take either. Disposing the result makes the command wait again.
   */
  readonly provide = (id: string, handler: Handler): vscode.Disposable => {
    const slot = this.slots.get(id);
    if (!slot) throw new Error(`Command ${id} is not declared in the manifest's command list.`);
    if (slot.state === 'waiting') slot.resolve(handler);
    this.slots.set(id, { state: 'ready', handler });
    return new vscode.Disposable(() => {
      let resolve: (handler: Handler) => void = () => undefined;
      const promise = new Promise<Handler>((r) => (resolve = r));
      this.slots.set(id, { state: 'waiting', promise, resolve });
    });
  };

  /** MemGPT cannot run in this window: every waiting and later call shows `reason`. */
  fail(reason: string): void {
    this.failure = reason;
    this.reportFailure(reason);
  }

  private async call(id: string, args: unknown[]): Promise<unknown> {
    const slot = this.slots.get(id);
    if (!slot) return undefined;
    if (slot.state === 'ready') return slot.handler(...args);
    if (this.failure !== undefined) return this.showFailure(this.failure);
    const outcome = await this.waitFor(slot.promise);
    switch (outcome.kind) {
      case 'ready':
        return outcome.handler(...args);
      case 'failed':
        return this.showFailure(outcome.reason);
      case 'timeout':
        void vscode.window.showWarningMessage(
          `MemGPT is still opening this workspace's memory after ${COMMAND_HANDLER_WAIT_MS / 1000} s, so the command did not run. ` +
            'Try again in a moment; the MemGPT output channel says what it is waiting for.',
        );
        return undefined;
      default: {
        const unreachable: never = outcome;
        return unreachable;
      }
    }
  }

  /** Waits for the handler, showing progress if the wait is noticeable; bounded. */
  private async waitFor(
    handler: Promise<Handler>,
  ): Promise<{ kind: 'ready'; handler: Handler } | { kind: 'failed'; reason: string } | { kind: 'timeout' }> {
    type Outcome = { kind: 'ready'; handler: Handler } | { kind: 'failed'; reason: string } | { kind: 'timeout' };
    let timer: NodeJS.Timeout | undefined;
    let settle: () => void = () => undefined;
    const settled = new Promise<void>((r) => (settle = r));
    const outcome = Promise.race<Outcome>([
      handler.then((h) => ({ kind: 'ready', handler: h })),
      this.failed.then((reason) => ({ kind: 'failed', reason })),
      new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ kind: 'timeout' }), COMMAND_HANDLER_WAIT_MS))),
    ]);
    const progressTimer = setTimeout(() => {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "MemGPT is opening this workspace's memory…" },
        () => settled,
      );
    }, COMMAND_HANDLER_PROGRESS_AFTER_MS);
    try {
      return await outcome;
    } finally {
      clearTimeout(timer);
      clearTimeout(progressTimer);
      settle();
    }
  }

  private showFailure(reason: string): undefined {
    void vscode.window.showErrorMessage(`MemGPT is not running in this window: ${reason}`);
    return undefined;
  }

  dispose(): void {
    for (const r of this.registrations) r.dispose();
    this.registrations.length = 0;
  }
}
