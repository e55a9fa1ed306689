/** `memgpt index <folder>`: build or update the folder's archival index. */
import { ExitCode } from '../exitCodes';
import { ProgressLine } from '../progressBar';
import { assertWritable } from '../session';
import { withRuntime, type CommandRunner } from './context';

export const runIndex: CommandRunner = (ctx) =>
  withRuntime(ctx, async (runtime, folder) => {
    assertWritable(runtime, 'index the folder');
    const json = ctx.options.json === true;
    // The bar goes to stderr, and only when both streams are a terminal: piped output stays clean.
    const bar = !json && ctx.out.stdoutIsTTY && ctx.out.stderrIsTTY ? new ProgressLine((t) => ctx.out.stderrRaw(t), ctx.columns) : null;
    const subscription = bar ? runtime.onIndexProgress((p) => bar.update(p)) : null;
    let summary;
    try {
      summary = await runtime.indexWorkspace({ rebuild: ctx.options.rebuild === true, signal: ctx.interrupts.signal });
    } finally {
      subscription?.dispose();
      bar?.clear();
    }
    const counts = runtime.archivalCounts();
    if (json) {
      ctx.out.json({ folder, ...summary, seconds: Math.round(summary.ms) / 1000, archival: { total: counts.workspace + counts.memory, ...counts } });
    } else {
      const files = `${summary.indexed} file${summary.indexed === 1 ? '' : 's'} indexed (${summary.unchanged} unchanged, ${summary.removed} removed, ${summary.skipped} skipped)`;
      const verb = summary.cancelled ? 'Cancelled after' : 'Indexed';
      ctx.out.content(
        `${verb} ${folder}: ${files}, ${summary.chunks} chunk${summary.chunks === 1 ? '' : 's'} in ${(summary.ms / 1000).toFixed(1)} s. ` +
          `Archival memory: ${counts.workspace} workspace chunks, ${counts.memory} remembered items.\n`,
      );
      if (summary.cancelled) ctx.out.message('What was indexed so far is saved; run `memgpt index` again to finish.');
    }
    return summary.cancelled || ctx.interrupts.interrupted ? ExitCode.interrupted : ExitCode.ok;
  });
