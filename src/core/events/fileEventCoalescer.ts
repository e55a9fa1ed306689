/**
 * Turns the editor's stream of "file opened" / "file saved" notifications into a few AgentInputs.
 *
 * Editing produces bursts: autosave fires on every pause, "Save All" saves twenty files at once,
 * switching branches opens dozens. The agent needs to know what the user is working on, not
 * every keystroke, and each message costs context. So:
 *   - events are debounced (FILE_EVENT_DEBOUNCE_MS of quiet; at most FILE_EVENT_MAX_DELAY_MS
 *     late while saves keep coming) and coalesced per path: many saves of one file are one
 *     event, and a save supersedes an open of the same file;
 *   - a flush delivers at most FILE_EVENT_MAX_INPUTS_PER_FLUSH inputs one by one; the other
 *     paths are named in one combined system alert (bounded list + "and N more");
 *   - mode "queue" (default): inputs are enqueued, the model sees them at its next step;
 *     mode "wake": also enqueued at once (durable), then, after an idle delay with no new file
 *     events, one heartbeat wakes the agent, if the WakeBudget allows and no turn is running
 *     (a running turn sees them anyway). Past the budget, events only queue;
 *     mode "off": nothing is recorded.
 * Ignored paths are filtered before `record` (FileEventFilter): this class sees only paths the
 * agent may know about. Editor-free: the clock and timers are injectable for tests.
 */
import type { AgentInput } from '../agent/events';
import {
  DEFAULT_FILE_EVENT_IDLE_DELAY_MS,
  FILE_EVENT_DEBOUNCE_MS,
  FILE_EVENT_MAX_DELAY_MS,
  FILE_EVENT_MAX_INPUTS_PER_FLUSH,
  FILE_EVENT_MAX_PATHS_LISTED,
} from '../limits';
import { WakeBudget } from './wakeBudget';

export type FileEventMode = 'off' | 'queue' | 'wake';
export type FileEventKind = 'opened' | 'saved';

/** Where coalesced inputs go (the agent runtime). */
export interface FileEventSink {
  /** Adds inputs to the agent's queue without calling the model. */
  enqueue(inputs: AgentInput[]): Promise<void>;
  /** Runs one step for `input` (the agent then also sees everything queued). */
  wake(input: AgentInput): Promise<void>;
  /** A turn is running: a wake-up would be redundant. */
  isBusy(): boolean;
}

export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type WakeSkipReason = 'budget' | 'busy';

export interface FileEventCoalescerOptions {
  sink: FileEventSink;
  /** Read at every event and flush, so a settings change applies at once. */
  mode: () => FileEventMode;
  /** Read when a wake-up is scheduled ("wake" mode). */
  idleDelayMs?: () => number;
  budget?: WakeBudget;
  timers?: Timers;
  debounceMs?: number;
  maxDelayMs?: number;
  maxInputsPerFlush?: number;
  maxPathsListed?: number;
  /** A delivery failed; the events were kept and go out with the next flush. */
  onError?: (error: unknown) => void;
  /** A wake-up was due but not spent (for the log and the status bar). */
  onWakeSkipped?: (reason: WakeSkipReason, nextAvailableAt?: number) => void;
}

interface Pending {
  kind: FileEventKind;
  /** Order of first sight, kept across supersession so the list reads like the user's session. */
  order: number;
}

export class FileEventCoalescer {
  private pending = new Map<string, Pending>();
  private order = 0;
  private debounceTimer: unknown;
  private firstPendingAt: number | undefined;
  private wakeTimer: unknown;
  private wakePaths: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly timers: Timers;
  private readonly budget: WakeBudget;

  constructor(private readonly options: FileEventCoalescerOptions) {
    this.timers = options.timers ?? realTimers;
    this.budget = options.budget ?? new WakeBudget();
  }

  /** Paths waiting for the next flush. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** True while a wake-up is scheduled. */
  get wakeScheduled(): boolean {
    return this.wakeTimer !== undefined;
  }

  /** Notes that `path` (workspace-relative, already filtered) was opened or saved. */
  record(kind: FileEventKind, path: string): void {
    if (this.disposed || this.options.mode() === 'off') return;
    const now = this.timers.now();
    const existing = this.pending.get(path);
    if (existing) {
      if (kind === 'saved') existing.kind = 'saved';
    } else {
      this.pending.set(path, { kind, order: this.order++ });
    }
    this.firstPendingAt ??= now;
    // New activity postpones any wake-up: the user is still busy in the editor.
    this.cancelWake();
    this.scheduleFlush(now);
  }

  private scheduleFlush(now: number): void {
    if (this.debounceTimer !== undefined) this.timers.clearTimeout(this.debounceTimer);
    const debounce = this.options.debounceMs ?? FILE_EVENT_DEBOUNCE_MS;
    const maxDelay = this.options.maxDelayMs ?? FILE_EVENT_MAX_DELAY_MS;
    const deadline = (this.firstPendingAt ?? now) + maxDelay;
    const delay = Math.max(0, Math.min(debounce, deadline - now));
    this.debounceTimer = this.timers.setTimeout(() => {
      this.debounceTimer = undefined;
      void this.flush();
    }, delay);
  }

