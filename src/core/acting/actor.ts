import path from 'node:path';
import type { WorkspaceRoot } from '../index/discovery';
import type { ApprovalAnswer, ApprovalRequest, ApprovalRequester } from '../interfaces/approval';
import { ACTING_OWN_SAVE_ECHO_MS, ACTING_REASON_MAX_CHARS, ACTING_RESULT_DIFF_CHARS } from '../limits';
import { processSecrets } from '../security/redact';
import { isActingError } from './actingError';
import { parseActingCall, type ActingCall } from './actingArguments';
import { decideApproval, DEFAULT_APPROVAL_SETTINGS, type ApprovalSettings } from './approvalPolicy';
import { NodeFileChangeApplier, type FileChangeApplier } from './changeApplier';
import type { CheckpointStore } from './checkpointStore';
import { commandEnvironment } from './commandEnvironment';
import { runCommand, type CommandOutcome, type CommandRequest } from './commandRunner';
import { confineFolder } from './confinement';
import { prepareEdit, prepareWrite, type OpenText, type PreparedChange } from './fileChange';
import { errorMessage } from '../base/errors';

/**
 * edit_file, write_file and run_command as the agent runs them: check the arguments (approval
 * is never an argument), prepare the change or confine the folder, ask the user unless their
 * settings allow it, then apply (after the turn's checkpoint) or run. Every outcome is a result
 * text the model reads and recall keeps, so it says what happened in words a later
 * conversation_search finds: the path and +N/−M lines of an edit, the command, its folder, exit
 * code and the start and end of its output, or that the user declined and why.
 *
 * Editor-free: the approval requester and the file writer are ports. VS Code applies through
 * WorkspaceEdit and asks in the chat card; the CLI writes files directly and asks at the terminal.
 */

export interface ActorOptions {
  roots: () => readonly WorkspaceRoot[];
  /** The user's approval settings, read at each call (they can change between calls). */
  settings?: () => ApprovalSettings;
  /** The turn's checkpoints go here; opened on the first change. */
  checkpoints: () => Promise<CheckpointStore>;
  /** Secret values (the model API key) stripped from a command's environment and masked in its output. */
  secretValues?: () => readonly (string | undefined)[];
  /** Base environment of commands (default process.env). */
  baseEnv?: NodeJS.ProcessEnv;
}

export interface ActingCallContext {
  callId: string;
  /** One id per agent turn: a turn's changes share one checkpoint. */
  turnId: string;
  signal?: AbortSignal;
  /** Who answers for this turn (the CLI's --yes, the terminal); default the actor's requester. */
  approver?: ApprovalRequester;
  /** Live command output, for the chat card or the terminal. */
  onOutput?: (chunk: string) => void;
}

export interface ActingOutcome {
  status: 'OK' | 'Failed';
  message: string;
  /** Files this call changed, with the turn's checkpoint (restorable). */
  changed?: { checkpointId: string; paths: string[] };
}

export class Actor {
  /** Who answers when a turn brings no requester of its own (the chat card in VS Code). */
  approver: ApprovalRequester | undefined;
  /** How files are written (WorkspaceEdit in VS Code); default straight to disk. */
  applier: FileChangeApplier;
  /** Unsaved editor text of a file, when it differs from the disk (VS Code): edits are made to what the user sees. */
  openText: OpenText | undefined;
  /** "Always" answered in this session: edits apply, these prefixes run, until the window closes. */
  private sessionEditsAuto = false;
  private readonly sessionPrefixes: string[] = [];
  /** Real paths the agent wrote, and when: the save that follows is its own, not the user's. */
  private readonly recentWrites = new Map<string, number>();

  constructor(private readonly options: ActorOptions) {
    this.applier = new NodeFileChangeApplier(options.roots);
  }

  /** Runs one acting call; never throws for anything the model or the user did. */
  async run(name: string, rawArgs: unknown, ctx: ActingCallContext): Promise<ActingOutcome> {
    let call: ActingCall;
    try {
      call = parseActingCall(name, rawArgs);
    } catch (err) {
      return failed(err);
    }
    try {
      switch (call.name) {
        case 'edit_file':
          return await this.change(await prepareEdit(this.options.roots(), call.args, this.openText), ctx);
        case 'write_file':
          return await this.change(await prepareWrite(this.options.roots(), call.args, this.openText), ctx);
        case 'run_command':
          return await this.command(call.args, ctx);
      }
    } catch (err) {
      if (ctx.signal?.aborted) return { status: 'Failed', message: `${name} was stopped by the user; nothing more was done.` };
      return failed(err);
    }
  }

