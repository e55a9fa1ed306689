/**
 * One MCP server as the agent uses it, through the official SDK's client: started (a process over
 * stdio, or a streamable-HTTP connection), its tools listed, tools called, stopped. Every wait is
 * bounded (MCP_CONNECT_TIMEOUT_MS to start, MCP_CALL_TIMEOUT_MS per call, MCP_STOP_TIMEOUT_MS to
 * stop), and a server that exits or drops the connection is noticed at once: its state says so
 * (with the end of its stderr), and a call waiting on it fails instead of waiting.
 */
import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { MemgptError } from '../base/errors';
import { MCP_CALL_TIMEOUT_MS, MCP_CONNECT_TIMEOUT_MS, MCP_STDERR_TAIL_CHARS, MCP_STOP_TIMEOUT_MS } from '../limits';
import type { McpServerConfig } from './mcpServerConfig';
import { Emitter } from '../base/emitter';

export type McpServerState =
  | { kind: 'idle' }
  | { kind: 'starting' }
  | { kind: 'running'; tools: number }
  /** It could not be started (bad command, refused connection, no answer in time). */
  | { kind: 'failed'; message: string }
  /** It was running and stopped on its own (the process exited, the connection dropped). */
  | { kind: 'exited'; message: string }
  | { kind: 'stopped' };

export type McpCallErrorCode = 'not_running' | 'timeout' | 'closed' | 'aborted' | 'protocol';

export class McpCallError extends MemgptError<McpCallErrorCode> {}

export interface McpConnectionOptions {
  /** The environment a stdio server starts with, before the configuration's own `env` (secrets already removed). */
  baseEnv: Record<string, string>;
  clientVersion: string;
  connectTimeoutMs?: number;
  callTimeoutMs?: number;
}

const MAX_TOOL_PAGES = 20;

export class McpServerConnection {
  private client: Client | null = null;
  private transport: Transport | null = null;
  private currentState: McpServerState = { kind: 'idle' };
  private starting: Promise<void> | null = null;
  private stderrTail = '';
  private stopping = false;
  /** Ending a server that failed to start, still under way. */
  private closing: Promise<void> | null = null;
  private readonly stateChanges = new Emitter<McpServerState>();
  /** The tools the server listed when it started. */
  tools: Tool[] = [];

  constructor(
    readonly config: McpServerConfig,
    private readonly options: McpConnectionOptions,
  ) {}

  get state(): McpServerState {
    return this.currentState;
  }

  /** What the user reads about how it is started: the command line, or the URL. */
  get target(): string {
    return this.config.transport === 'stdio' ? [this.config.command, ...this.config.args].join(' ') : this.config.url;
  }

  onDidChange(listener: (state: McpServerState) => void): () => void {
    const subscription = this.stateChanges.on(listener);
    return () => subscription.dispose();
  }

  private setState(state: McpServerState): void {
    this.currentState = state;
    // A listener's failure is not the server's: the emitter ignores its throw.
    this.stateChanges.fire(state);
  }

