/**
 * Failed and stopped turns, remembered for the chat's restored history. Recall keeps the user's
 * question and any partial answer, but not the error box or the fact that the user stopped the
 * turn; without this a reload shows the question as if it had never been answered.
 *
 * Kept per agent in a small key-value store (VS Code's workspace state), newest last, bounded.
 * Knows no `vscode` API, so it is unit-tested in Node.
 */
import type { AgentEvent } from '../core/agent/events';
import { CHAT_TURN_OUTCOMES_KEPT } from '../core/limits';
import type { TurnOutcome } from '../protocol';

/** The part of VS Code's `Memento` this needs. */
export interface OutcomeStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void> | Promise<void>;
}

const KEY_PREFIX = 'memgpt.chat.turnOutcomes.';

function isOutcome(v: unknown): v is TurnOutcome {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (typeof o.afterSeq !== 'number' || !Number.isFinite(o.afterSeq)) return false;
  if (o.kind === 'stopped') return true;
  return o.kind === 'error' && typeof o.message === 'string' && typeof o.recoverable === 'boolean';
}

export class TurnOutcomeLog {
  constructor(private readonly store: OutcomeStore) {}

  /** Oldest first; anything stored in an unknown shape is skipped, not trusted. */
  list(agentId: string): TurnOutcome[] {
    const stored = this.store.get<unknown>(KEY_PREFIX + agentId);
    return Array.isArray(stored) ? stored.filter(isOutcome) : [];
  }

  async record(agentId: string, outcome: TurnOutcome): Promise<void> {
    const all = [...this.list(agentId), outcome];
    await this.store.update(KEY_PREFIX + agentId, all.slice(Math.max(0, all.length - CHAT_TURN_OUTCOMES_KEPT)));
  }
}

/**
 * Watches one agent's events and says how each turn ended when it ended without an answer: the
 * error it reported, or a stop. Call `observe` with every event; it returns the outcome to record
 * when a turn finishes that way (the caller adds where it ends in recall).
 */
/** An outcome before its place in recall is known. */
export type UnplacedOutcome = { kind: 'error'; message: string; recoverable: boolean } | { kind: 'stopped' };

export class TurnOutcomeWatcher {
  private error: { message: string; recoverable: boolean } | undefined;

  observe(event: AgentEvent): UnplacedOutcome | undefined {
    if (event.type === 'error') {
      this.error = { message: event.message, recoverable: event.recoverable };
      return undefined;
    }
    if (event.type !== 'turn_finished') return undefined;
    const error = this.error;
    this.error = undefined;
    if (error) return { kind: 'error', ...error };
    if (event.reason === 'cancelled') return { kind: 'stopped' };
    return undefined;
  }
}
