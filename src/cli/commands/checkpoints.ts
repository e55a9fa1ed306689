/**
 * `memgpt checkpoints <folder>` lists the checkpoints of the agent's file changes (one per turn
 * that changed files, newest first); `memgpt restore <folder> <id>` brings those files back as
 * they were before that turn. Commands' side effects are not in a checkpoint, and the output says so.
 */
import { isActingError } from '../../core/acting/actingError';
import { CliError, ExitCode } from '../exitCodes';
import { assertWritable } from '../session';
import { withRuntime, type CommandRunner } from './context';

const NOT_RESTORABLE =
  'What commands did (installed packages, generated or deleted files, commits) is not in a checkpoint and is not undone.';

export const runCheckpoints: CommandRunner = (ctx) =>
  withRuntime(ctx, async (runtime, folder) => {
    assertWritable(runtime, 'read the checkpoints');
    const list = await runtime.acting.listCheckpoints();
    const rows = list.map((c) => ({ id: c.id, time: c.time, files: c.files.map((f) => f.path) }));
    if (ctx.options.json === true) {
      ctx.out.json(rows);
      return ExitCode.ok;
    }
    if (rows.length === 0) {
      ctx.out.content(`No checkpoints for ${folder}: the agent has not changed any file here.\n`);
      return ExitCode.ok;
    }
    for (const r of rows)
      ctx.out.content(`${r.id}  ${r.time}  ${r.files.length} file${r.files.length === 1 ? '' : 's'}: ${r.files.join(', ')}\n`);
    ctx.out.message(
      `Restore one with: memgpt restore ${folder} <id> (later turns' changes to the same files are rolled back too). ${NOT_RESTORABLE}`,
    );
    return ExitCode.ok;
  });

export const runRestore: CommandRunner = (ctx) =>
  withRuntime(ctx, async (runtime) => {
    assertWritable(runtime, 'restore a checkpoint');
    const id = ctx.args.id!;
    let report;
    try {
      report = await runtime.acting.restoreCheckpoint(id);
    } catch (error) {
      if (isActingError(error)) throw new CliError(error.message, ExitCode.runtimeFailure);
      throw error;
    }
    if (ctx.options.json === true) {
      ctx.out.json({ id, checkpoints: report.checkpoints, restored: report.restored, deleted: report.deleted });
    } else {
      for (const f of report.restored) ctx.out.content(`restored ${f}\n`);
      for (const f of report.deleted) ctx.out.content(`deleted  ${f} (the turn created it)\n`);
      const later = report.checkpoints.length > 1 ? ` and ${report.checkpoints.length - 1} later one(s)` : '';
      ctx.out.message(`Checkpoint ${id}${later} restored; the agent is told. ${NOT_RESTORABLE}`);
    }
    return ExitCode.ok;
  });
