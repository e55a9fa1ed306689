/**
 * How a configured MCP server's state reads to a person, the same words in `memgpt mcp-servers`
 * and in VS Code's "MemGPT: Show MCP Servers".
 */
import type { McpServerView } from './mcpHub';

export interface McpServerStatusText {
  /** One word or two: "running", "could not start". */
  label: string;
  /** True when the user should do something about it. */
  problem: boolean;
  /** The reason, when there is one (what failed, what to do). */
  detail?: string;
}

export function mcpServerStatus(view: McpServerView): McpServerStatusText {
  const s = view.state;
  switch (s.kind) {
    case 'running':
      return { label: `running, ${view.functions.length} function${view.functions.length === 1 ? '' : 's'}`, problem: false };
    case 'starting':
      return { label: 'starting', problem: false };
    case 'idle':
      return { label: 'not started yet (starts with the first message)', problem: false };
    case 'stopped':
      return { label: 'stopped', problem: false };
    case 'failed':
      return { label: 'could not start', problem: true, detail: s.message };
    case 'exited':
      return { label: 'stopped on its own', problem: true, detail: s.message };
    case 'untrusted':
      return {
        label: 'not started: the workspace is not trusted',
        problem: true,
        detail: 'MCP servers run commands; they start once this workspace is trusted.',
      };
  }
}
