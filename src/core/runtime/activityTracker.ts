import { Emitter } from '../base/emitter';
import type { IndexingState } from './archivalService';
import type { PortDisposable, RuntimeActivity } from './runtimePort';

export interface ActivitySources {
  closed: () => boolean;
  /** Why this window only reads the memory, or null when it holds it. */
  readOnlyReason: () => string | null;
  busy: () => boolean;
  indexing: () => IndexingState | null;
}

/** What the window is doing, for the status bar: derived from the services, announced on change. */
export class ActivityTracker {
  private current: RuntimeActivity = { kind: 'starting' };
  private readonly events = new Emitter<RuntimeActivity>();

  constructor(private readonly sources: ActivitySources) {}

  activity(): RuntimeActivity {
    return this.current;
  }

  onDidChange(listener: (activity: RuntimeActivity) => void): PortDisposable {
    return this.events.on(listener);
  }

  /** Looks at the sources again; listeners hear only a real change. */
  refresh(): void {
    if (this.sources.closed()) return;
    const readOnly = this.sources.readOnlyReason();
    const indexing = this.sources.indexing();
    if (readOnly !== null) this.set({ kind: 'read-only', reason: readOnly });
    else if (this.sources.busy()) this.set({ kind: 'thinking' });
    else if (indexing) this.set({ kind: 'indexing', ...indexing });
    else this.set({ kind: 'idle' });
  }

  private set(next: RuntimeActivity): void {
    if (JSON.stringify(next) === JSON.stringify(this.current)) return;
    this.current = next;
    this.events.fire(next);
  }
}
