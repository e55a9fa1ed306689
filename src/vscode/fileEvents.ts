/**
 * File events from the editor: the active file changing (what the user opened and looks at) and
 * saves become AgentInputs through the FileEventCoalescer; a save also re-indexes that file. The
 * agent hears nothing in restricted mode or with `memgpt.fileEvents.mode` "off" (saves still
 * re-index when trusted, so search stays current).
 *
 * "Opened" is the active editor changing, not `onDidOpenTextDocument`: VS Code and extensions open
 * documents the user never sees (peek, diff, language servers), which would be noise.
 */
import * as vscode from 'vscode';
import { FileEventCoalescer } from '../core/events/fileEventCoalescer';
import { FileEventFilter, type EditorDocumentRef } from '../core/events/fileEventFilter';
import { KeyedDebouncer } from '../core/events/keyedDebouncer';
import { WakeBudget } from '../core/events/wakeBudget';
import { deliverLogin, TimerHeartbeat } from '../core/events/agentWakeups';
import { REINDEX_ON_SAVE_DEBOUNCE_MS } from '../core/limits';
import { workspacePath } from './commandContext';
import type { LiveSettings } from './config';
import type { AgentRuntimePort } from '../core/runtime/runtimePort';
import { errorMessage } from '../core/base/errors';

export class FileEvents implements vscode.Disposable {
  private filter: FileEventFilter;
  private readonly coalescer: FileEventCoalescer;
  private readonly reindex: KeyedDebouncer<string>;
  /** MemGPT's periodic heartbeat, off unless memgpt.agent.timerHeartbeatMinutes is set. */
  private readonly timer: TimerHeartbeat;
  private readonly subscriptions: vscode.Disposable[] = [];
  private lastActive: string | undefined;
  private followed: string | undefined;

  constructor(
    private readonly runtime: AgentRuntimePort,
    private readonly settings: LiveSettings,
    private readonly isTrusted: () => boolean,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.filter = this.buildFilter();
    this.coalescer = new FileEventCoalescer({
      mode: () => (this.isTrusted() ? this.settings.current.fileEvents.mode : 'off'),
      idleDelayMs: () => this.settings.current.fileEvents.idleDelayMs,
      budget: new WakeBudget(),
      sink: {
        enqueue: async (inputs) => {
          for (const input of inputs) await runtime.chat.enqueue(input);
        },
        wake: async (input) => {
          await runtime.chat.handle(input);
        },
        isBusy: () => runtime.chat.isBusy(),
      },
      onError: (error) => log.warn(`File events were kept for later: ${errorMessage(error)}`),
      onWakeSkipped: (reason, next) =>
        log.info(
          reason === 'budget'
            ? `File events queued without waking the agent: hourly wake-up budget spent (next at ${new Date(next ?? 0).toLocaleTimeString()}).`
            : 'File events queued; the agent is busy and will see them.',
        ),
    });
    this.timer = new TimerHeartbeat({
      minutes: () => this.settings.current.agent.timerHeartbeatMinutes,
      sink: runtime.chat,
      onError: (error) => log.warn(`The timer heartbeat failed: ${errorMessage(error)}`),
    });
    this.reindex = new KeyedDebouncer(REINDEX_ON_SAVE_DEBOUNCE_MS, (absPath) => {
      runtime.files.fileChanged(absPath).catch((error: unknown) => log.warn(`Re-indexing ${absPath} failed: ${errorMessage(error)}`));
    });
    this.subscriptions.push(
      vscode.window.onDidChangeActiveTextEditor((editor) => editor && this.opened(editor.document)),
      // Nested AGENTS.md files follow the file the user looks at; the agent hears of that separately.
      vscode.window.onDidChangeActiveTextEditor((editor) => editor && this.follow(editor.document)),
      vscode.workspace.onDidSaveTextDocument((doc) => this.saved(doc)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => (this.filter = this.buildFilter())),
      settings.onDidChange((change) => {
        if (change.changed.includes('index')) this.filter = this.buildFilter();
        if (change.changed.includes('agent')) this.timer.reschedule();
      }),
    );
    const initial = vscode.window.activeTextEditor;
    if (initial) this.follow(initial.document);
  }

  /**
   * Tells the runtime which file is active (at start too), so its folder's instruction files apply.
   * Also in Restricted Mode: the runtime reads nothing then, and has the right folder once trusted.
   */
  private follow(doc: vscode.TextDocument): void {
    const rel = this.ref(doc).relativePath;
    if (rel === undefined || rel === this.followed) return;
    this.followed = rel;
    this.runtime.files
      .setActiveFile(rel)
      .catch((error: unknown) => this.log.warn(`Reading the instruction files for ${rel} failed: ${errorMessage(error)}`));
  }

  private buildFilter(): FileEventFilter {
    return new FileEventFilter({
      excludeGlobs: this.settings.current.index.exclude,
      ignoredDirs: this.runtime.storageDirs(),
      multiRoot: (vscode.workspace.workspaceFolders?.length ?? 0) > 1,
    });
  }

  private ref(doc: vscode.TextDocument): EditorDocumentRef {
    const inWorkspace = doc.uri.scheme === 'file' && vscode.workspace.getWorkspaceFolder(doc.uri) !== undefined;
    return { scheme: doc.uri.scheme, fsPath: doc.uri.fsPath, relativePath: inWorkspace ? workspacePath(doc.uri) : undefined };
  }

  private opened(doc: vscode.TextDocument): void {
    if (!this.isTrusted()) return;
    const ref = this.ref(doc);
    if (!ref.relativePath || ref.relativePath === this.lastActive) return;
    this.lastActive = ref.relativePath;
    if (this.filter.accepts(ref)) this.coalescer.record('opened', ref.relativePath);
  }

  private saved(doc: vscode.TextDocument): void {
    if (!this.isTrusted()) return;
    const ref = this.ref(doc);
    const reason = this.filter.skipReason(ref);
    if (reason !== undefined || !ref.relativePath) return;
    // The agent's own write (an approved edit, saved): re-indexed, but not told back to it as the user's save.
    if (!this.runtime.acting?.isAgentWrite(doc.uri.fsPath)) this.coalescer.record('saved', ref.relativePath);
    this.reindex.trigger(doc.uri.fsPath);
  }

  /**
   * Tells the agent a window was opened on it, with the previous login time. It runs at once when
   * `canRun` (a model is set up and the agent is idle), else it is queued for the next step. A
   * message the user sends meanwhile cancels it (an automatic turn gives way), so a slow or dead
   * model server never holds the user's first message.
   */
  async login(canRun: boolean): Promise<'ran' | 'queued'> {
    return deliverLogin(this.runtime.chat, canRun);
  }

  /** Delivers pending events now (tests, shutdown). */
  flush(): Promise<void> {
    this.reindex.flushAll();
    return this.coalescer.flush();
  }

  dispose(): void {
    this.timer.dispose();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.reindex.flushAll();
    void this.coalescer.dispose();
  }
}
