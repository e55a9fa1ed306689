/**
 * Wake-ups that do not come from the user: the login event when a window opens, and MemGPT's
 * periodic timer heartbeat (off unless memgpt.agent.timerHeartbeatMinutes is set). Editor-free:
 * the runtime and the timers are injected, so both are unit-tested in plain Node.
 */
import type { AgentInput } from '../agent/events';
import { userMessageText } from '../agent/inputMessages';
import type { RecallRecord } from '../interfaces/recallStore';
import type { Timers } from './fileEventCoalescer';

/** What a wake-up needs of the runtime (WorkspaceRuntime / AgentRuntimePort). */
export interface WakeSink {
  isBusy(): boolean;
  handle(input: AgentInput): Promise<unknown>;
  enqueue(input: AgentInput): Promise<void>;
}

/**
 * A window opened on this memory: the agent runs the login event at once when it is idle and
 * `canRun` (a model to ask, memory it may write), so it can greet the user or carry on; a busy
 * or unready agent gets it queued for its next step instead.
 */
export async function deliverLogin(sink: WakeSink & { lastLogin(): Promise<string | null> }, canRun: boolean): Promise<'ran' | 'queued'> {
  const input: AgentInput = { type: 'login', lastLogin: await sink.lastLogin() };
  if (!canRun || sink.isBusy()) {
    await sink.enqueue(input);
    return 'queued';
  }
  await sink.handle(input);
  return 'ran';
}

/**
 * Newest records read to tell whether the user's last message was answered. A turn's records past
 * this many (a long chain of function calls) leave the answer unknown, and the login then runs.
 */
export const LOGIN_ANSWER_LOOKBACK_RECORDS = 200;

/**
 * True when the user's newest message (in `records`, oldest first) got no reply: its turn failed or
 * was stopped before send_message. The chat then offers Retry; a login turn run at that moment
 * would answer the question unasked ("carry on where you left off"), or fail the same way unseen.
 * Replies of automatic turns (a greeting at an earlier window open) do not count as answers.
 */
export function lastUserMessageUnanswered(records: readonly RecallRecord[]): boolean {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.automatic === true) continue;
    const m = r.message;
    if (m.role === 'assistant' && (m.tool_calls ?? []).some((c) => c.function.name === 'send_message')) return false;
    if (r.kind === 'user' && userMessageText(m) !== null) return true;
  }
  return false;
}

const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const t = setTimeout(callback, ms);
    // A pending heartbeat must not keep a headless process (the CLI, tests) alive.
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface TimerHeartbeatOptions {
  /** Minutes between heartbeats; 0 turns them off. Read at every tick, so a settings change applies. */
  minutes: () => number;
  sink: Pick<WakeSink, 'isBusy' | 'handle'>;
  timers?: Timers;
  onError?: (error: unknown) => void;
}

/**
 * MemGPT's timed heartbeat: every N minutes an idle agent gets a `timer` event and may act on its
 * own (tidy memory, follow up). A busy agent skips that tick; while heartbeats are paused
 * (pause_heartbeats) the agent queues the event without a model call.
 */
export class TimerHeartbeat {
  private readonly timers: Timers;
  private handle: unknown;
  private disposed = false;

  constructor(private readonly options: TimerHeartbeatOptions) {
    this.timers = options.timers ?? realTimers;
    this.schedule();
  }

  /** Re-reads the interval (call after the setting changed). */
  reschedule(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
    this.schedule();
  }

  dispose(): void {
    this.disposed = true;
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }

  private schedule(): void {
    const minutes = this.options.minutes();
    if (this.disposed || !(minutes > 0)) return;
    this.handle = this.timers.setTimeout(() => void this.tick(minutes), minutes * 60_000);
  }

  private async tick(minutes: number): Promise<void> {
    this.handle = undefined;
    try {
      if (!this.options.sink.isBusy()) {
        await this.options.sink.handle({
          type: 'timer',
          text: `Timed heartbeat (every ${minutes} min): nothing has happened; you may act on your own (tidy your memory, follow up on open work) or do nothing.`,
        });
      }
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.schedule();
    }
  }
}
