/**
 * This workspace's memory as tools for other assistants. One declaration serves both front ends:
 * the MCP server (`memgpt mcp <folder>`, src/cli/commands/mcp.ts) and VS Code's Language Model
 * Tools (src/vscode/lmTools.ts, with `contributes.languageModelTools` in package.json kept equal
 * by a unit test). Each tool has a JSON-schema input, is checked before it runs, and returns text
 * for the model plus the same data as JSON.
 */
import type { ToolSchema } from '../interfaces/chatModel';
import type { ArchivalHit } from '../interfaces/archivalStore';
import type { RecallSearchResult } from '../interfaces/recallStore';
import type { FindSymbolResult } from '../interfaces/symbols';
import type { CoreMemoryBlockView } from '../runtime/runtimePort';
import { archivalHitText, recallRecordText, symbolDefinitionText } from '../functions/functionSet';
import { clipItem, pageHeader, pageOutOfRange } from '../functions/results';
import { validateArguments } from '../functions/validation';
import { messageText } from '../functions/messageText';
import {
  MEMORY_TOOL_DEFAULT_RESULTS,
  MEMORY_TOOL_NOTE_MAX_CHARS,
  MEMORY_TOOL_QUERY_MAX_CHARS,
  MEMORY_TOOL_RESULT_MAX_CHARS,
  SEARCH_MAX_RESULTS,
  SEARCH_PAGE_SIZE,
} from '../limits';
import { errorMessage } from '../base/errors';
import { MemgptError } from '../base/errors';

export type MemoryToolName =
  'archival_memory_search' | 'find_symbol' | 'conversation_search' | 'core_memory_read' | 'archival_memory_insert';

export interface MemoryToolDefinition {
  /** The MCP tool name (MCP clients add the server's name in front, e.g. `mcp__memgpt__conversation_search`). */
  name: MemoryToolName;
  /** The Language Model Tool name: VS Code's tool names are global, so ours carry the prefix. */
  lmToolName: `memgpt_${MemoryToolName}`;
  /** What a user types after `#` to attach the tool in VS Code's chat. */
  referenceName: string;
  /** Short human title (MCP `title`, VS Code `displayName`). */
  title: string;
  /** What the calling model reads to decide when to use the tool. */
  description: string;
  /** What a person reads in a tool picker. */
  userDescription: string;
  inputSchema: ToolSchema['function']['parameters'];
  /** True only for the tool that changes memory: it asks for confirmation in VS Code. */
  writes: boolean;
}

/** The memory a tool reads or changes: the window's runtime in VS Code, a freshly opened one in `memgpt mcp`. */
export interface MemoryToolsPort {
  /** Hybrid archival search, the same as `memgpt search` and the chat's archival_memory_search. */
  searchArchival(
    query: string,
    options: { limit: number; source?: 'workspace' | 'memory'; pathGlob?: string; signal?: AbortSignal },
  ): Promise<ArchivalHit[]>;
  /** Definitions of a code symbol in the indexed workspace, then its uses (the agent's find_symbol). */
  findSymbol(name: string): Promise<FindSymbolResult>;
  /** The active agent's recall search (newest first); null when the workspace has no agent yet. */
  searchConversation(query: string, page: number, pageSize: number): Promise<RecallSearchResult | null>;
  /** The active agent's core memory blocks; null when the workspace has no agent yet. */
  coreMemory(): Promise<{ agent: { id: string; name: string }; blocks: CoreMemoryBlockView[] } | null>;
  /** Stores a note in archival memory and returns its id; throws MemoryToolError 'read_only' when it cannot be written here. */
  rememberNote(text: string): Promise<string>;
}

export type MemoryToolErrorCode =
  /** The tool does not exist. */
  | 'unknown_tool'
  /** The arguments do not match the input schema (or a value is out of range). */
  | 'invalid_arguments'
  /** The memory is open read-only here (another window or process holds it). */
  | 'read_only'
  /** Anything else: storage unreadable, search failed. */
  | 'failed';

export class MemoryToolError extends MemgptError<MemoryToolErrorCode> {}

export interface MemoryToolResult {
  /** What the calling model reads. */
  text: string;
  /** The same data as JSON (MCP `structuredContent`). */
  structured: Record<string, unknown>;
}

const query = (what: string) => ({
  type: 'string' as const,
  description: `${what} (at most ${MEMORY_TOOL_QUERY_MAX_CHARS} characters).`,
});

