import { Emitter } from '../base/emitter';

/**
 * Things the user must hear about their stored memory: a file found damaged and kept aside, a
 * pointer repaired, an index rebuilt. Storage never replaces data in silence; it posts a notice
 * here and the front ends show the list (the chat's standing notice, the CLI's stderr, `memgpt
 * memory`). A notice is posted once per key, however often the same damage is looked at.
 */
export class NoticeBoard {
  private readonly byKey = new Map<string, string>();
  private readonly posted = new Emitter<string>();

  /** Posts `message` unless a notice with `key` was already posted. */
  post(key: string, message: string): void {
    if (this.byKey.has(key)) return;
    this.byKey.set(key, message);
    this.posted.fire(message);
  }

  /** Every notice so far, oldest first. */
  list(): string[] {
    return [...this.byKey.values()];
  }

  /** Calls `listener` for each new notice; returns the unsubscribe function. */
  onPost(listener: (message: string) => void): () => void {
    const subscription = this.posted.on(listener);
    return () => subscription.dispose();
  }
}
