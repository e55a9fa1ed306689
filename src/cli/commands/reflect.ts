/**
 * `memgpt reflect <folder>`: one reflection pass now on the active agent (merges duplicate
 * remembered items, tightens core memory blocks), whatever the settings say; `--undo <id>` undoes
 * a pass instead. Ctrl-C stops a pass and changes nothing.
 */
import { errorCode, errorMessage } from '../../core/base/errors';
import { describeReflection, reflectionOutcomeText } from '../../core/runtime/reflectionText';
import { CliError, ExitCode } from '../exitCodes';
import { assertWritable } from '../session';
import { withRuntime, type CommandRunner } from './context';

export const runReflect: CommandRunner = (ctx) =>
  withRuntime(ctx, async (runtime) => {
    assertWritable(runtime, ctx.options.undo !== undefined ? 'undo a reflection' : 'reflect on the memory');
    const json = ctx.options.json === true;
    if (ctx.options.undo !== undefined) {
      let record;
      try {
        record = await runtime.reflection.undo(ctx.options.undo);
      } catch (error) {
        if (errorCode(error)?.startsWith('reflection_')) throw new CliError(errorMessage(error), ExitCode.runtimeFailure);
        throw error;
      }
      if (json) ctx.out.json({ status: 'undone', record });
      else {
        ctx.out.content(describeReflection(record));
        ctx.out.message(`Reflection ${record.id} undone: every block and item is back as it was.`);
      }
      return ExitCode.ok;
    }
    const outcome = await runtime.reflection.reflect({ signal: ctx.interrupts.signal });
    if (json) ctx.out.json(outcome);
    else {
      if (outcome.status === 'changed') ctx.out.content(describeReflection(outcome.record));
      ctx.out.message(reflectionOutcomeText(outcome));
      if (outcome.status === 'changed') ctx.out.message(`Undo it with: memgpt reflect <folder> --undo ${outcome.record.id}`);
    }
    switch (outcome.status) {
      case 'changed':
      case 'unchanged':
        return ExitCode.ok;
      case 'preempted':
        return ExitCode.interrupted;
      case 'failed':
        return ExitCode.runtimeFailure;
    }
  });
