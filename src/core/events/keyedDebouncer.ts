/**
 * Runs an action for a key after the key has been quiet for `delayMs`: a file saved five times
 * while the user types (autosave) is re-indexed once, after the last save. Keys are independent,
 * so saving another file never delays this one.
 */
import type { Timers } from './fileEventCoalescer';

export class KeyedDebouncer<K> {
  private readonly timers = new Map<K, unknown>();

  constructor(
    private readonly delayMs: number,
    private readonly action: (key: K) => void,
    private readonly clock: Pick<Timers, 'setTimeout' | 'clearTimeout'> = {
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
  ) {}

  get pendingCount(): number {
    return this.timers.size;
  }

  trigger(key: K): void {
    const existing = this.timers.get(key);
    if (existing !== undefined) this.clock.clearTimeout(existing);
    this.timers.set(
      key,
      this.clock.setTimeout(() => {
        this.timers.delete(key);
        this.action(key);
      }, this.delayMs),
    );
  }

  /** Runs every pending action now (on shutdown nothing waits for a timer that will never fire). */
  flushAll(): void {
    const keys = [...this.timers.keys()];
    for (const key of keys) {
      this.clock.clearTimeout(this.timers.get(key));
      this.timers.delete(key);
      this.action(key);
    }
  }

  cancelAll(): void {
    for (const handle of this.timers.values()) this.clock.clearTimeout(handle);
    this.timers.clear();
  }
}