  /** Delivers everything pending now (also called by the debounce timer). Resolves when delivered. */
  flush(): Promise<void> {
    if (this.debounceTimer !== undefined) {
      this.timers.clearTimeout(this.debounceTimer);
      this.debounceTimer = undefined;
    }
    const batch = this.pending;
    this.pending = new Map();
    this.firstPendingAt = undefined;
    const run = this.chain.then(() => this.deliver(batch));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async deliver(batch: Map<string, Pending>): Promise<void> {
    if (batch.size === 0) return;
    const mode = this.options.mode();
    if (mode === 'off') return;
    const entries = [...batch.entries()].sort((a, b) => a[1].order - b[1].order);
    const inputs = this.inputsFor(entries);
    try {
      await this.options.sink.enqueue(inputs);
    } catch (error) {
      // Keep them: they go out with the next batch instead of vanishing.
      for (const [path, entry] of entries) {
        const newer = this.pending.get(path);
        this.pending.set(path, newer ? { kind: newer.kind === 'saved' ? 'saved' : entry.kind, order: entry.order } : entry);
      }
      this.options.onError?.(error);
      return;
    }
    if (mode === 'wake' && !this.disposed) {
      this.wakePaths.push(...entries.map(([path]) => path));
      if (this.pending.size === 0) this.scheduleWake();
    }
  }

  private inputsFor(entries: [string, Pending][]): AgentInput[] {
    const max = Math.max(0, this.options.maxInputsPerFlush ?? FILE_EVENT_MAX_INPUTS_PER_FLUSH);
    const one = ([path, entry]: [string, Pending]): AgentInput =>
      entry.kind === 'saved' ? { type: 'file_saved', path } : { type: 'file_opened', path };
    if (entries.length <= max) return entries.map(one);
    // Keep the newest ones as separate events: they are most likely what the user works on now.
    const single = max > 0 ? entries.slice(-max) : [];
    const rest = entries.slice(0, entries.length - single.length);
    return [{ type: 'system_alert', text: this.combinedText(rest) }, ...single.map(one)];
  }

  private combinedText(rest: [string, Pending][]): string {
    const listed = Math.max(1, this.options.maxPathsListed ?? FILE_EVENT_MAX_PATHS_LISTED);
    const part = (kind: FileEventKind, verb: string): string | undefined => {
      const paths = rest.filter(([, e]) => e.kind === kind).map(([p]) => p);
      if (paths.length === 0) return undefined;
      const shown = paths.slice(0, listed);
      const more = paths.length - shown.length;
      return `${verb} ${paths.length} file${paths.length === 1 ? '' : 's'}: ${shown.join(', ')}${more > 0 ? ` (and ${more} more)` : ''}`;
    };
    const parts = [part('saved', 'saved'), part('opened', 'opened')].filter((p): p is string => p !== undefined);
    return `The user ${parts.join('; and ')} in the editor.`;
  }

  private scheduleWake(): void {
    this.cancelWake(false);
    const delay = Math.max(0, this.options.idleDelayMs?.() ?? DEFAULT_FILE_EVENT_IDLE_DELAY_MS);
    this.wakeTimer = this.timers.setTimeout(() => {
      this.wakeTimer = undefined;
      void this.wakeNow();
    }, delay);
  }

  private cancelWake(forgetPaths = false): void {
    if (this.wakeTimer !== undefined) this.timers.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    if (forgetPaths) this.wakePaths = [];
  }

  private async wakeNow(): Promise<void> {
    const paths = [...new Set(this.wakePaths)];
    this.wakePaths = [];
    if (paths.length === 0 || this.disposed || this.options.mode() !== 'wake') return;
    if (this.options.sink.isBusy()) {
      this.options.onWakeSkipped?.('busy');
      return;
    }
    const now = this.timers.now();
    if (!this.budget.tryTake(now)) {
      this.options.onWakeSkipped?.('budget', this.budget.nextAvailableAt(now));
      return;
    }
    const listed = Math.max(1, this.options.maxPathsListed ?? FILE_EVENT_MAX_PATHS_LISTED);
    const shown = paths.slice(0, listed);
    const more = paths.length - shown.length;
    const reason =
      `Files changed in the editor while you were idle: ${shown.join(', ')}${more > 0 ? ` (and ${more} more)` : ''}. ` +
      'The file events are in your queue; act on them only if it helps the user (e.g. note a convention in core memory), and reply only if there is something worth saying.';
    try {
      await this.options.sink.wake({ type: 'heartbeat', reason });
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  /** Stops the timers and delivers what is pending (queued, never a wake-up). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.cancelWake(true);
    await this.flush();
  }
}
