/**
 * The project's instruction files (AGENTS.md, CLAUDE.md, Copilot, Cursor and Cline rules) as the
 * agent sees them: a read-only section of its system message. They are the repository's text, not
 * the agent's memory: only the user changes them, by editing the files.
 */
import { MemgptError } from '../base/errors';

export interface InstructionBlock {
  /** Workspace-relative path of the file; also the label the memory functions refuse. */
  path: string;
  /** The text shown to the agent (cut to the budget, with a notice, when too long). */
  text: string;
  /** Characters of the file (as read) and characters shown. */
  chars: number;
  shownChars: number;
  /** Why it is shown: always, or because the active file matches its globs (Cursor rules). */
  reason: 'always' | 'active-file';
}

/** A rule that applies only when asked for (Cursor rules without alwaysApply or matching globs): named, not shown. */
export interface ListedRule {
  path: string;
  description: string;
}

export interface ProjectInstructions {
  /** The files shown, in order; the same array until the files change. */
  blocks(): readonly InstructionBlock[];
  /** Rules named for the agent to read when relevant. */
  listed(): readonly ListedRule[];
  /** True when `label` names an instruction file (or the section itself): memory functions refuse it. */
  isReadOnly(label: string): boolean;
}

/** A memory function was asked to change an instruction file. */
export class ReadOnlyBlockError extends MemgptError<'read_only_instruction_file'> {
  constructor(message: string) {
    super('read_only_instruction_file', message);
  }
}
