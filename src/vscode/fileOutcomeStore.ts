/**
 * Where the chat keeps how turns ended (failed, stopped) so a reload shows them again: a small JSON
 * file beside this workspace's memory. The editor's workspace state was not enough: a reload right
 * after a failure could end the window before that state reached the disk, and the failure vanished.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SerialQueue } from '../core/base/serialQueue';
import { atomicWriteJson } from '../core/storage/atomicFile';
import type { OutcomeStore } from './turnOutcomes';

export const OUTCOMES_FILE = 'chat-outcomes.json';

export class FileOutcomeStore implements OutcomeStore {
  private readonly values: Record<string, unknown>;
  /** Writes land in the order the outcomes changed, so an older snapshot never overwrites a newer one. */
  private readonly writes = new SerialQueue();

  constructor(
    private readonly file: string,
    private readonly readOnly: () => boolean,
  ) {
    this.values = FileOutcomeStore.load(file);
  }

  static in(dir: string, readOnly: () => boolean): FileOutcomeStore {
    return new FileOutcomeStore(path.join(dir, OUTCOMES_FILE), readOnly);
  }

  get<T>(key: string): T | undefined {
    return this.values[key] as T | undefined;
  }

  update(key: string, value: unknown): Promise<void> {
    this.values[key] = value;
    // A window that only reads this memory keeps the outcome for itself; the writer's file is not touched.
    if (this.readOnly()) return Promise.resolve();
    const snapshot = { ...this.values };
    return this.writes.run(() => atomicWriteJson(this.file, snapshot));
  }

  /** Derived view data: a missing or unreadable file starts empty (the conversation itself is in recall). */
  private static load(file: string): Record<string, unknown> {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
}
