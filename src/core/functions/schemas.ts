import type { JsonSchema, ToolSchema } from '../interfaces/chatModel';
import {
  COMMAND_DEFAULT_TIMEOUT_S,
  COMMAND_MAX_TIMEOUT_S,
  CORE_MEMORY_MAX_BLOCK_LIMIT_CHARS,
  CORE_MEMORY_MIN_BLOCK_LIMIT_CHARS,
  READ_FILE_PAGE_LINES,
} from '../limits';
import { RECALL_INCLUDE_OPTIONS } from '../memory/recallText';

/**
 * The functions the model can call, with the descriptions it learns the
 * system from. Two wordings: full, and compact for tiny context windows where
 * every schema token counts (COMPACT_PROMPT_MAX_WINDOW_TOKENS). The names and
 * parameters are MemGPT's; the workspace functions are our read-only additions.
 */

export type FunctionName =
  | 'send_message'
  | 'pause_heartbeats'
  | 'core_memory_append'
  | 'core_memory_replace'
  | 'core_memory_block'
  | 'conversation_search'
  | 'conversation_search_date'
  | 'archival_memory_insert'
  | 'archival_memory_search'
  | 'read_file'
  | 'list_files'
  | 'search_text'
  | 'find_symbol'
  | 'file_outline'
  | 'edit_file'
  | 'write_file'
  | 'run_command';

export const MEMORY_FUNCTION_NAMES: readonly FunctionName[] = [
  'send_message',
  'pause_heartbeats',
  'core_memory_append',
  'core_memory_replace',
  'core_memory_block',
  'conversation_search',
  'conversation_search_date',
  'archival_memory_insert',
  'archival_memory_search',
];
/** Functions that add, rename or remove core memory blocks: offered above the compact window size only. */
export const BLOCK_SHAPING_FUNCTION_NAMES: readonly FunctionName[] = ['core_memory_block'];
export const WORKSPACE_FUNCTION_NAMES: readonly FunctionName[] = ['read_file', 'list_files', 'search_text', 'find_symbol', 'file_outline'];
/** Functions that change files or run commands: trusted workspaces only, each approved by the user. */
export const ACTING_FUNCTION_NAMES: readonly FunctionName[] = ['edit_file', 'write_file', 'run_command'];
/** Results of these are paged lists: each item is clipped, the whole is never cut blindly. */
export const SEARCH_FUNCTION_NAMES: ReadonlySet<FunctionName> = new Set([
  'conversation_search',
  'conversation_search_date',
  'archival_memory_search',
  'list_files',
  'search_text',
  'find_symbol',
  'file_outline',
]);

interface ParamSpec {
  schema: JsonSchema;
  required?: boolean;
  /** Shorter description for compact schemas (omitted there when absent). */
  brief?: string;
}

interface FunctionSpec {
  description: string;
  brief: string;
  params: Record<string, ParamSpec>;
  heartbeat: boolean;
}

const HEARTBEAT: ParamSpec = {
  schema: {
    type: 'boolean',
    description:
      'true to be called again right after this function returns (to read the result and continue, e.g. then call send_message); false or omitted ends your turn.',
  },
  // No brief: the compact instructions explain heartbeats once instead of in every schema.
};

const PAGE = (what: string): ParamSpec => ({
  schema: {
    type: 'integer',
    minimum: 0,
    description: `Page of ${what} to show, starting at 0 (default 0). Ask for the next page to see more.`,
  },
});

const LABEL: ParamSpec = {
  schema: {
    type: 'string',
    description: 'Memory block to edit: "persona" (yourself), "human" (the user), "project" (this codebase), or a block you created.',
  },
  required: true,
  brief: 'block label',
};

