/**
 * What the editor offers beside an error the core raised, chosen by its code (never by its
 * wording): the command that fixes the cause, when there is one. The core names no editor command;
 * this is where its codes meet the editor's words and actions.
 */
import { assertNever, type RuntimeErrorCode } from '../core/base/errors';
import { RuntimeUnavailableError } from '../core/runtime/runtimeGuard';
import { COMMANDS } from './commandIds';

export interface ErrorAction {
  /** Button text. */
  title: string;
  /** Command to run when it is clicked. */
  command: string;
}

/** The fix to offer for `error`, or undefined when there is nothing the user can click. */
export function errorAction(error: unknown): ErrorAction | undefined {
  return error instanceof RuntimeUnavailableError ? runtimeAction(error.code) : undefined;
}

function runtimeAction(code: RuntimeErrorCode): ErrorAction | undefined {
  switch (code) {
    case 'restricted':
      return { title: 'Manage Workspace Trust', command: 'workbench.trust.manage' };
    case 'no_model':
      return { title: 'Select Model', command: COMMANDS.selectModel };
    case 'no_folder':
      return { title: 'Open Folder', command: 'workbench.action.files.openFolder' };
    case 'read_only':
    case 'closed':
    case 'agent_not_found':
    case 'unavailable':
      return undefined;
    default:
      return assertNever(code, 'runtime error code');
  }
}