  /**
   * True once for a file the agent wrote in the last few seconds: the editor's save event that
   * follows is the agent's own write, not news from the user.
   */
  isOwnWrite(absPath: string): boolean {
    const key = path.resolve(absPath);
    const at = this.recentWrites.get(key);
    if (at === undefined) return false;
    this.recentWrites.delete(key);
    return Date.now() - at <= ACTING_OWN_SAVE_ECHO_MS;
  }

  /** What the approval settings are now, with this session's "always" answers added. */
  effectiveSettings(): ApprovalSettings {
    const base = this.options.settings?.() ?? DEFAULT_APPROVAL_SETTINGS;
    // The setting's prefixes count only when the setting uses them; this session's always do.
    const fromSetting = base.commands === 'allowList' ? base.allowedCommands : [];
    return {
      edits: this.sessionEditsAuto ? 'auto' : base.edits,
      commands: this.sessionPrefixes.length > 0 ? 'allowList' : base.commands,
      allowedCommands: [...fromSetting, ...this.sessionPrefixes],
    };
  }

  private async change(change: PreparedChange, ctx: ActingCallContext): Promise<ActingOutcome> {
    const fn = change.kind === 'edit' ? 'edit_file' : 'write_file';
    const decision = decideApproval({ kind: change.kind, path: change.path }, this.effectiveSettings());
    if (decision.verdict === 'ask') {
      const request: ApprovalRequest = {
        kind: change.kind,
        callId: ctx.callId,
        path: change.path,
        abs: change.abs,
        existed: change.existed,
        diff: change.diff,
        added: change.added,
        removed: change.removed,
        after: change.after,
      };
      const answer = await this.ask(request, ctx);
      if (answer.decision === 'reject') return declined(`${fn} of ${change.path}`, answer.reason, 'Nothing was changed.');
      if (answer.decision === 'always') this.sessionEditsAuto = true;
    }
    const store = await this.options.checkpoints();
    // Noted before the write: the editor reports the save while the write is still going on.
    const key = path.resolve(change.abs);
    this.recentWrites.set(key, Date.now());
    try {
      await this.applier.apply(change, { store, turnId: ctx.turnId });
    } catch (err) {
      this.recentWrites.delete(key);
      throw err;
    }
    // Left unsaved in an editor (the user had unsaved changes there): the next save is the user's.
    if (this.openText?.(change.abs) !== undefined) this.recentWrites.delete(key);
    else this.recentWrites.set(key, Date.now());
    const checkpoint = store.forTurn(ctx.turnId);
    const verb = change.kind === 'edit' ? 'Edited' : change.existed ? 'Overwrote' : 'Created';
    const replaced = change.kind === 'edit' && change.replacements > 1 ? `, ${change.replacements} replacements` : '';
    const diff =
      change.diff.length > ACTING_RESULT_DIFF_CHARS
        ? `${change.diff.slice(0, ACTING_RESULT_DIFF_CHARS)}\n[… diff cut: ${change.diff.length} characters in all]`
        : change.diff;
    const approved =
      decision.verdict === 'allow' ? ' (applied without asking: edits are set to apply automatically)' : ' (approved by the user)';
    const message =
      `${verb} ${change.path}: +${change.added} −${change.removed} lines${replaced}, from line ${change.firstLine}${approved}.` +
      (checkpoint ? ` Checkpoint ${checkpoint.id} can restore the files of this turn.` : '') +
      `\n${diff}`;
    return { status: 'OK', message, ...(checkpoint ? { changed: { checkpointId: checkpoint.id, paths: [change.path] } } : {}) };
  }

