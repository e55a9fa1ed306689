import { MemgptError } from '../base/errors';

/**
 * The one error shape of acting: a message written for the model and the user (what happened,
 * why, what to do) plus a code from a small union per module, so the command layer and the tests
 * branch on the code, never on the wording.
 */
export class ActingError<C extends string> extends MemgptError<C> {}

/** True when `err` is an ActingError carrying one of `codes` (or any code when none are given). */
export function isActingError<C extends string>(err: unknown, ...codes: readonly C[]): err is ActingError<C> {
  return err instanceof ActingError && (codes.length === 0 || (codes as readonly string[]).includes(err.code));
}
