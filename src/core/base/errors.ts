/**
 * One base for the errors the core raises on purpose. The `code` says what kind of failure it is,
 * so the extension (a button, a notification) and the command line (an exit status) decide what
 * to do from the code and never from the wording, which may change.
 */
export class MemgptError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The codes of failures that stop the runtime from doing what was asked, whoever asked. */
export type RuntimeErrorCode =
  /** No model is set and the server named none, or it could not be asked. */
  | 'no_model'
  /** Another window holds this workspace's memory: this one may read, not write. */
  | 'read_only'
  /** The folder is not trusted: no files are read, indexed or changed. */
  | 'restricted'
  /** No folder is open, so there is nothing to work on. */
  | 'no_folder'
  /** The runtime of this window was closed (the window is going away). */
  | 'closed'
  /** The agent named does not exist (any more) in this workspace. */
  | 'agent_not_found'
  /** A part the request needs is not available in this window (e.g. the index before trust). */
  | 'unavailable';

/** The message of anything thrown: an Error's message, else its text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The code of a MemgptError (or any error carrying a string `code`), else undefined. */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof MemgptError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** For the default branch of a switch over a union: the compiler proves it is never reached. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${JSON.stringify(value)}`);
}