  private async command(args: CommandRequest, ctx: ActingCallContext): Promise<ActingOutcome> {
    const roots = this.options.roots();
    const folder = await confineFolder(roots, args.cwd);
    const decision = decideApproval({ kind: 'command', command: args.command, cwd: folder.display }, this.effectiveSettings());
    const secrets = this.secrets();
    if (decision.verdict === 'ask') {
      const suggested = decision.because === 'shell-syntax' ? undefined : decision.suggestedPrefix;
      const request: ApprovalRequest = {
        kind: 'command',
        callId: ctx.callId,
        command: args.command,
        cwd: folder.display,
        ...(suggested ? { suggestedPrefix: suggested } : {}),
        shellSyntax: decision.because === 'shell-syntax' ? decision.found : [],
        withheldVariables: commandEnvironment(this.options.baseEnv ?? process.env, secrets).removed,
      };
      const answer = await this.ask(request, ctx);
      if (answer.decision === 'reject') return declined(`The command \`${args.command}\``, answer.reason, 'It was not run.');
      if (answer.decision === 'always') {
        const prefix = (answer.prefix ?? suggested ?? '').trim();
        if (prefix !== '') this.sessionPrefixes.push(prefix);
      }
    }
    const outcome = await runCommand(args, {
      roots,
      secretValues: secrets,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.onOutput ? { onOutput: ctx.onOutput } : {}),
      ...(this.options.baseEnv ? { baseEnv: this.options.baseEnv } : {}),
    });
    return describeCommand(outcome, decision.verdict === 'allow' ? decision : undefined);
  }

  private async ask(request: ApprovalRequest, ctx: ActingCallContext): Promise<ApprovalAnswer> {
    const approver = ctx.approver ?? this.approver;
    if (!approver) return { decision: 'reject', reason: 'no one was there to approve it (nothing asks the user in this session)' };
    const signal = ctx.signal ?? new AbortController().signal;
    if (signal.aborted) throw new Error('stopped');
    const answer = await approver.request(request, signal);
    return { ...answer, ...(answer.reason !== undefined ? { reason: answer.reason.slice(0, ACTING_REASON_MAX_CHARS) } : {}) };
  }

  private secrets(): string[] {
    return [...(this.options.secretValues?.() ?? []), ...processSecrets()].filter((s): s is string => typeof s === 'string');
  }
}

function failed(err: unknown): ActingOutcome {
  if (isActingError(err)) return { status: 'Failed', message: err.message };
  return { status: 'Failed', message: `The action failed: ${errorMessage(err)}` };
}

function declined(what: string, reason: string | undefined, after: string): ActingOutcome {
  const why = reason && reason.trim() !== '' ? `: ${reason.trim()}` : ' (no reason given)';
  return {
    status: 'Failed',
    message: `${what} was not approved — the user declined${why}. ${after} Do not try the same thing again unasked; ask the user what they want instead.`,
  };
}

function describeCommand(
  o: CommandOutcome,
  allowed: { because: 'allowed-prefix'; prefix: string } | { because: 'edits-auto' } | undefined,
): ActingOutcome {
  const seconds = (o.durationMs / 1000).toFixed(1);
  const how = allowed?.because === 'allowed-prefix' ? ` (run without asking: commands starting with "${allowed.prefix}" are allowed)` : '';
  let ending: string;
  if (o.stopped) ending = `was stopped by the user after ${seconds} s`;
  else if (o.timedOut) ending = `was killed at its time-out of ${o.timeoutSeconds} s${o.timeoutClamped ? ' (the longest allowed)' : ''}`;
  else if (o.exitCode !== null) ending = `exited with code ${o.exitCode} after ${seconds} s`;
  else ending = `was ended by signal ${o.signal ?? 'unknown'} after ${seconds} s`;
  const withheld = o.withheldVariables.length > 0 ? `\nRun without these environment variables: ${o.withheldVariables.join(', ')}.` : '';
  const output =
    o.outputBytes === 0
      ? 'No output.'
      : `Output (${o.outputBytes} bytes${o.outputTruncated ? ', the start and the end are kept' : ''}):\n${o.output}`;
  const ok = !o.stopped && !o.timedOut && o.exitCode === 0;
  return { status: ok ? 'OK' : 'Failed', message: `Ran \`${o.command}\` in ${o.cwd}${how}: it ${ending}.${withheld}\n${output}` };
}
