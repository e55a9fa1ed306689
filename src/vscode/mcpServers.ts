/**
 * The MCP servers the agent may call, in VS Code: started when the window opens (in the
 * background, so activation never waits for them), restarted when .vscode/mcp.json changes,
 * stopped with the window. "MemGPT: Show MCP Servers" lists each with its state and functions; a
 * server that cannot start or stops on its own is reported once with a way to see why.
 */
import * as vscode from 'vscode';
import type { McpHub, McpServerView } from '../core/mcpClient/mcpHub';
import { mcpServerStatus } from '../core/mcpClient/mcpServerStatus';
import { COMMANDS } from './commandIds';

type Provide = (id: string, handler: (...args: unknown[]) => unknown) => vscode.Disposable;

export function registerMcpServers(
  hub: McpHub,
  options: { log: vscode.LogOutputChannel; provide: Provide; startNow: boolean },
): vscode.Disposable[] {
  const { log } = options;
  if (options.startNow) void hub.start().catch((error: unknown) => log.warn(`MCP servers could not be started: ${String(error)}`));
  const watcher = vscode.workspace.createFileSystemWatcher('**/.vscode/mcp.json');
  const reload = (): void => void hub.reload().catch((error: unknown) => log.warn(`MCP servers could not be restarted: ${String(error)}`));
  // Each failure is shown once: a toast per state change would repeat for a server that keeps failing.
  const shown = new Map<string, string>();
  const onChange = hub.onDidChange(() => {
    for (const view of hub.servers()) {
      const status = mcpServerStatus(view);
      const key = `${view.state.kind}:${status.detail ?? ''}`;
      if (shown.get(view.name) === key) continue;
      shown.set(view.name, key);
      if (!status.problem || view.state.kind === 'untrusted') continue;
      void vscode.window
        .showWarningMessage(`MemGPT: MCP server "${view.name}" ${status.label}: ${firstLine(status.detail ?? '')}`, 'Show MCP Servers')
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand(COMMANDS.showMcpServers);
        });
    }
  });
  return [
    watcher,
    watcher.onDidChange(reload),
    watcher.onDidCreate(reload),
    watcher.onDidDelete(reload),
    onChange,
    options.provide(COMMANDS.showMcpServers, (arg: unknown) => showMcpServers(hub, arg as { pick?: boolean } | undefined)),
  ];
}

interface ServerItem extends vscode.QuickPickItem {
  action?: 'restart' | 'settings' | 'file';
}

/** Lists the servers (and returns them, for programs and tests; `{ pick: false }` skips the list). */
async function showMcpServers(hub: McpHub, arg?: { pick?: boolean }): Promise<McpServerView[]> {
  await hub.start();
  const views = hub.servers();
  if (arg?.pick === false) return views;
  const items: ServerItem[] = views.map((v) => {
    const status = mcpServerStatus(v);
    return {
      label: `$(${status.problem ? 'warning' : v.state.kind === 'running' ? 'pass' : 'circle-outline'}) ${v.name}`,
      description: `${status.label} · ${v.source}`,
      detail: [v.target, status.detail ? firstLine(status.detail) : '', v.functions.length > 0 ? v.functions.join(', ') : '']
        .filter((t) => t !== '')
        .join(' — '),
    };
  });
  for (const p of hub.problems) items.push({ label: `$(error) ${p.server || p.source}`, description: 'not started', detail: p.message });
  if (items.length === 0)
    items.push({ label: 'No MCP servers are configured', detail: 'Add them to .vscode/mcp.json or the memgpt.mcpServers setting.' });
  items.push({ label: '', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(debug-restart) Restart MCP Servers', action: 'restart' });
  items.push({ label: '$(json) Open .vscode/mcp.json', action: 'file' });
  items.push({ label: '$(settings-gear) Open Setting memgpt.mcpServers', action: 'settings' });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'MemGPT: MCP servers the agent may call (each call asks you first)',
    matchOnDetail: true,
  });
  switch (picked?.action) {
    case 'restart':
      await hub.reload();
      await hub.start();
      break;
    case 'settings':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'memgpt.mcpServers');
      break;
    case 'file': {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (folder)
        await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, '.vscode', 'mcp.json')).then(undefined, () => undefined);
      break;
    }
    case undefined:
      break;
  }
  return views;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
