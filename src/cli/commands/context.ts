/** What every command gets from main: parsed arguments, configuration, output and interrupts. */
import type { Readable } from 'node:stream';
import type { ParsedOptions } from '../args';
import type { CommandSpec, OPTIONS } from '../commandTable';
import type { RuntimeConfig } from '../../core/runtime/runtimeConfig';
import type { WorkspaceRuntimePort } from '../../core/runtime/runtimePort';
import type { ExitCode } from '../exitCodes';
import type { Interrupts } from '../interrupts';
import type { Output } from '../output';
import type { SearchRuntime } from '../../core/runtime/searchRuntime';
import { checkFolder, openRuntime, openSearchOnly } from '../session';

export interface CommandContext {
  command: CommandSpec;
  /** Positionals by the names in the command table (all present: main checked). */
  args: Readonly<Record<string, string>>;
  options: ParsedOptions<typeof OPTIONS>;
  config: RuntimeConfig;
  stateDir: string;
  out: Output;
  interrupts: Interrupts;
  stdin: Readable & { isTTY?: boolean };
  /** Terminal width for the progress bar. */
  columns: () => number;
}

export type CommandRunner = (ctx: CommandContext) => Promise<ExitCode>;

/** Checks the folder, opens its runtime, runs `work`, and always closes (saves, releases the lock). */
export async function withRuntime<T>(ctx: CommandContext, work: (runtime: WorkspaceRuntimePort, folder: string) => Promise<T>): Promise<T> {
  const folder = await checkFolder(ctx.args.folder!);
  const runtime = await openRuntime({ folder, stateDir: ctx.stateDir, config: ctx.config, command: ctx.command.name, out: ctx.out });
  return closing(ctx, runtime, () => work(runtime, folder));
}

/** Like withRuntime with only what a search reads opened: a one-shot search starts faster. */
export async function withSearchRuntime<T>(ctx: CommandContext, work: (runtime: SearchRuntime, folder: string) => Promise<T>): Promise<T> {
  const folder = await checkFolder(ctx.args.folder!);
  const runtime = await openSearchOnly({ folder, stateDir: ctx.stateDir, config: ctx.config, command: ctx.command.name, out: ctx.out });
  return closing(ctx, runtime, () => work(runtime, folder));
}

/** Runs `work` and closes the runtime however it ends; a failed close is said, never hides the first error. */
async function closing<T>(ctx: CommandContext, runtime: { close(): Promise<void> }, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await runtime
      .close()
      .catch((closeError: unknown) =>
        ctx.out.message(`error: the memory could not be saved and closed: ${String((closeError as Error).message ?? closeError)}`),
      );
    throw error;
  }
  await runtime.close();
  return result;
}