export const MEMORY_TOOLS: readonly MemoryToolDefinition[] = [
  {
    name: 'archival_memory_search',
    lmToolName: 'memgpt_archival_memory_search',
    referenceName: 'memgptSearch',
    title: 'Search MemGPT archival memory',
    description:
      "Searches this workspace's MemGPT archival memory by meaning and words: the indexed workspace code (each hit labelled `path:start-end`) and the notes remembered earlier. Use it to find where something is in the codebase or what was decided before. Results are ranked best first; filter with `source` or a `path` glob.",
    userDescription: 'Search the indexed workspace code and remembered notes of MemGPT.',
    inputSchema: {
      type: 'object',
      properties: {
        query: query('What to look for, in words or identifiers'),
        k: {
          type: 'integer',
          minimum: 1,
          maximum: SEARCH_MAX_RESULTS,
          description: `Number of results (default ${MEMORY_TOOL_DEFAULT_RESULTS}).`,
        },
        source: {
          type: 'string',
          enum: ['workspace', 'memory'],
          description: 'Only indexed workspace code ("workspace") or only remembered notes ("memory"); both when omitted.',
        },
        path: { type: 'string', description: 'Only hits whose workspace-relative path matches this glob, e.g. "src/**/*.ts".' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    writes: false,
  },
  {
    name: 'find_symbol',
    lmToolName: 'memgpt_find_symbol',
    referenceName: 'memgptSymbol',
    title: 'Find a symbol in the MemGPT index',
    description:
      'Where a function, class, method or type of this workspace is defined (path:line, kind, enclosing scope, signature, doc comment), then where it is used, from the MemGPT index of the workspace. Name it as in the code: `LruCache` or `LruCache.get`.',
    userDescription: 'Find where a function, class or type is defined and used, from the MemGPT index.',
    inputSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'The identifier, e.g. parseConfig or Server.listen.' },
      },
      required: ['name'],
      additionalProperties: false,
    },
    writes: false,
  },
  {
    name: 'conversation_search',
    lmToolName: 'memgpt_conversation_search',
    referenceName: 'memgptConversations',
    title: 'Search MemGPT conversation history',
    description:
      'Searches everything the user and the MemGPT agent of this workspace ever said to each other (recall memory), including messages long out of the agent\'s view. Case-insensitive; every word must match; put a phrase in "quotes". Newest first, paged.',
    userDescription: 'Search past conversations with the MemGPT agent of this workspace.',
    inputSchema: {
      type: 'object',
      properties: {
        query: query('Words to find'),
        page: { type: 'integer', minimum: 0, description: `Page of results, ${SEARCH_PAGE_SIZE} per page, starting at 0 (default 0).` },
      },
      required: ['query'],
      additionalProperties: false,
    },
    writes: false,
  },
  {
    name: 'core_memory_read',
    lmToolName: 'memgpt_core_memory_read',
    referenceName: 'memgptCoreMemory',
    title: 'Read MemGPT core memory',
    description:
      "Reads the core memory of this workspace's MemGPT agent: short labelled blocks the agent keeps always in view, such as `human` (what it knows about the user), `persona` and `project`. Use it to learn the user's preferences and the project's conventions.",
    userDescription: 'Read the core memory blocks (human, persona, project) of the MemGPT agent.',
    inputSchema: {
      type: 'object',
      properties: {
        label: { type: 'string', description: 'Only this block, e.g. "human"; all blocks when omitted.' },
      },
      required: [],
      additionalProperties: false,
    },
    writes: false,
  },
  {
    name: 'archival_memory_insert',
    lmToolName: 'memgpt_archival_memory_insert',
    referenceName: 'memgptRemember',
    title: 'Remember a note in MemGPT',
    description:
      "Stores a note in this workspace's MemGPT archival memory, where archival_memory_search (and the MemGPT agent) find it later. Write self-contained text: it is read later without this conversation. Changes the memory.",
    userDescription: 'Remember a note in the archival memory of MemGPT.',
    inputSchema: {
      type: 'object',
      properties: {
        content: { type: 'string', description: `The note, self-contained (at most ${MEMORY_TOOL_NOTE_MAX_CHARS} characters).` },
      },
      required: ['content'],
      additionalProperties: false,
    },
    writes: true,
  },
];

/** The tool's entry under `contributes.languageModelTools` in package.json (compared there by a unit test). */
export function languageModelToolContribution(tool: MemoryToolDefinition): Record<string, unknown> {
  return {
    name: tool.lmToolName,
    displayName: tool.title,
    toolReferenceName: tool.referenceName,
    canBeReferencedInPrompt: true,
    icon: tool.writes ? '$(save)' : '$(search)',
    tags: ['memgpt', 'memory', ...(tool.writes ? [] : ['read-only'])],
    userDescription: tool.userDescription,
    modelDescription: tool.description,
    inputSchema: tool.inputSchema,
  };
}

