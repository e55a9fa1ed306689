/**
 * How often editor events may wake the agent: at most `maxPerWindow` wake-ups in any rolling
 * window (default: FILE_EVENT_WAKES_PER_HOUR per hour). Each wake-up is a model call the user
 * pays for and did not ask for, so the budget is small and the window rolls (no burst at the
 * top of the hour). Past the budget, events still queue: nothing is lost, it just waits for the
 * next step the user starts.
 */
import { FILE_EVENT_WAKES_PER_HOUR } from '../limits';

const HOUR_MS = 60 * 60 * 1000;

export class WakeBudget {
  private readonly taken: number[] = [];

  constructor(
    private readonly maxPerWindow: number = FILE_EVENT_WAKES_PER_HOUR,
    private readonly windowMs: number = HOUR_MS,
  ) {
    if (!Number.isInteger(maxPerWindow) || maxPerWindow < 0)
      throw new RangeError(`maxPerWindow must be a whole number ≥ 0, got ${maxPerWindow}.`);
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}.`);
  }

  private forget(now: number): void {
    while (this.taken.length > 0 && this.taken[0]! <= now - this.windowMs) this.taken.shift();
  }

  /** Wake-ups still allowed at `now`. */
  remaining(now: number): number {
    this.forget(now);
    return Math.max(0, this.maxPerWindow - this.taken.length);
  }

  /** Spends one wake-up if one is left; false (and nothing spent) otherwise. */
  tryTake(now: number): boolean {
    if (this.remaining(now) === 0) return false;
    this.taken.push(now);
    return true;
  }

  /** When the next wake-up becomes available (`now` if one is left). */
  nextAvailableAt(now: number): number {
    if (this.remaining(now) > 0) return now;
    if (this.maxPerWindow === 0) return Number.POSITIVE_INFINITY;
    return this.taken[0]! + this.windowMs;
  }
}