const SPECS: Record<FunctionName, FunctionSpec> = {
  send_message: {
    description:
      'Sends a message to the user. This is the ONLY way the user sees anything from you: your plain replies are private thoughts. Markdown is rendered; cite code as `path:start-end`.',
    brief: 'Send a message to the user (the only thing they see).',
    params: {
      message: { schema: { type: 'string', description: 'The message, in Markdown.' }, required: true, brief: 'Markdown text' },
    },
    heartbeat: false,
  },
  pause_heartbeats: {
    description:
      'Ignores automatic timer heartbeats for a while (they wake you up without a user message). Use when there is nothing to do on your own.',
    brief: 'Ignore timer heartbeats for some minutes.',
    params: {
      minutes: { schema: { type: 'integer', minimum: 1, maximum: 360, description: 'How many minutes to pause (1-360).' }, required: true },
    },
    heartbeat: false,
  },
  core_memory_append: {
    description:
      'Adds a line to a core memory block. Core memory is always in view and limited in size: keep only what you need in every conversation (facts about the user, key facts about the project).',
    brief: 'Add a line to a core memory block.',
    params: {
      label: LABEL,
      content: { schema: { type: 'string', description: 'Text to add. Be concise.' }, required: true },
    },
    heartbeat: true,
  },
  core_memory_replace: {
    description:
      'Replaces text in a core memory block: old_content becomes new_content. Use an empty new_content to delete. old_content must be copied exactly from the block and occur once, unless replace_all is true.',
    brief: 'Replace exact text in a core memory block (empty new_content deletes).',
    params: {
      label: LABEL,
      old_content: { schema: { type: 'string', description: 'Exact text currently in the block (not empty).' }, required: true },
      new_content: { schema: { type: 'string', description: 'Replacement text; empty to delete old_content.' }, required: true },
      replace_all: {
        schema: { type: 'boolean', description: 'Replace every occurrence of old_content (default false: it must occur once).' },
      },
    },
    heartbeat: true,
  },
  core_memory_block: {
    description:
      'Creates a core memory block (scope "agent": yours; "workspace": this workspace\'s agents; "user": every workspace), renames, updates or deletes one you created. All limits share one budget.',
    brief: 'Create, rename, update or delete a core memory block.',
    params: {
      action: { schema: { type: 'string', enum: ['create', 'rename', 'update', 'delete'] }, required: true },
      label: { schema: { type: 'string', description: 'Block label, e.g. coding_style.' }, required: true, brief: 'block label' },
      new_label: { schema: { type: 'string' } },
      description: { schema: { type: 'string', description: 'What belongs in the block.' } },
      limit: {
        schema: {
          type: 'integer',
          minimum: CORE_MEMORY_MIN_BLOCK_LIMIT_CHARS,
          maximum: CORE_MEMORY_MAX_BLOCK_LIMIT_CHARS,
          description: 'Characters.',
        },
      },
      scope: { schema: { type: 'string', enum: ['agent', 'workspace', 'user'] } },
    },
    heartbeat: true,
  },
  conversation_search: {
    description:
      'Searches what you and the user said (recall memory) that is no longer in view, most relevant first (newer first among equals); repeats are shown once. Case-insensitive; every word must match; "quotes" for a phrase.',
    brief: 'Search past conversation (recall memory).',
    params: {
      query: { schema: { type: 'string', description: 'Words to find.' }, required: true },
      page: PAGE('results'),
      include: {
        schema: {
          type: 'array',
          items: { type: 'string', enum: RECALL_INCLUDE_OPTIONS },
          description: 'Also search these (default: messages only).',
        },
        brief: 'also search these',
      },
    },
    heartbeat: true,
  },
  conversation_search_date: {
    description: 'Lists past messages in a date range (recall memory), oldest first. Dates are YYYY-MM-DD (inclusive) or full ISO times.',
    brief: 'Past messages between two dates (YYYY-MM-DD).',
    params: {
      start_date: { schema: { type: 'string', description: 'First day, YYYY-MM-DD.' }, required: true },
      end_date: { schema: { type: 'string', description: 'Last day, YYYY-MM-DD (inclusive).' }, required: true },
      page: PAGE('results'),
    },
    heartbeat: true,
  },
  archival_memory_insert: {
    description:
      'Stores a memory in archival memory, an unlimited store searched by meaning. Use it for anything worth keeping that does not belong in core memory. Write self-contained text: it is read later without this conversation.',
    brief: 'Store a memory in archival memory.',
    params: {
      content: { schema: { type: 'string', description: 'What to remember, self-contained.' }, required: true },
    },
    heartbeat: true,
  },
  archival_memory_search: {
    description:
      'Searches archival memory by meaning and words: the indexed workspace code (labelled with `path:start-end`) and the memories you stored. Use it to find where things are in the codebase.',
    brief: 'Search archival memory: workspace code and stored memories.',
    params: {
      query: { schema: { type: 'string', description: 'What to look for, in words or identifiers.' }, required: true },
      page: PAGE('results'),
    },
    heartbeat: true,
  },
  read_file: {
    description: `Reads lines of a workspace file (read-only), numbered. Up to ${READ_FILE_PAGE_LINES} lines per call; the result says how to read on. Paths are relative to the workspace.`,
    brief: 'Read lines of a workspace file.',
    params: {
      path: {
        schema: { type: 'string', description: 'Workspace-relative path, e.g. src/app.ts.' },
        required: true,
        brief: 'relative path',
      },
      start_line: {
        schema: { type: 'integer', minimum: 1, description: 'First line (1-based, default 1).' },
        brief: 'from line (1-based)',
      },
      end_line: { schema: { type: 'integer', minimum: 1, description: 'Last line, inclusive (default: one page).' }, brief: 'to line' },
    },
    heartbeat: true,
  },
  list_files: {
    description: 'Lists workspace files (read-only), sorted, ignored files left out. Optionally filtered by a glob such as `src/**/*.ts`.',
    brief: 'List workspace files, optionally by glob.',
    params: {
      glob: { schema: { type: 'string', description: 'Glob over workspace-relative paths (default: all files).' }, brief: 'glob' },
      page: PAGE('files'),
    },
    heartbeat: true,
  },
  search_text: {
    description:
      'Finds lines containing text in workspace files (read-only): case-insensitive literal text, or a /regular expression/. Results are `path:line: text`.',
    brief: 'Find text (or /regex/) in workspace files.',
    params: {
      query: {
        schema: { type: 'string', description: 'Literal text, or /regex/ with optional flags.' },
        required: true,
        brief: 'text or /regex/',
      },
      glob: { schema: { type: 'string', description: 'Only files matching this glob, e.g. `**/*.py`.' }, brief: 'glob' },
      page: PAGE('matches'),
    },
    heartbeat: true,
  },
  find_symbol: {
    description:
      'Where a function, class, method or type is defined (path:line, scope, signature, doc), then where it is used. Name as in the code: `LruCache` or `LruCache.get`.',
    brief: 'Where a symbol is defined, then used.',
    params: {
      name: { schema: { type: 'string', description: 'Identifier, e.g. Server.listen.' }, required: true, brief: 'identifier' },
    },
    heartbeat: true,
  },
  file_outline: {
    description: 'What a code file defines (classes, functions, methods, types), with lines and signatures.',
    brief: 'What a code file defines, with lines.',
    params: {
      path: { schema: { type: 'string', description: 'Workspace-relative path.' }, required: true, brief: 'relative path' },
    },
    heartbeat: true,
  },
  edit_file: {
    description:
      'Changes a workspace file by exact replacement: old_string (copied exactly from read_file, indentation included, without line numbers) becomes new_string. ' +
      'old_string must occur exactly once unless replace_all is true; otherwise nothing is written and the result says why. The user sees the diff and approves or declines it.',
    brief: 'Replace exact text in a file (the user approves).',
    params: {
      path: {
        schema: { type: 'string', description: 'Workspace-relative path, e.g. src/app.ts.' },
        required: true,
        brief: 'relative path',
      },
      old_string: {
        schema: { type: 'string', description: 'The exact text to replace (unique in the file unless replace_all).' },
        required: true,
        brief: 'exact current text',
      },
      new_string: { schema: { type: 'string', description: 'The text to put in its place.' }, required: true, brief: 'new text' },
      replace_all: {
        schema: { type: 'boolean', description: 'Replace every occurrence of old_string (default false).' },
        brief: 'every occurrence',
      },
    },
    heartbeat: true,
  },
  write_file: {
    description:
      'Creates a workspace file, or overwrites one, with the whole content given. Prefer edit_file for changing part of a file. The user sees the diff and approves or declines it.',
    brief: 'Create or overwrite a file (the user approves).',
    params: {
      path: {
        schema: { type: 'string', description: 'Workspace-relative path, e.g. src/new.ts.' },
        required: true,
        brief: 'relative path',
      },
      content: { schema: { type: 'string', description: 'The whole new content of the file.' }, required: true, brief: 'whole content' },
    },
    heartbeat: true,
  },
  run_command: {
    description:
      `Runs one shell command in the workspace folder (or cwd inside it) without a terminal: no input, no secrets in its environment. ` +
      `The result has the exit code and the start and end of the output. Killed after timeout_seconds (default ${COMMAND_DEFAULT_TIMEOUT_S}, at most ${COMMAND_MAX_TIMEOUT_S}). The user approves it first.`,
    brief: 'Run a shell command in the workspace (the user approves).',
    params: {
      command: { schema: { type: 'string', description: 'The shell command, e.g. "npm test".' }, required: true, brief: 'shell command' },
      cwd: {
        schema: { type: 'string', description: 'Folder to run in, workspace-relative (default the workspace folder).' },
        brief: 'folder',
      },
      timeout_seconds: {
        schema: { type: 'number', minimum: 1, maximum: COMMAND_MAX_TIMEOUT_S, description: 'Seconds before the command is killed.' },
        brief: 'seconds',
      },
    },
    heartbeat: true,
  },
};