export function memoryToolByName(name: string): MemoryToolDefinition | undefined {
  return MEMORY_TOOLS.find((t) => t.name === name || t.lmToolName === name);
}

/** Checks the arguments against the tool's schema; a failure says which argument and what was expected. */
export function checkMemoryToolArguments(tool: MemoryToolDefinition, raw: unknown): Record<string, unknown> {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new MemoryToolError(
      'invalid_arguments',
      `Invalid arguments for ${tool.name}: expected an object, got ${Array.isArray(raw) ? 'an array' : typeof raw}.`,
    );
  }
  const checked = validateArguments(
    { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } },
    (raw ?? {}) as Record<string, unknown>,
  );
  if (!checked.ok) throw new MemoryToolError('invalid_arguments', checked.error);
  // The shared validator tolerates the agent's own `request_heartbeat`; other assistants never send it.
  const { request_heartbeat: _ignored, ...args } = checked.args;
  return args;
}

function requiredText(tool: MemoryToolName, key: string, value: unknown, max: number): string {
  const text = typeof value === 'string' ? value.trim() : '';
  const wanted =
    key === 'content' ? 'text to remember' : key === 'name' ? 'identifier, e.g. parseConfig or Server.listen' : 'words to search for';
  if (text === '') throw new MemoryToolError('invalid_arguments', `Invalid arguments for ${tool}: "${key}" is empty. Give the ${wanted}.`);
  if (text.length > max) {
    throw new MemoryToolError(
      'invalid_arguments',
      `Invalid arguments for ${tool}: "${key}" has ${text.length} characters, more than ${max}. ${key === 'content' ? 'Split the note into several.' : 'Use a shorter query.'}`,
    );
  }
  return text;
}

export function archivalHitJson(hit: ArchivalHit, rank: number): Record<string, unknown> {
  return {
    rank,
    source: hit.source,
    path: hit.path ?? null,
    startLine: hit.startLine ?? null,
    endLine: hit.endLine ?? null,
    score: hit.score,
    id: hit.id,
    ...(hit.time ? { time: hit.time } : {}),
    text: hit.text,
  };
}

/** Each item gets its share of the result budget; a cut item says so. */
function itemsWithin(header: string, items: string[]): string {
  const perItem = Math.floor((MEMORY_TOOL_RESULT_MAX_CHARS - header.length) / Math.max(1, items.length));
  return [header, ...items.map((item) => clipItem(item, perItem))].join('\n');
}

const NO_AGENT =
  'This workspace has no MemGPT agent yet, so there is no conversation or core memory. It starts when someone chats with MemGPT here.';

/** Runs one tool. Throws MemoryToolError: 'unknown_tool' and 'invalid_arguments' before anything is read. */
export async function callMemoryTool(
  port: MemoryToolsPort,
  name: string,
  rawArgs: unknown,
  options: { signal?: AbortSignal } = {},
): Promise<MemoryToolResult> {
  const tool = memoryToolByName(name);
  if (!tool) throw new MemoryToolError('unknown_tool', `There is no tool "${name}". Tools: ${MEMORY_TOOLS.map((t) => t.name).join(', ')}.`);
  const args = checkMemoryToolArguments(tool, rawArgs);
  try {
    return await run(port, tool.name, args, options);
  } catch (error) {
    if (error instanceof MemoryToolError) throw error;
    throw new MemoryToolError('failed', `${tool.name} failed: ${errorMessage(error)}`);
  }
}

