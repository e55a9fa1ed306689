/**
 * Ctrl-C (SIGINT) and SIGTERM for the whole process. By default the first one aborts `signal`
 * (the running model call or indexing stops, then the command closes the runtime, which saves
 * and releases the lock) and a second one exits at once, for when saving itself hangs.
 * The chat loop installs its own handler: Ctrl-C cancels the turn, a second one quits.
 */

export type InterruptHandler = () => void;

export class Interrupts {
  private readonly controller = new AbortController();
  private handler: InterruptHandler | null = null;
  private count = 0;
  private readonly onSignal = (): void => this.trigger();

  constructor(private readonly forceExit: () => void) {}

  /** Aborted at the first interrupt the default handler sees. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get interrupted(): boolean {
    return this.count > 0;
  }

  install(): () => void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    return () => {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    };
  }

  /** Replaces the default behaviour until the returned function is called. */
  handleWith(handler: InterruptHandler): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = null;
    };
  }

  /** One interrupt: from a signal, or from readline's Ctrl-C on a raw-mode terminal. */
  trigger(): void {
    if (this.handler) {
      this.handler();
      return;
    }
    this.count++;
    if (this.count === 1) this.controller.abort(new Error('Interrupted'));
    else this.forceExit();
  }

  /** Marks the run as interrupted (exit 130) without aborting anything: the chat's quit path. */
  markInterrupted(): void {
    this.count = Math.max(this.count, 1);
  }
}
