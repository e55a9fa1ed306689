import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { WorkspaceRoot } from '../index/discovery';
import {
  COMMAND_DEFAULT_TIMEOUT_S,
  COMMAND_DRAIN_MS,
  COMMAND_KILL_GRACE_MS,
  COMMAND_MAX_CHARS,
  COMMAND_MAX_TIMEOUT_S,
  COMMAND_OUTPUT_HEAD_BYTES,
  COMMAND_OUTPUT_TAIL_BYTES,
} from '../limits';
import { redactSecrets } from '../security/redact';
import { ActingError } from './actingError';
import { commandEnvironment } from './commandEnvironment';
import { confineFolder } from './confinement';
import { OutputCapture } from './outputCapture';

/**
 * run_command's core: one shell command, run to completion in a workspace folder, with nothing
 * unbounded. The command gets no stdin (nobody can answer a prompt), an environment without
 * credentials, and its own process group, so a time-out or Stop kills everything it started
 * (a test runner's workers, a dev server it spawned), not only the shell. Output (stdout and
 * stderr interleaved as they arrive, as in a terminal) is kept head and tail within a byte cap,
 * and any known secret that still shows up in it is masked before the model sees it.
 *
 * Whatever the command left running when it exits is killed too: the agent cannot watch or stop
 * a background process later, so it must not leave one behind.
 */

export interface CommandRequest {
  command: string;
  cwd?: string;
  timeout_seconds?: number;
}

export type CommandErrorCode = 'empty-command' | 'too-long' | 'bad-timeout' | 'spawn-failed' | 'aborted';

export class CommandError extends ActingError<CommandErrorCode> {
  constructor(code: CommandErrorCode, message: string) {
    super(code, message);
    this.name = 'CommandError';
  }
}

export interface RunCommandOptions {
  roots: readonly WorkspaceRoot[];
  /** The model API key and any other secret value: stripped from the environment and masked in the output. */
  secretValues?: readonly (string | undefined)[];
  /** Stop: kills the command's process group. */
  signal?: AbortSignal;
  /** Defaults to process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Defaults to /bin/sh (cmd.exe on Windows). */
  shell?: string;
  /** Live output for the card, already capped by nothing: the caller shows what it wants. */
  onOutput?: (chunk: string) => void;
  /** Overrides for tests; default the limits. */
  headBytes?: number;
  tailBytes?: number;
  killGraceMs?: number;
}

export interface CommandOutcome {
  command: string;
  /** The folder it ran in, as a workspace path ("." for the workspace folder). */
  cwd: string;
  /** Null when the command was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Stopped by the user (the AbortSignal). */
  stopped: boolean;
  /** The time-out applied, after clamping to COMMAND_MAX_TIMEOUT_S. */
  timeoutSeconds: number;
  /** True when the requested time-out was longer than the maximum and was cut. */
  timeoutClamped: boolean;
  durationMs: number;
  /** Captured output: head and tail, with a line saying what was cut; secrets masked. */
  output: string;
  outputBytes: number;
  outputTruncated: boolean;
  /** Environment variables withheld from the command (names only). */
  withheldVariables: string[];
}

