/**
 * Cooperative time slicing for work that runs on the extension host's event
 * loop: long loops call `slice.check()` (cheap) and, once the current slice has
 * run for INDEX_YIELD_EVERY_MS, await a setImmediate so timers, I/O and the UI get a
 * turn. The slice is kept well under the ~50 ms budget because a garbage
 * collection or a busy machine can stretch a slice to several times its length.
 */
import { INDEX_YIELD_EVERY_MS } from '../limits';

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TimeSlice {
  private start = performance.now();
  /** Event-loop turns given away so far (tests read it to prove that long work yields). */
  yields = 0;

  constructor(private readonly budgetMs: number = INDEX_YIELD_EVERY_MS) {}

  /** True when the slice is used up (the caller should `await this.yield()`). */
  get due(): boolean {
    return performance.now() - this.start > this.budgetMs;
  }

  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.yields++;
    this.start = performance.now();
  }

  /** Yields if the slice is used up. */
  async check(): Promise<void> {
    if (this.due) await this.yield();
  }
}
