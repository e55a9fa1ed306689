/**
 * Which MCP servers the agent may use, read from the two places a user configures them: the
 * workspace's `.vscode/mcp.json` (VS Code's own format, so servers set up once for Copilot Chat
 * work here too) and the `memgpt.mcpServers` setting (the same shape). Both hold a `servers` map
 * (the older `mcpServers` key is accepted too) of
 *   { "type": "stdio", "command": "...", "args": [...], "env": {...}, "cwd": "..." }
 *   { "type": "http", "url": "https://...", "headers": {...} }
 * A server MemGPT cannot start as written (an `${input:…}` it cannot ask for, an SSE-only server,
 * a missing command) is reported by name with what to change, and the others still start.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MCP_CONFIG_MAX_BYTES } from '../limits';

export type McpServerOrigin = 'workspace' | 'settings';

interface McpServerBase {
  /** The name the user gave it (the key of the `servers` map). */
  name: string;
  origin: McpServerOrigin;
  /** Where it was configured, for messages: ".vscode/mcp.json of app" or "memgpt.mcpServers". */
  source: string;
}

export type McpServerConfig =
  | (McpServerBase & {
      transport: 'stdio';
      command: string;
      args: string[];
      /** Variables the configuration sets, passed as given (on top of an environment without secrets). */
      env: Record<string, string>;
      /** Absolute folder the server starts in. */
      cwd: string;
    })
  | (McpServerBase & {
      transport: 'http';
      url: string;
      headers: Record<string, string>;
    });

export interface McpConfigProblem {
  /** The server's name, or '' for a problem with the whole file or setting. */
  server: string;
  source: string;
  message: string;
}

export interface McpServerConfigs {
  servers: McpServerConfig[];
  problems: McpConfigProblem[];
}

/** What `${workspaceFolder}` and relative paths mean for one configuration. */
export interface McpConfigContext {
  origin: McpServerOrigin;
  source: string;
  /** The folder the configuration belongs to (`${workspaceFolder}`, default cwd); absent: no folder. */
  folder?: string;
  /** For `${env:NAME}`; default the process environment. */
  env?: NodeJS.ProcessEnv;
}

/** Servers read from one file or setting at most: each may start a process. */
const MAX_SERVERS_PER_SOURCE = 50;

/** Parses one configuration object (the parsed mcp.json, or the setting's value). */
export function parseMcpServers(raw: unknown, ctx: McpConfigContext): McpServerConfigs {
  const problems: McpConfigProblem[] = [];
  const servers: McpServerConfig[] = [];
  const problem = (server: string, message: string): void => void problems.push({ server, source: ctx.source, message });
  if (raw === undefined || raw === null) return { servers, problems };
  if (!isRecord(raw)) {
    problem('', `${ctx.source} must be an object with a "servers" map; it is ${kindOf(raw)}. No server from it is started.`);
    return { servers, problems };
  }
  const map = raw.servers ?? raw.mcpServers;
  if (map === undefined) return { servers, problems };
  if (!isRecord(map)) {
    problem(
      '',
      `"servers" in ${ctx.source} must be an object mapping names to servers; it is ${kindOf(map)}. No server from it is started.`,
    );
    return { servers, problems };
  }
  const entries = Object.entries(map);
  if (entries.length > MAX_SERVERS_PER_SOURCE)
    problem('', `${ctx.source} lists ${entries.length} servers; only the first ${MAX_SERVERS_PER_SOURCE} are used.`);
  for (const [name, value] of entries.slice(0, MAX_SERVERS_PER_SOURCE)) {
    const parsed = parseServer(name, value, ctx);
    if ('error' in parsed) problem(name, parsed.error);
    else servers.push(parsed.server);
  }
  return { servers, problems };
}

