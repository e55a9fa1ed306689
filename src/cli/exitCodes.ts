import { assertNever, MemgptError, type RuntimeErrorCode } from '../core/base/errors';
import { ChatModelError } from '../core/interfaces/chatModel';
import { RuntimeUnavailableError } from '../core/runtime/runtimeGuard';

/**
 * Exit codes of `memgpt`, one meaning each, so scripts and CI can branch on them.
 * `--help` prints the same table (see help.ts); docs/cli.md documents it.
 *
 *   0   ok
 *   1   runtime failure: the turn failed, the memory is locked by another process, an import was refused
 *   2   usage error: unknown command or option, missing or malformed argument, unreadable input file
 *   3   no model configured: no OPENAI_API_KEY for OpenAI and no --base-url / OPENAI_BASE_URL
 *   4   the model server is unreachable (connection refused, host unknown, no answer in time)
 *   5   the folder is missing or is not a folder
 *   130 interrupted (Ctrl-C); state was saved before exiting
 */
export const ExitCode = {
  ok: 0,
  runtimeFailure: 1,
  usage: 2,
  noModel: 3,
  serverUnreachable: 4,
  folderMissing: 5,
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error meant for the user: its message is the one line printed, its code the exit status. */
export class CliError extends MemgptError<'cli'> {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super('cli', message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, ExitCode.usage);

/**
 * The exit status of a failure the core raised, read from its code (never from its wording): a
 * model that cannot be found or reached gets the same status as when the CLI finds it out itself.
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ChatModelError)
    return error.kind === 'network' || error.kind === 'timeout' ? ExitCode.serverUnreachable : ExitCode.runtimeFailure;
  if (error instanceof RuntimeUnavailableError) return runtimeExitCode(error.code);
  return ExitCode.runtimeFailure;
}

function runtimeExitCode(code: RuntimeErrorCode): ExitCode {
  switch (code) {
    case 'no_model':
      return ExitCode.noModel;
    case 'no_folder':
      return ExitCode.folderMissing;
    case 'agent_not_found':
      return ExitCode.usage;
    case 'read_only':
    case 'restricted':
    case 'closed':
    case 'unavailable':
      return ExitCode.runtimeFailure;
    default:
      return assertNever(code, 'runtime error code');
  }
}