function buildSchema(name: FunctionName, compact: boolean): ToolSchema {
  const spec = SPECS[name];
  const params: Record<string, ParamSpec> = spec.heartbeat ? { ...spec.params, request_heartbeat: HEARTBEAT } : spec.params;
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [key, p] of Object.entries(params)) {
    const { description, ...rest } = p.schema;
    const text = compact ? p.brief : description;
    properties[key] = text ? { ...rest, description: text } : rest;
    if (p.required) required.push(key);
  }
  return {
    type: 'function',
    function: {
      name,
      description: compact ? spec.brief : spec.description,
      parameters: { type: 'object', properties, required, additionalProperties: false },
    },
  };
}

/**
 * The schemas offered to the model: workspace functions only when a workspace is available, and
 * the acting ones only when acting is wired too (a trusted workspace with folders); block shaping
 * only with the full (not compact) wording.
 */
export function functionSchemas(options: { workspace: boolean; compact: boolean; acting?: boolean }): ToolSchema[] {
  // Small windows have no room for more blocks, nor for the schema that makes them: MemGPT's own functions only.
  const memory = options.compact ? MEMORY_FUNCTION_NAMES.filter((n) => !BLOCK_SHAPING_FUNCTION_NAMES.includes(n)) : MEMORY_FUNCTION_NAMES;
  const names = options.workspace ? [...memory, ...WORKSPACE_FUNCTION_NAMES] : [...memory];
  if (options.workspace && options.acting) names.push(...ACTING_FUNCTION_NAMES);
  return names.map((n) => buildSchema(n, options.compact));
}

export function isFunctionName(name: string): name is FunctionName {
  return Object.prototype.hasOwnProperty.call(SPECS, name);
}
