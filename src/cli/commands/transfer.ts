/** `memgpt export` and `memgpt import`: an agent (state + recall) as one JSON file, the extension's format. */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AGENT_IMPORT_MAX_BYTES } from '../../core/limits';
import { CliError, ExitCode, usageError } from '../exitCodes';
import { assertWritable, chosenAgent } from '../session';
import { withRuntime, type CommandRunner } from './context';

/**
 * Temp file + rename: an interrupted export never leaves half a file under the real name. A
 * failure names the file the user asked for and why, never the temporary name beside it.
 */
async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fsp.writeFile(temp, text, 'utf8');
    await fsp.rename(temp, file);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw new CliError(`Could not write ${file}: ${writeProblem(error, file)}.`, ExitCode.runtimeFailure);
  }
}

/** Why a write failed, in words and without the paths Node puts in its messages. */
function writeProblem(error: unknown, file: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `the folder ${path.dirname(file)} does not exist. Create it, or give --out an existing folder`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `no permission to write in ${path.dirname(file)}. Give --out a folder you can write to`;
    case 'ENOSPC':
      return 'the disk is full';
    case 'EISDIR':
      return 'it is a folder';
    case 'ENOTDIR':
      return 'part of the path is a file, not a folder';
    default:
      return `${code ?? 'the write failed'}. Check that the folder exists and is writable`;
  }
}

/** The local date as YYYY-MM-DD, for export file names. */
function today(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/**
 * Where `--out` writes: a file as given, or in an existing folder (or a path ending in a
 * separator) `<agent-name>-<date>.json`, numbered when that name is taken, so an earlier
 * export is never overwritten.
 */
async function exportTarget(out: string, agentName: string): Promise<string> {
  const resolved = path.resolve(out);
  const stat = await fsp.stat(resolved).catch(() => null);
  const wantsFolder = /[\\/]$/.test(out);
  if (!stat?.isDirectory()) {
    if (wantsFolder)
      throw new CliError(
        `Could not write into ${resolved}: the folder does not exist. Create it first, or give --out a file name.`,
        ExitCode.runtimeFailure,
      );
    return resolved;
  }
  const base = `${agentName.replace(/[^\p{L}\p{N}._-]+/gu, '-').replace(/^[-.]+|-+$/g, '') || 'agent'}-${today()}`;
  for (let n = 1; ; n++) {
    const file = path.join(resolved, n === 1 ? `${base}.json` : `${base}-${n}.json`);
    if (!(await fsp.stat(file).catch(() => null))) return file;
  }
}

export const runExport: CommandRunner = (ctx) =>
  withRuntime(ctx, async (runtime) => {
    const agent = await chosenAgent(runtime, ctx.options.agent);
    if (!agent)
      throw new CliError(
        'This workspace has no agent yet, so there is nothing to export. Chat once (memgpt ask) to create one.',
        ExitCode.runtimeFailure,
      );
    // No agent runs in this process, so the stored state is the whole state; no model client is built
    // (a server that cannot be reached must not stop an export).
    const data = (await runtime.agents.exportAgent(agent.id)) as { recall?: unknown; memories?: unknown };
    const text = `${JSON.stringify(data, null, 2)}\n`;
    const recallCount = Array.isArray(data.recall) ? data.recall.length : 0;
    const memoryCount = Array.isArray(data.memories) ? data.memories.length : 0;
    const what = `${memoryCount} remembered items, ${recallCount} recall messages`;
    const out = ctx.options.out;
    if (out === undefined || out === '-') {
      ctx.out.content(text);
      if (!ctx.out.stdoutIsTTY) ctx.out.message(`Exported agent "${agent.name}" (${agent.id}, ${what}).`);
    } else {
      const file = await exportTarget(out, agent.name);
      await writeFileAtomic(file, text);
      ctx.out.message(`Exported agent "${agent.name}" (${agent.id}, ${what}) to ${file}.`);
    }
    return ExitCode.ok;
  });

async function readExport(fileArg: string, stdin: NodeJS.ReadableStream): Promise<unknown> {
  let text: string;
  if (fileArg === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stdin) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > AGENT_IMPORT_MAX_BYTES)
        throw usageError(`The export on stdin is larger than ${AGENT_IMPORT_MAX_BYTES} bytes; nothing was imported.`);
      chunks.push(buffer);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    const file = path.resolve(fileArg);
    let stat;
    try {
      stat = await fsp.stat(file);
    } catch {
      throw usageError(
        `The export file ${file} does not exist. Give the path of a file written by \`memgpt export\` or the extension's Export Agent.`,
      );
    }
    if (!stat.isFile()) throw usageError(`${file} is not a file. Give the path of an exported agent (.json).`);
    if (stat.size > AGENT_IMPORT_MAX_BYTES)
      throw usageError(
        `${file} is ${stat.size} bytes, more than the ${AGENT_IMPORT_MAX_BYTES} an agent export may have; nothing was imported.`,
      );
    text = await fsp.readFile(file, 'utf8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw usageError(
      `${fileArg === '-' ? 'stdin' : fileArg} is not JSON (${(error as Error).message}); nothing was imported. Give a file written by \`memgpt export\`.`,
    );
  }
}

export const runImport: CommandRunner = async (ctx) => {
  // Read and parse before opening the memory: a bad file changes nothing and holds no lock.
  const data = await readExport(ctx.args.file!, ctx.stdin);
  return withRuntime(ctx, async (runtime) => {
    assertWritable(runtime, 'import an agent');
    const hadAgents = (await runtime.storage.agents.activeAgentId()) !== null;
    const imported = await runtime.agents.importAgent(data).catch((error: unknown) => {
      throw new CliError((error as Error).message, ExitCode.runtimeFailure);
    });
    // A workspace without an agent adopts the imported one, so ask and chat continue its conversation.
    if (!hadAgents) await runtime.agents.switchAgent(imported.id);
    const active = !hadAgents;
    if (ctx.options.json === true) ctx.out.json({ ...imported, active });
    else {
      ctx.out.content(`Imported agent "${imported.name}" as ${imported.id}${active ? ' (now the active agent)' : ''}.\n`);
      if (!active) ctx.out.message(`Use it with --agent ${imported.id} (ask and chat make it the active agent).`);
    }
    return ExitCode.ok;
  });
};
