/**
 * `memgpt mcp <folder>`: the folder's memory as an MCP server on stdin/stdout, until the client
 * closes stdin (or Ctrl-C). stdout carries only the protocol; notes go to stderr.
 *
 * Each tool call opens the memory and closes it again. Reads never take the storage lock, so the
 * server works beside an open VS Code window and sees what that window wrote a moment ago; a
 * note is written under the lock, taken for that one write, so a window opened later still
 * becomes the writer. When another process holds the lock, remembering fails with a message.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMemoryMcpServer } from '../../core/mcp/mcpServer';
import type { MemoryToolsPort } from '../../core/mcp/memoryTools';
import { runtimeMemoryPort } from '../../core/mcp/runtimeMemoryPort';
import type { WorkspaceRuntimePort } from '../../core/runtime/runtimePort';
import { ExitCode } from '../exitCodes';
import { checkFolder, openRuntime } from '../session';
import { cliVersion } from '../version';
import type { CommandContext, CommandRunner } from './context';

/** A port that opens the memory for each call, one call at a time (two writers in one process would lock each other out). */
function perCallPort(ctx: CommandContext, folder: string): MemoryToolsPort {
  let chain: Promise<unknown> = Promise.resolve();
  const withMemory = <T>(write: boolean, work: (port: MemoryToolsPort) => Promise<T>): Promise<T> => {
    const next = chain.then(async () => {
      const runtime: WorkspaceRuntimePort = await openRuntime({
        folder,
        stateDir: ctx.stateDir,
        config: ctx.config,
        command: 'mcp',
        out: ctx.out,
        readOnly: !write,
      });
      try {
        return await work(runtimeMemoryPort(runtime));
      } finally {
        await runtime.close();
      }
    });
    chain = next.catch(() => undefined);
    return next;
  };
  return {
    searchArchival: (query, options) => withMemory(false, (p) => p.searchArchival(query, options)),
    findSymbol: (name) => withMemory(false, (p) => p.findSymbol(name)),
    searchConversation: (query, page, pageSize) => withMemory(false, (p) => p.searchConversation(query, page, pageSize)),
    coreMemory: () => withMemory(false, (p) => p.coreMemory()),
    rememberNote: (text) => withMemory(true, (p) => p.rememberNote(text)),
  };
}

export const runMcp: CommandRunner = async (ctx) => {
  const folder = await checkFolder(ctx.args.folder!);
  const server = createMemoryMcpServer(perCallPort(ctx, folder), { version: cliVersion(), folder });
  const stdin = process.stdin;
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    // The SDK's stdio transport does not notice the client going away; the end of stdin is that signal.
    stdin.once('end', () => void server.close());
    stdin.once('close', () => void server.close());
    ctx.interrupts.signal.addEventListener('abort', () => void server.close(), { once: true });
  });
  await server.connect(new StdioServerTransport(stdin, process.stdout));
  if (ctx.out.debug) ctx.out.message(`info: MCP server for ${folder} (memory in ${ctx.stateDir}) is listening on stdin.`);
  await closed;
  return ExitCode.ok;
};