/**
 * Process groups of commands still running. A group is detached from us (so a signal reaches all
 * of it), which also means it would outlive us: when this process exits (the window closes, the
 * CLI ends), every such group is killed.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const g of liveGroups) {
        try {
          process.kill(-g, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
  liveGroups.add(pid);
}

/** Validates the request, confines the folder, runs the command; throws CommandError / ConfinementError before anything runs. */
export async function runCommand(request: CommandRequest, options: RunCommandOptions): Promise<CommandOutcome> {
  const command = typeof request.command === 'string' ? request.command : '';
  if (command.trim() === '')
    throw new CommandError('empty-command', 'The command is empty. Give the shell command to run, e.g. "npm test".');
  if (command.length > COMMAND_MAX_CHARS)
    throw new CommandError(
      'too-long',
      `The command is longer than ${COMMAND_MAX_CHARS} characters. Put long scripts in a file and run that.`,
    );
  const { seconds, clamped } = timeoutOf(request.timeout_seconds);
  if (options.signal?.aborted) throw new CommandError('aborted', 'The command was stopped before it started.');
  const folder = await confineFolder(options.roots, request.cwd);
  const { env, removed } = commandEnvironment(options.baseEnv ?? process.env, options.secretValues ?? []);
  const capture = new OutputCapture(options.headBytes ?? COMMAND_OUTPUT_HEAD_BYTES, options.tailBytes ?? COMMAND_OUTPUT_TAIL_BYTES);
  const windows = process.platform === 'win32';
  const shell = options.shell ?? (windows ? (process.env.ComSpec ?? 'cmd.exe') : '/bin/sh');
  const args = windows ? ['/d', '/s', '/c', command] : ['-c', command];
  const started = Date.now();

  return new Promise<CommandOutcome>((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(shell, args, {
        cwd: folder.abs,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group (POSIX), so one signal reaches every process it starts.
        detached: !windows,
        windowsHide: true,
        windowsVerbatimArguments: windows,
      });
    } catch (err) {
      reject(new CommandError('spawn-failed', `The command could not be started: ${(err as Error).message}`));
      return;
    }
    if (!windows && child.pid !== undefined) trackGroup(child.pid);
    let timedOut = false;
    let stopped = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        if (windows) spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
        else process.kill(-child.pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const terminate = () => {
      killGroup('SIGTERM');
      // A process that ignores SIGTERM still ends: SIGKILL after the grace period.
      timers.push(setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? COMMAND_KILL_GRACE_MS));
    };
    const onAbort = () => {
      if (exit || stopped) return;
      stopped = true;
      terminate();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(
      setTimeout(() => {
        if (exit) return;
        timedOut = true;
        terminate();
      }, seconds * 1000),
    );

    // One decoder per stream: a character split across two chunks is shown whole.
    const live = (decoder: StringDecoder) => (chunk: Buffer) => {
      capture.write(chunk);
      if (options.onOutput) {
        const text = decoder.write(chunk);
        if (text) options.onOutput(redactSecrets(text, options.secretValues ?? []));
      }
    };
    child.stdout?.on('data', live(new StringDecoder('utf8')));
    child.stderr?.on('data', live(new StringDecoder('utf8')));

    const finish = () => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      // Nothing the command started may outlive it (see the module comment).
      killGroup('SIGKILL');
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({
        command,
        cwd: folder.display,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        stopped,
        timeoutSeconds: seconds,
        timeoutClamped: clamped,
        durationMs: Date.now() - started,
        output: redactSecrets(capture.text(), options.secretValues ?? []),
        outputBytes: capture.totalBytes,
        outputTruncated: capture.truncated,
        withheldVariables: removed,
      });
    };

    child.on('error', (err) => {
      if (exit) return;
      settled = true;
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new CommandError('spawn-failed', `The command could not be started with ${shell}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // A background process may hold the pipes open forever; read what is there for a moment, then stop.
      timers.push(setTimeout(finish, COMMAND_DRAIN_MS));
    });
    child.on('close', () => {
      if (exit) finish();
    });
  });
}

function timeoutOf(raw: number | undefined): { seconds: number; clamped: boolean } {
  if (raw === undefined) return { seconds: COMMAND_DEFAULT_TIMEOUT_S, clamped: false };
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw <= 0) {
    throw new CommandError(
      'bad-timeout',
      `timeout_seconds must be a number of seconds above 0 (at most ${COMMAND_MAX_TIMEOUT_S}); got ${String(raw)}.`,
    );
  }
  return raw > COMMAND_MAX_TIMEOUT_S ? { seconds: COMMAND_MAX_TIMEOUT_S, clamped: true } : { seconds: raw, clamped: false };
}