  /** Starts the server and lists its tools; resolves when it runs or has failed (see `state`), never rejects. */
  start(): Promise<void> {
    if (this.currentState.kind === 'running') return Promise.resolve();
    this.starting ??= this.startOnce().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    this.stopping = false;
    this.stderrTail = '';
    this.setState({ kind: 'starting' });
    const timeoutMs = this.options.connectTimeoutMs ?? MCP_CONNECT_TIMEOUT_MS;
    const client = new Client({ name: 'memgpt-vscode', version: this.options.clientVersion }, { capabilities: {} });
    let transport: Transport;
    try {
      transport = this.makeTransport();
    } catch (error) {
      this.setState({ kind: 'failed', message: errorText(error) });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new McpCallError('timeout', `it did not finish starting within ${Math.round(timeoutMs / 1000)} s`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([
        (async () => {
          await client.connect(transport, { timeout: timeoutMs });
          this.tools = await listAllTools(client, timeoutMs);
        })(),
        deadline,
      ]);
    } catch (error) {
      clearTimeout(timer);
      // Said at once; the process is ended in the background (stop() waits for it).
      this.setState({ kind: 'failed', message: this.withStderr(this.startFailure(error)) });
      this.closing = closeQuietly(client, transport);
      return;
    }
    clearTimeout(timer);
    this.client = client;
    this.transport = transport;
    // Whatever ends the connection from now on (exit, crash, dropped connection) is noticed here.
    client.onclose = () => {
      if (this.client !== client) return;
      this.client = null;
      this.transport = null;
      if (!this.stopping)
        this.setState({
          kind: 'exited',
          message: this.withStderr(this.config.transport === 'stdio' ? 'the server process exited' : 'the connection was closed'),
        });
    };
    client.onerror = () => undefined;
    this.setState({ kind: 'running', tools: this.tools.length });
  }

  private makeTransport(): Transport {
    const c = this.config;
    if (c.transport === 'http') {
      return new StreamableHTTPClientTransport(new URL(c.url), { requestInit: { headers: c.headers } });
    }
    const transport = new StdioClientTransport({
      command: c.command,
      args: c.args,
      env: { ...this.options.baseEnv, ...c.env },
      cwd: c.cwd,
      stderr: 'pipe',
    });
    const stderr = transport.stderr as Readable | null;
    stderr?.setEncoding?.('utf8');
    stderr?.on('data', (chunk: string | Buffer) => {
      this.stderrTail = (this.stderrTail + String(chunk)).slice(-MCP_STDERR_TAIL_CHARS);
    });
    return transport;
  }

  private startFailure(error: unknown): string {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (this.config.transport === 'stdio' && code === 'ENOENT') {
      return `the command "${this.config.command}" was not found (is it installed and on PATH, or is "cwd" wrong?)`;
    }
    if (error instanceof McpCallError) return error.message;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) return `it did not answer the MCP handshake in time`;
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
      return this.config.transport === 'stdio' ? 'the server process exited while starting' : 'the connection was closed while starting';
    }
    const text = errorText(error);
    return this.config.transport === 'http' ? `${this.config.url} could not be reached: ${text}` : text;
  }

  private withStderr(text: string): string {
    const tail = this.stderrTail.trim();
    if (tail === '') return text;
    const lines = tail.split('\n').slice(-5).join('\n');
    return `${text}; its last output was:\n${lines}`;
  }

  /**
   * Calls one tool. Rejects with an McpCallError when the server is not running, does not answer
   * within the time-out, closes the connection, or the call is stopped; a tool that ran and failed
   * is a result with `isError`, not a rejection.
   */
  async callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const client = this.client;
    if (!client || this.currentState.kind !== 'running') throw new McpCallError('not_running', this.notRunningText());
    const timeoutMs = this.options.callTimeoutMs ?? MCP_CALL_TIMEOUT_MS;
    try {
      const result = await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs, ...(signal ? { signal } : {}) });
      return result as CallToolResult;
    } catch (error) {
      if (signal?.aborted) throw new McpCallError('aborted', 'the call was stopped by the user');
      if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
        throw new McpCallError('timeout', `the server did not answer within ${Math.round(timeoutMs / 1000)} s, so the call was cancelled`);
      }
      // The state may have changed while the call waited (the process exited under it).
      const now = this.state as McpServerState;
      if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) {
        throw new McpCallError('closed', now.kind === 'exited' ? now.message : 'the connection to the server closed during the call');
      }
      if (now.kind === 'exited') throw new McpCallError('closed', now.message);
      throw new McpCallError('protocol', errorText(error));
    }
  }

  private notRunningText(): string {
    const s = this.currentState;
    switch (s.kind) {
      case 'failed':
        return `it could not be started: ${s.message}`;
      case 'exited':
        return `it stopped: ${s.message}`;
      case 'starting':
        return 'it is still starting';
      case 'idle':
      case 'stopped':
        return 'it is not running';
      case 'running':
        return 'it is not connected';
    }
  }

  /** Stops the server (bounded: a process that ignores stdin closing and SIGTERM gets SIGKILL). Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    const transport = this.transport;
    this.client = null;
    this.transport = null;
    if (this.starting) await this.starting;
    if (client && transport) await closeQuietly(client, transport);
    if (this.closing) await this.closing;
    if (this.currentState.kind !== 'failed' && this.currentState.kind !== 'exited') this.setState({ kind: 'stopped' });
  }
}

async function listAllTools(client: Client, timeoutMs: number): Promise<Tool[]> {
  if (!client.getServerCapabilities()?.tools) return [];
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TOOL_PAGES; page++) {
    const result = await client.listTools(cursor ? { cursor } : undefined, { timeout: timeoutMs });
    tools.push(...result.tools);
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

async function closeQuietly(client: Client, transport: Transport): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, MCP_STOP_TIMEOUT_MS);
    timer.unref?.();
  });
  const close = (async () => {
    try {
      await client.close();
    } catch {
      // Closing a connection that is already gone is not an error worth reporting.
    }
    try {
      await transport.close();
    } catch {
      // Same.
    }
  })();
  await Promise.race([close, bound]);
  clearTimeout(timer);
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error && !error.message.includes(cause.message) ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