function parseServer(name: string, value: unknown, ctx: McpConfigContext): { server: McpServerConfig } | { error: string } {
  const where = `MCP server "${name}" in ${ctx.source}`;
  if (name.trim() === '') return { error: `A server in ${ctx.source} has an empty name; give it one.` };
  if (!isRecord(value)) return { error: `${where} must be an object with "command" (stdio) or "url" (http); it is ${kindOf(value)}.` };
  if (value.disabled === true) return { error: `${where} is disabled ("disabled": true), so it is not started.` };
  const type = value.type ?? (typeof value.url === 'string' ? 'http' : 'stdio');
  const base = { name, origin: ctx.origin, source: ctx.source };
  try {
    switch (type) {
      case 'stdio': {
        const command = substitute(requireString(value.command, 'command', where), ctx);
        if (command.trim() === '') return { error: `${where} has an empty "command".` };
        const args = stringList(value.args, 'args', where).map((a) => substitute(a, ctx));
        const env = stringMap(value.env, 'env', where, ctx);
        if (value.envFile !== undefined)
          return { error: `${where} uses "envFile", which MemGPT does not read; put the variables in "env" instead.` };
        const cwdText = value.cwd === undefined ? undefined : substitute(requireString(value.cwd, 'cwd', where), ctx);
        const cwd = cwdText === undefined ? (ctx.folder ?? process.cwd()) : path.resolve(ctx.folder ?? process.cwd(), cwdText);
        return { server: { ...base, transport: 'stdio', command, args, env, cwd } };
      }
      case 'http':
      case 'streamableHttp':
      case 'streamable-http': {
        const url = substitute(requireString(value.url, 'url', where), ctx);
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          return { error: `${where} has "url" ${JSON.stringify(url)}, which is not a URL (e.g. http://127.0.0.1:3000/mcp).` };
        }
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
          return { error: `${where} has a ${parsed.protocol} URL; only http and https are supported.` };
        return { server: { ...base, transport: 'http', url: parsed.href, headers: stringMap(value.headers, 'headers', where, ctx) } };
      }
      case 'sse':
        return {
          error: `${where} is an SSE server ("type": "sse"); MemGPT speaks streamable HTTP ("type": "http") and stdio. Most servers offer streamable HTTP at the same address: try "type": "http".`,
        };
      default:
        return { error: `${where} has "type" ${JSON.stringify(type)}; use "stdio" (with "command") or "http" (with "url").` };
    }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and `${pathSeparator}` are filled in as VS
 * Code does; `${input:…}` asks the user in VS Code, which MemGPT cannot do, so it is refused.
 */
function substitute(text: string, ctx: McpConfigContext): string {
  return text.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
    if (inner === 'workspaceFolder' || inner === 'workspaceRoot') {
      if (!ctx.folder) throw new Error(`${whole} is used in ${ctx.source}, but no folder is open.`);
      return ctx.folder;
    }
    if (inner === 'workspaceFolderBasename') {
      if (!ctx.folder) throw new Error(`${whole} is used in ${ctx.source}, but no folder is open.`);
      return path.basename(ctx.folder);
    }
    if (inner === 'userHome') return os.homedir();
    if (inner === 'pathSeparator' || inner === '/') return path.sep;
    if (inner.startsWith('env:')) return (ctx.env ?? process.env)[inner.slice(4)] ?? '';
    if (inner.startsWith('input:')) {
      throw new Error(
        `${whole} in ${ctx.source} asks VS Code to prompt for a value, which MemGPT cannot do. Set the value in memgpt.mcpServers (or use \${env:NAME}) instead.`,
      );
    }
    throw new Error(
      `${whole} in ${ctx.source} is not a variable MemGPT knows (it fills in \${workspaceFolder}, \${userHome}, \${env:NAME}).`,
    );
  });
}

function requireString(value: unknown, key: string, where: string): string {
  if (typeof value !== 'string')
    throw new Error(`${where} needs "${key}" as a string${value === undefined ? '' : `; it is ${kindOf(value)}`}.`);
  return value;
}

function stringList(value: unknown, key: string, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new Error(`${where}: "${key}" must be a list of strings.`);
  return value as string[];
}

function stringMap(value: unknown, key: string, where: string, ctx: McpConfigContext): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new Error(`${where}: "${key}" must be an object of strings.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else if (typeof v === 'string') out[k] = substitute(v, ctx);
    else if (v !== null) throw new Error(`${where}: "${key}.${k}" must be a string.`);
  }
  return out;
}

/** `.vscode/mcp.json` of each folder, read as VS Code reads it (comments and trailing commas allowed). */
export async function readWorkspaceMcpConfig(folders: readonly { name: string; path: string }[]): Promise<McpServerConfigs> {
  const servers: McpServerConfig[] = [];
  const problems: McpConfigProblem[] = [];
  for (const folder of folders) {
    const file = path.join(folder.path, '.vscode', 'mcp.json');
    const source = folders.length > 1 ? `${folder.name}/.vscode/mcp.json` : '.vscode/mcp.json';
    let text: string;
    try {
      const stat = await fsp.stat(file);
      if (!stat.isFile()) continue;
      if (stat.size > MCP_CONFIG_MAX_BYTES) {
        problems.push({
          server: '',
          source,
          message: `${source} is ${stat.size} bytes, over the ${MCP_CONFIG_MAX_BYTES} MemGPT reads; no server from it is started.`,
        });
        continue;
      }
      text = await fsp.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      problems.push({ server: '', source, message: `${source} could not be read: ${(error as Error).message}` });
      continue;
    }
    let raw: unknown;
    try {
      raw = parseJsonc(text);
    } catch (error) {
      problems.push({
        server: '',
        source,
        message: `${source} is not valid JSON (${(error as Error).message}); no server from it is started.`,
      });
      continue;
    }
    const parsed = parseMcpServers(raw, { origin: 'workspace', source, folder: folder.path });
    servers.push(...parsed.servers);
    problems.push(...parsed.problems);
  }
  return { servers, problems };
}

/** Two configurations of one name: the workspace's wins (it is the more specific), and the user is told. */
export function mergeMcpConfigs(workspace: McpServerConfigs, settings: McpServerConfigs): McpServerConfigs {
  const servers = [...workspace.servers];
  const problems = [...workspace.problems, ...settings.problems];
  for (const s of settings.servers) {
    const clash = servers.find((w) => w.name === s.name);
    if (clash)
      problems.push({
        server: s.name,
        source: s.source,
        message: `MCP server "${s.name}" is configured in both ${clash.source} and ${s.source}; the one in ${clash.source} is used.`,
      });
    else servers.push(s);
  }
  return { servers, problems };
}

/** JSON with // and /* comments and trailing commas, as VS Code's configuration files allow. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  // Trailing commas: a comma followed only by space and a closing bracket, outside strings.
  let result = '';
  for (let k = 0; k < out.length; k++) {
    const c = out[k]!;
    if (c === '"') {
      let j = k + 1;
      while (j < out.length && out[j] !== '"') j += out[j] === '\\' ? 2 : 1;
      result += out.slice(k, j + 1);
      k = j;
      continue;
    }
    if (c === ',') {
      let j = k + 1;
      while (j < out.length && /\s/.test(out[j]!)) j++;
      if (out[j] === '}' || out[j] === ']') continue;
    }
    result += c;
  }
  return JSON.parse(result.replace(/^\uFEFF/, '')) as unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
