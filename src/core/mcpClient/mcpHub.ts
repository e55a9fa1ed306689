/**
 * The MCP servers of one workspace, as functions for its agent. It reads the configuration
 * (.vscode/mcp.json and memgpt.mcpServers), starts the servers when first asked (a turn, or the
 * window opening), offers their tools to the agent as `mcp__<server>__<tool>` functions, asks the
 * user before each call, and stops them on close. Nothing here blocks a turn for long: a turn
 * waits at most MCP_TURN_START_WAIT_MS for servers still starting, and each call at most
 * MCP_CALL_TIMEOUT_MS.
 *
 * Servers run commands and reach the network with the user's rights, so they start only in a
 * trusted workspace (a folder's mcp.json is the folder's, not the user's, choice), with an
 * environment stripped of secrets (commandEnvironment) plus the `env` the configuration names.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { commandEnvironment } from '../acting/commandEnvironment';
import type { ApprovalAnswer, ApprovalRequest, ApprovalRequester } from '../interfaces/approval';
import type { ToolSchema } from '../interfaces/chatModel';
import type { ExternalCallContext, ExternalCallOutcome, ExternalFunctions, ExternalTurnFunctions } from '../interfaces/externalFunctions';
import {
  ACTING_REASON_MAX_CHARS,
  MCP_APPROVAL_ARGUMENTS_CHARS,
  MCP_MAX_FUNCTIONS,
  MCP_MAX_RESTARTS,
  MCP_TURN_START_WAIT_MS,
} from '../limits';
import { processSecrets } from '../security/redact';
import { McpCallError, McpServerConnection, type McpServerState } from './mcpClient';
import { checkToolArguments, functionNameFor, functionSchemaFor, isMcpFunctionName, toolResultText } from './mcpFunctions';
import {
  mergeMcpConfigs,
  parseMcpServers,
  readWorkspaceMcpConfig,
  type McpConfigProblem,
  type McpServerConfig,
  type McpServerConfigs,
} from './mcpServerConfig';
import { Emitter } from '../base/emitter';

export interface McpHubOptions {
  folders: () => readonly { name: string; path: string }[];
  /** Workspace trust: no server starts in an untrusted workspace. */
  trusted: () => boolean;
  /** The memgpt.mcpServers value (the same shape as mcp.json), unparsed. */
  settingServers: () => unknown;
  /** Secret values (the model API key) kept out of the servers' environment. */
  secretValues?: () => readonly (string | undefined)[];
  /** Who approves when a turn brings no approver of its own (the chat card). */
  approver: () => ApprovalRequester | undefined;
  log: (level: 'info' | 'warn', message: string) => void;
  clientVersion?: string;
  /** Base environment of stdio servers (default process.env), before secrets are removed. */
  baseEnv?: NodeJS.ProcessEnv;
  /** For tests: shorter bounds than limits.ts. */
  timeouts?: { connectMs?: number; callMs?: number; turnWaitMs?: number };
}

/** What the user sees of one configured server (status, `memgpt mcp-servers`). */
export interface McpServerView {
  name: string;
  source: string;
  transport: 'stdio' | 'http';
  /** The command line or the URL. */
  target: string;
  state: McpServerState | { kind: 'untrusted' };
  /** Function names offered to the agent. */
  functions: string[];
  /** Tools the server lists that are not offered, and why. */
  skipped: string[];
}

interface Offered {
  functionName: string;
  server: McpServerConnection;
  tool: Tool;
  schema: ToolSchema;
}

export class McpHub implements ExternalFunctions {
  private configs: McpServerConfigs = { servers: [], problems: [] };
  private connections = new Map<string, McpServerConnection>();
  private restarts = new Map<string, number>();
  private offered = new Map<string, Offered>();
  private skipped = new Map<string, string[]>();
  /** "Always" answered for a tool in this session: `server\0tool`. */
  private readonly allowed = new Set<string>();
  /** Server states already told to the user, so each failure is said once. */
  private readonly told = new Map<string, string>();
  private loaded: Promise<void> | null = null;
  private started = false;
  private closed = false;
  private readonly changes = new Emitter<void>();

  constructor(private readonly options: McpHubOptions) {}

  onDidChange(listener: () => void): { dispose(): void } {
    return this.changes.on(listener);
  }

