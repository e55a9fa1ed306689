/**
 * Runs async work one piece at a time, in the order it was asked for. A failed piece rejects its
 * own caller only; the queue goes on with the next.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything queued so far has finished (failures included). */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