async function run(
  port: MemoryToolsPort,
  name: MemoryToolName,
  args: Record<string, unknown>,
  options: { signal?: AbortSignal },
): Promise<MemoryToolResult> {
  switch (name) {
    case 'archival_memory_search': {
      const q = requiredText(name, 'query', args.query, MEMORY_TOOL_QUERY_MAX_CHARS);
      const limit = typeof args.k === 'number' ? args.k : MEMORY_TOOL_DEFAULT_RESULTS;
      const source = args.source === 'workspace' || args.source === 'memory' ? args.source : undefined;
      const glob = typeof args.path === 'string' && args.path.trim() !== '' ? args.path.trim() : undefined;
      const hits = await port.searchArchival(q, {
        limit,
        ...(source ? { source } : {}),
        ...(glob ? { pathGlob: glob } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const structured = { query: q, results: hits.map((h, i) => archivalHitJson(h, i + 1)) };
      if (hits.length === 0) return { text: `No results for "${q}" in archival memory.`, structured };
      const items = hits.map((h, i) => `${i + 1}. (score ${h.score.toFixed(4)}) ${archivalHitText(h)}`);
      return { text: itemsWithin(`${hits.length} results for "${q}", best first:`, items), structured };
    }
    case 'find_symbol': {
      const symbol = requiredText(name, 'name', args.name, MEMORY_TOOL_QUERY_MAX_CHARS);
      const r = await port.findSymbol(symbol);
      const structured = { name: symbol, definitions: r.definitions, references: r.references, moreReferences: r.moreReferences };
      if (r.definitions.length === 0 && r.references.length === 0) {
        return {
          text: `No definition or use of ${symbol} is indexed. Check the spelling, try the bare name without its container, or use archival_memory_search.`,
          structured,
        };
      }
      const items = [
        ...(r.definitions.length > 0
          ? ['Definitions:', ...r.definitions.map((d) => `- ${symbolDefinitionText(d)}`)]
          : [`No definition of ${symbol} is indexed (it may come from a dependency).`]),
        ...(r.references.length > 0 ? ['References:', ...r.references.map((u) => `- ${u.path}:${u.line}`)] : []),
        ...(r.moreReferences > 0 ? [`[${r.moreReferences} more references not listed.]`] : []),
      ];
      return {
        text: itemsWithin(
          `${symbol}: ${r.definitions.length} definition(s), ${r.references.length + r.moreReferences} reference(s).`,
          items,
        ),
        structured,
      };
    }
    case 'conversation_search': {
      const q = requiredText(name, 'query', args.query, MEMORY_TOOL_QUERY_MAX_CHARS);
      const page = typeof args.page === 'number' ? args.page : 0;
      const result = await port.searchConversation(q, page, SEARCH_PAGE_SIZE);
      if (!result) return { text: NO_AGENT, structured: { query: q, page, total: 0, pageCount: 0, results: [] } };
      const structured = {
        query: q,
        page: result.page,
        total: result.total,
        pageCount: result.pageCount,
        ...(result.totalIsUpperBound ? { totalIsUpperBound: true } : {}),
        results: result.records.map((r) => ({
          time: r.time,
          kind: r.kind,
          role: r.message.role,
          text: messageText(r.message),
          // As in the record: a turn nobody asked for (a login greeting, a timer) answered no one.
          ...(r.automatic === true ? { automatic: true } : {}),
        })),
      };
      if (result.total === 0) return { text: `No past messages match "${q}".`, structured };
      if (result.records.length === 0)
        throw new MemoryToolError(
          'invalid_arguments',
          `Invalid arguments for ${name}: ${pageOutOfRange(page, result.total, result.pageCount)}`,
        );
      const items = result.records.map((r) => `- ${recallRecordText(r)}`);
      return {
        text: itemsWithin(pageHeader(result.records.length, result.total, result.page, result.pageCount, result.totalIsUpperBound), items),
        structured,
      };
    }
    case 'core_memory_read': {
      const memory = await port.coreMemory();
      if (!memory) return { text: NO_AGENT, structured: { agent: null, blocks: [] } };
      const wanted = typeof args.label === 'string' && args.label.trim() !== '' ? args.label.trim() : undefined;
      const blocks = wanted ? memory.blocks.filter((b) => b.label === wanted) : memory.blocks;
      if (wanted && blocks.length === 0) {
        throw new MemoryToolError(
          'invalid_arguments',
          `Invalid arguments for ${name}: there is no block "${wanted}". Blocks: ${memory.blocks.map((b) => b.label).join(', ')}.`,
        );
      }
      const structured = {
        agent: memory.agent,
        blocks: blocks.map((b) => ({ label: b.label, value: b.value, chars: Array.from(b.value).length, limit: b.limit })),
      };
      const items = blocks.map(
        (b) => `<${b.label} chars="${Array.from(b.value).length}/${b.limit}">\n${b.value === '' ? '(empty)' : b.value}\n</${b.label}>`,
      );
      return { text: itemsWithin(`Core memory of the agent "${memory.agent.name}":`, items), structured };
    }
    case 'archival_memory_insert': {
      const content = requiredText(name, 'content', args.content, MEMORY_TOOL_NOTE_MAX_CHARS);
      const id = await port.rememberNote(content);
      return { text: `Stored in archival memory (id ${id}). archival_memory_search finds it from now on.`, structured: { id } };
    }
  }
}