  private changed(): void {
    // A closed view must not break the servers: the emitter ignores its throw.
    this.changes.fire();
  }

  /** Problems with the configuration (a server that cannot be started as written). */
  get problems(): McpConfigProblem[] {
    return this.configs.problems;
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      const workspace = this.options.trusted() ? await readWorkspaceMcpConfig(this.options.folders()) : { servers: [], problems: [] };
      const folder = this.options.folders()[0]?.path;
      const settings = parseMcpServers(this.options.settingServers(), {
        origin: 'settings',
        source: 'memgpt.mcpServers',
        ...(folder ? { folder } : {}),
      });
      this.configs = mergeMcpConfigs(workspace, settings);
      for (const p of this.configs.problems) this.options.log('warn', p.message);
      if (!this.options.trusted() && this.configs.servers.length > 0) {
        this.options.log('info', 'MCP servers are not started: this workspace is not trusted (they run commands). Trust it to use them.');
      }
    })();
    return this.loaded;
  }

  /** Reads the configuration and starts every server (in the background for a caller that does not wait). */
  async start(): Promise<void> {
    if (this.closed) return;
    await this.load();
    this.started = true;
    if (!this.options.trusted()) {
      this.changed();
      return;
    }
    const baseEnv = commandEnvironment(this.options.baseEnv ?? process.env, [
      ...(this.options.secretValues?.() ?? []),
      ...processSecrets(),
    ]).env;
    const starts: Promise<void>[] = [];
    for (const config of this.configs.servers) {
      let conn = this.connections.get(config.name);
      if (!conn) {
        conn = new McpServerConnection(config, {
          baseEnv,
          clientVersion: this.options.clientVersion ?? '0.0.0',
          ...(this.options.timeouts?.connectMs ? { connectTimeoutMs: this.options.timeouts.connectMs } : {}),
          ...(this.options.timeouts?.callMs ? { callTimeoutMs: this.options.timeouts.callMs } : {}),
        });
        this.connections.set(config.name, conn);
        conn.onDidChange((state) => this.onServerState(config, state));
      }
      if (conn.state.kind === 'idle') starts.push(conn.start());
    }
    this.changed();
    await Promise.all(starts);
  }

  private onServerState(config: McpServerConfig, state: McpServerState): void {
    if (state.kind === 'running')
      this.options.log('info', `MCP server "${config.name}" (${config.source}) is running with ${state.tools} tool(s).`);
    if (state.kind === 'failed')
      this.options.log('warn', `MCP server "${config.name}" (${config.source}) could not be started: ${state.message}`);
    if (state.kind === 'exited') this.options.log('warn', `MCP server "${config.name}" (${config.source}) stopped: ${state.message}`);
    this.changed();
  }

  /** Settings or trust changed: every server is stopped, and started again from the new configuration if they were running. */
  async reload(): Promise<void> {
    const wasStarted = this.started;
    await this.stopAll();
    this.loaded = null;
    this.started = false;
    this.told.clear();
    this.restarts.clear();
    this.changed();
    if (wasStarted && !this.closed) void this.start();
  }

  private async stopAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections = new Map();
    this.offered = new Map();
    await Promise.all(all.map((c) => c.stop()));
  }

  /** What the user sees: each configured server, its state and its functions. */
  servers(): McpServerView[] {
    const byServer = new Map<string, string[]>();
    for (const o of this.offered.values())
      byServer.set(o.server.config.name, [...(byServer.get(o.server.config.name) ?? []), o.functionName]);
    return this.configs.servers.map((config) => {
      const conn = this.connections.get(config.name);
      const target = config.transport === 'stdio' ? [config.command, ...config.args].join(' ') : config.url;
      return {
        name: config.name,
        source: config.source,
        transport: config.transport,
        target,
        state: !this.options.trusted() ? { kind: 'untrusted' } : (conn?.state ?? { kind: 'idle' }),
        functions: conn?.state.kind === 'running' ? (byServer.get(config.name) ?? this.functionNamesOf(conn)) : [],
        skipped: this.skipped.get(config.name) ?? [],
      };
    });
  }

  private functionNamesOf(conn: McpServerConnection): string[] {
    this.rebuildOffered();
    return [...this.offered.values()].filter((o) => o.server === conn).map((o) => o.functionName);
  }

  // ─── ExternalFunctions ──────────────────────────────────────────────────────

  async prepareTurn(signal?: AbortSignal): Promise<ExternalTurnFunctions> {
    if (this.closed) return { schemas: [], notices: [] };
    if (!this.options.trusted()) {
      // Read (the setting only) so the user can see what would run once the workspace is trusted.
      await this.load().catch(() => undefined);
      return { schemas: [], notices: [] };
    }
    const notices: string[] = [];
    try {
      if (!this.started) void this.start();
      await this.load();
      await Promise.resolve();
      // Said before it is started again, or the user would never hear that it stopped.
      notices.push(...this.tellStates(true));
      // A server that stopped on its own gets a few more chances, one per turn.
      for (const conn of this.connections.values()) {
        const n = this.restarts.get(conn.config.name) ?? 0;
        if (conn.state.kind === 'exited' && n < MCP_MAX_RESTARTS) {
          this.restarts.set(conn.config.name, n + 1);
          void conn.start();
        }
      }
      await this.waitForStarting(signal);
    } catch (error) {
      this.options.log('warn', `MCP servers could not be prepared: ${error instanceof Error ? error.message : String(error)}`);
    }
    notices.push(...this.tellStates(false));
    const capped = this.rebuildOffered();
    if (capped > 0)
      notices.push(
        `${capped} MCP tool(s) are not offered to the agent: at most ${MCP_MAX_FUNCTIONS} are, to keep room in the context window.`,
      );
    return { schemas: [...this.offered.values()].map((o) => o.schema), notices };
  }

  private async waitForStarting(signal?: AbortSignal): Promise<void> {
    const pending = [...this.connections.values()].filter((c) => c.state.kind === 'starting' || c.state.kind === 'idle');
    if (pending.length === 0) return;
    const waitMs = this.options.timeouts?.turnWaitMs ?? MCP_TURN_START_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(pending.map((c) => c.start())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      }),
    ]);
    clearTimeout(timer);
  }

  /** Each server that is still starting, could not start or stopped, said once per state. */
  private tellStates(endedOnly: boolean): string[] {
    const notices: string[] = [];
    for (const conn of this.connections.values()) {
      const s = conn.state;
      if (endedOnly && s.kind !== 'failed' && s.kind !== 'exited') continue;
      const name = conn.config.name;
      let text: string | undefined;
      if (s.kind === 'starting') text = `MCP server "${name}" is still starting; its tools are offered from the next message.`;
      else if (s.kind === 'failed') text = `MCP server "${name}" could not be started: ${s.message}`;
      else if (s.kind === 'exited')
        text = `MCP server "${name}" stopped: ${s.message}${(this.restarts.get(name) ?? 0) >= MCP_MAX_RESTARTS ? ' It is not started again in this session; reload the window after fixing it.' : ''}`;
      const key = text === undefined ? s.kind : `${s.kind}:${text}`;
      if (text !== undefined && this.told.get(name) !== key) notices.push(text);
      this.told.set(name, key);
    }
    return notices;
  }

  /** The functions of the running servers, in configuration order; returns how many tools the cap left out. */
  private rebuildOffered(): number {
    const offered = new Map<string, Offered>();
    const taken = new Set<string>();
    let capped = 0;
    this.skipped = new Map();
    for (const config of this.configs.servers) {
      const conn = this.connections.get(config.name);
      if (!conn || conn.state.kind !== 'running') continue;
      const skipped: string[] = [];
      for (const tool of conn.tools) {
        if (offered.size >= MCP_MAX_FUNCTIONS) {
          capped++;
          skipped.push(`${tool.name} (over the limit of ${MCP_MAX_FUNCTIONS} MCP functions)`);
          continue;
        }
        const functionName = functionNameFor(config.name, tool.name, taken);
        const schema = functionSchemaFor(functionName, config.name, tool);
        if (!schema.ok) {
          skipped.push(`${tool.name} (${schema.reason})`);
          continue;
        }
        taken.add(functionName);
        offered.set(functionName, { functionName, server: conn, tool, schema: schema.schema });
      }
      if (skipped.length > 0) this.skipped.set(config.name, skipped);
    }
    this.offered = offered;
    return capped;
  }

  owns(name: string): boolean {
    return isMcpFunctionName(name);
  }

  async call(name: string, args: Record<string, unknown>, ctx: ExternalCallContext): Promise<ExternalCallOutcome> {
    const entry = this.offered.get(name);
    if (!entry) return { status: 'Failed', message: this.unknownText(name) };
    const { server, tool } = entry;
    const serverName = server.config.name;
    const checked = checkToolArguments(name, tool, args);
    if (!checked.ok) return { status: 'Failed', message: checked.error };
    const key = `${serverName}\u0000${tool.name}`;
    let how = 'approved by the user';
    if (this.allowed.has(key)) {
      how = 'allowed for this session by the user';
    } else {
      const approver = ctx.approver ?? this.options.approver();
      if (!approver)
        return {
          status: 'Failed',
          message: `${name} was not run: no one was there to approve it (nothing asks the user in this session).`,
        };
      const shown = JSON.stringify(checked.args, null, 2);
      const request: ApprovalRequest = {
        kind: 'tool',
        callId: ctx.callId,
        functionName: name,
        server: serverName,
        tool: tool.name,
        source: server.config.source,
        arguments: shown.length > MCP_APPROVAL_ARGUMENTS_CHARS ? `${shown.slice(0, MCP_APPROVAL_ARGUMENTS_CHARS)}\n…` : shown,
        argumentsCut: shown.length > MCP_APPROVAL_ARGUMENTS_CHARS,
        readOnlyHint: tool.annotations?.readOnlyHint === true,
      };
      let answer: ApprovalAnswer;
      try {
        if (ctx.signal?.aborted) throw new Error('stopped');
        answer = await approver.request(request, ctx.signal ?? new AbortController().signal);
      } catch {
        return { status: 'Failed', message: `${name} was stopped by the user before it was approved; it was not run.` };
      }
      if (answer.decision === 'reject') {
        const reason = answer.reason?.trim().slice(0, ACTING_REASON_MAX_CHARS);
        const why = reason ? `: ${reason}` : ' (no reason given)';
        return {
          status: 'Failed',
          message: `The call of tool "${tool.name}" (MCP server "${serverName}") was not approved — the user declined${why}. It was not run. Do not try the same thing again unasked; ask the user what they want instead.`,
        };
      }
      if (answer.decision === 'always') {
        this.allowed.add(key);
        how = 'approved by the user, and allowed for the rest of this session';
      }
    }
    try {
      const result = await server.callTool(tool.name, checked.args, ctx.signal);
      const text = toolResultText(result);
      if (result.isError)
        return { status: 'Failed', message: `Tool "${tool.name}" of MCP server "${serverName}" (${how}) reported an error:\n${text}` };
      return { status: 'OK', message: `Tool "${tool.name}" of MCP server "${serverName}" (${how}) returned:\n${text}` };
    } catch (error) {
      const e =
        error instanceof McpCallError ? error : new McpCallError('protocol', error instanceof Error ? error.message : String(error));
      const text = `Tool "${tool.name}" of MCP server "${serverName}" failed: ${e.message}.`;
      if (e.code !== 'aborted') this.options.log('warn', text);
      switch (e.code) {
        case 'aborted':
          return { status: 'Failed', message: `${name} was stopped by the user; its result, if any, is lost.` };
        case 'timeout':
          return { status: 'Failed', message: `${text} Go on without it, or tell the user the server seems stuck.` };
        case 'closed':
        case 'not_running':
          return {
            status: 'Failed',
            message: `${text} Its tools are not available until it is running again; tell the user if you need it.`,
          };
        case 'protocol':
          return { status: 'Failed', message: text };
      }
    }
  }

  private unknownText(name: string): string {
    for (const conn of this.connections.values()) {
      if (conn.state.kind !== 'running' && name.startsWith(functionNameFor(conn.config.name, '', new Set()).replace(/x$/, ''))) {
        const s = conn.state;
        const why =
          s.kind === 'failed' ? `could not be started (${s.message})` : s.kind === 'exited' ? `stopped (${s.message})` : 'is not running';
        return `${name} is not available: its MCP server "${conn.config.name}" ${why}. Go on without it, or tell the user.`;
      }
    }
    return `No MCP function named "${name}" is available now. Use only the functions you were given in this turn.`;
  }

  /** Stops every server. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopAll();
  }
}
