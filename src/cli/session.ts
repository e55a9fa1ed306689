/**
 * Opening one folder's memory for a command: the folder check (exit 5), the WorkspaceRuntime
 * (the extension's composition root, same storage format), agent selection by id or name, the
 * model checks before a turn (exit 3 and 4), and the guard for commands that write.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ChatModelError } from '../core/interfaces/chatModel';
import { CLI_SERVER_PROBE_TIMEOUT_MS } from '../core/limits';
import { effectiveBaseUrl, modelConfigured, type RuntimeConfig } from '../core/runtime/runtimeConfig';
import type { AgentInfo } from '../core/runtime/runtimePort';
import { WorkspaceRuntime } from '../core/runtime/workspaceRuntime';
import type { WorkspaceRuntimePort } from '../core/runtime/runtimePort';
import { openSearchRuntime, type SearchRuntime, type SearchRuntimeOptions } from '../core/runtime/searchRuntime';
import { NO_MODEL_MESSAGE } from './config';
import { CliError, ExitCode, usageError } from './exitCodes';
import { cliVersion } from './version';
import { cliWording, type Output } from './output';
import { errorMessage } from '../core/base/errors';

/** The folder as an absolute path, or exit 5 saying what is wrong with it. */
export async function checkFolder(folderArg: string): Promise<string> {
  const abs = path.resolve(folderArg);
  let stat;
  try {
    stat = await fsp.stat(abs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'it does not exist'
        : code === 'EACCES'
          ? 'permission was denied'
          : `it cannot be read (${code ?? String(error)})`;
    throw new CliError(`Folder ${abs} cannot be used: ${why}. Give the path of an existing folder.`, ExitCode.folderMissing);
  }
  if (!stat.isDirectory()) {
    throw new CliError(
      `${abs} is a file, not a folder. Give the folder that holds your code (e.g. its parent, ${path.dirname(abs)}).`,
      ExitCode.folderMissing,
    );
  }
  return abs;
}

export interface OpenOptions {
  folder: string;
  stateDir: string;
  config: RuntimeConfig;
  command: string;
  out: Output;
  /** Overrides the command's own choice (the MCP server reads without the lock and writes with it). */
  readOnly?: boolean;
}

const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(['search', 'memory', 'export', 'mcp-servers']);

/** What every command's open shares: the folder as VS Code names it, trust, the owner and the log. */
function commonOptions(options: OpenOptions): SearchRuntimeOptions {
  const { out } = options;
  return {
    storageRoot: options.stateDir,
    // The folder name is VS Code's default for a single-folder window, so multi-root paths match.
    folders: [{ name: path.basename(options.folder) || options.folder, path: options.folder }],
    // The user named this folder on the command line: that is the CLI's form of trusting it.
    trusted: true,
    config: options.config,
    owner: `memgpt CLI (${options.command})`,
    log: (level, message) => {
      if (level === 'info' && !out.debug) return;
      out.message(`${level === 'info' ? 'info' : level === 'warn' ? 'note' : 'error'}: ${message}`);
    },
  };
}

function openFailed(options: OpenOptions, error: unknown): CliError {
  return new CliError(
    `The memory of ${options.folder} in ${options.stateDir} could not be opened: ${errorMessage(error)}`,
    ExitCode.runtimeFailure,
  );
}

export async function openRuntime(options: OpenOptions): Promise<WorkspaceRuntimePort> {
  try {
    return await WorkspaceRuntime.open({
      ...commonOptions(options),
      clientVersion: cliVersion(),
      // One-shot readers never take the lock: a window opening meanwhile must become the writer.
      readOnly: options.readOnly ?? READ_ONLY_COMMANDS.has(options.command),
    });
  } catch (error) {
    throw openFailed(options, error);
  }
}

/** Only what `memgpt search` reads (the index, whose items, citations), read-only and without the lock. */
export async function openSearchOnly(options: OpenOptions): Promise<SearchRuntime> {
  try {
    return await openSearchRuntime(commonOptions(options));
  } catch (error) {
    throw openFailed(options, error);
  }
}

/** ask, chat, index and import write memory: with another process holding the lock they stop here. */
export function assertWritable(runtime: WorkspaceRuntimePort, what: string): void {
  if (!runtime.readOnly) return;
  const reason = runtime.storage.readOnlyReason ?? 'another process holds this workspace’s memory.';
  throw new CliError(
    `Cannot ${what}: ${reason} Close it there (or wait until it exits) and try again; search, memory and export work meanwhile.`,
    ExitCode.runtimeFailure,
  );
}

/** The agent named by `--agent` (id first, then exact name, then name ignoring case). */
export async function findAgent(runtime: WorkspaceRuntimePort, wanted: string): Promise<AgentInfo> {
  const agents = await runtime.agents.listAgents();
  const byId = agents.find((a) => a.id === wanted);
  if (byId) return byId;
  let byName = agents.filter((a) => a.name === wanted);
  if (byName.length === 0) byName = agents.filter((a) => a.name.toLowerCase() === wanted.toLowerCase());
  if (byName.length === 1) return byName[0]!;
  const list = agents.map((a) => `"${a.name}" (${a.id})`).join(', ') || 'none yet';
  if (byName.length > 1) throw usageError(`Several agents are named "${wanted}": ${list}. Pass --agent with the id.`);
  throw usageError(`There is no agent "${wanted}" in this workspace. Agents: ${list}.`);
}

/** The agent to show: `--agent`, else the active one; null when the workspace has none (read-only). */
export async function chosenAgent(runtime: WorkspaceRuntimePort, wanted: string | undefined): Promise<AgentInfo | null> {
  if (wanted !== undefined) return findAgent(runtime, wanted);
  const agents = await runtime.agents.listAgents();
  return agents.find((a) => a.active) ?? agents[0] ?? null;
}

/** Exit 3 before anything is opened when no chat model can be reached at all. */
export function assertModelConfigured(config: RuntimeConfig): void {
  if (!modelConfigured(config.baseUrl, config.apiKey !== undefined, config.provider))
    throw new CliError(NO_MODEL_MESSAGE, ExitCode.noModel);
}

/**
 * Asks the server for its models before a turn: an unreachable server is reported in a second
 * (exit 4) instead of after the model client's retries. Other answers (401, a server without
 * /models) are left to the turn, which explains them.
 */
export async function probeServer(runtime: WorkspaceRuntimePort, config: RuntimeConfig, interrupt: AbortSignal): Promise<void> {
  try {
    await runtime.models.listModels({ signal: AbortSignal.any([interrupt, AbortSignal.timeout(CLI_SERVER_PROBE_TIMEOUT_MS)]) });
  } catch (error) {
    if (interrupt.aborted) return;
    const unreachable =
      error instanceof ChatModelError && (error.kind === 'network' || error.kind === 'timeout' || error.kind === 'aborted');
    if (!unreachable) return;
    const where = effectiveBaseUrl(config.baseUrl);
    const said = error.kind === 'aborted' ? `it did not answer within ${CLI_SERVER_PROBE_TIMEOUT_MS / 1000} s.` : cliWording(error.message);
    throw new CliError(`The model server at ${where} is unreachable: ${said}`, ExitCode.serverUnreachable);
  }
}
