/**
 * The one-line progress bar of `memgpt index`. Drawn only on a terminal (a log file or a pipe
 * would fill with carriage returns), redrawn at most every CLI_PROGRESS_REDRAW_MS.
 */
import type { IndexProgressView } from '../core/runtime/runtimePort';
import { CLI_PROGRESS_REDRAW_MS } from '../core/limits';
import { escapeForDisplay } from '../core/workspace/displayText';

/** The bar for `progress`, fitted to `columns` characters. Pure, so it is tested without a terminal. */
export function renderProgress(progress: IndexProgressView, columns: number, elapsedMs: number): string {
  const seconds = `${(elapsedMs / 1000).toFixed(1)} s`;
  if (progress.phase === 'discovering')
    return fit(`Finding files… ${progress.filesTotal > 0 ? `${progress.filesTotal} so far ` : ''}(${seconds})`, columns);
  const total = Math.max(progress.filesTotal, progress.filesDone);
  const fraction = total === 0 ? 1 : progress.filesDone / total;
  const counts = `${progress.filesDone}/${total} files ${Math.floor(fraction * 100)}% ${seconds}`;
  const barWidth = Math.max(10, Math.min(30, columns - counts.length - 4));
  const filled = Math.round(fraction * barWidth);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const line = `${bar} ${counts}`;
  // One column stays free: writing the last column wraps on some terminals.
  const room = columns - 1 - line.length - 2;
  // A file name may hold escape sequences or a newline: escaped, it cannot move the cursor or break the bar.
  const file = progress.currentFile && room > 8 ? `  ${shortenPath(escapeForDisplay(progress.currentFile), room)}` : '';
  return fit(line + file, columns);
}

function fit(text: string, columns: number): string {
  return text.length <= columns - 1 ? text : text.slice(0, Math.max(0, columns - 2)) + '…';
}

/** Keeps the end of a long path (the file name matters most). */
export function shortenPath(p: string, max: number): string {
  return p.length <= max ? p : `…${p.slice(p.length - max + 1)}`;
}

export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = Date.now();

  constructor(
    private readonly write: (text: string) => void,
    private readonly columns: () => number,
  ) {}

  update(progress: IndexProgressView): void {
    const now = Date.now();
    if (now - this.lastDraw < CLI_PROGRESS_REDRAW_MS && progress.phase === 'indexing') return;
    this.lastDraw = now;
    this.drawn = true;
    this.write(`\r\x1b[2K${renderProgress(progress, this.columns(), now - this.started)}`);
  }

  /** Erases the bar so the summary starts on a clean line. */
  clear(): void {
    if (this.drawn) this.write('\r\x1b[2K');
    this.drawn = false;
  }
}
