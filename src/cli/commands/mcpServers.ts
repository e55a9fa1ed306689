/**
 * `memgpt mcp-servers <folder>`: the MCP servers the agent of this folder may use (from its
 * .vscode/mcp.json), each started once to show whether it runs and which functions it offers,
 * then stopped. Exit code 1 when a configured server cannot be used, so a script can check a setup.
 */
import { mcpServerStatus } from '../../core/mcpClient/mcpServerStatus';
import { ExitCode } from '../exitCodes';
import { withRuntime, type CommandRunner } from './context';

export const runMcpServers: CommandRunner = (ctx) =>
  withRuntime(ctx, async (runtime, folder) => {
    await runtime.mcp.start();
    const servers = runtime.mcp.servers();
    const problems = runtime.mcp.problems;
    const failing = servers.some((s) => mcpServerStatus(s).problem) || problems.length > 0;
    if (ctx.options.json === true) {
      ctx.out.json({
        folder,
        servers: servers.map((s) => ({ ...s, status: mcpServerStatus(s).label })),
        problems,
      });
      return failing ? ExitCode.runtimeFailure : ExitCode.ok;
    }
    if (servers.length === 0 && problems.length === 0) {
      ctx.out.content(
        `No MCP servers are configured for ${folder}. Add them to .vscode/mcp.json ({"servers": {"name": {"command": "…", "args": […]}}}).\n`,
      );
      return ExitCode.ok;
    }
    for (const s of servers) {
      const status = mcpServerStatus(s);
      ctx.out.content(`${status.problem ? '!' : '*'} ${s.name} (${s.transport}, ${s.source}): ${status.label}\n`);
      ctx.out.content(`    ${s.transport === 'stdio' ? '$ ' : ''}${s.target}\n`);
      if (status.detail)
        ctx.out.content(
          `${status.detail
            .split('\n')
            .map((l) => `    ${l}`)
            .join('\n')}\n`,
        );
      for (const f of s.functions) ctx.out.content(`    - ${f}\n`);
      for (const k of s.skipped) ctx.out.content(`    (not offered: ${k})\n`);
    }
    for (const p of problems) ctx.out.content(`! ${p.message}\n`);
    return failing ? ExitCode.runtimeFailure : ExitCode.ok;
  });
