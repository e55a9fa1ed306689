/**
 * What `memgpt` accepts: every option once, every command with its positionals and the options
 * it takes. The parser, the dispatcher and `--help` all read this table, so they cannot disagree.
 */
import type { OptionSpecs } from './args';

export const OPTIONS = {
  'state-dir': { kind: 'string', valueName: 'dir', description: 'Where memory is kept (default: per-user folder, or $MEMGPT_STATE_DIR).' },
  'base-url': {
    kind: 'string',
    valueName: 'url',
    description: 'OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1 (default: $OPENAI_BASE_URL, else OpenAI).',
  },
  provider: {
    kind: 'string',
    valueName: 'openai|anthropic',
    description:
      "The API the server speaks: 'openai' (and compatible servers, the default) or 'anthropic' (Messages API, key from $ANTHROPIC_API_KEY); a --base-url on api.anthropic.com means anthropic.",
  },
  model: {
    kind: 'string',
    valueName: 'name',
    description: "Chat model (default: $MEMGPT_MODEL, $OPENAI_MODEL, else the server's first model; gpt-4o-mini on OpenAI).",
  },
  'context-window': {
    kind: 'integer',
    valueName: 'tokens',
    description: 'Context window of the model (default: from the known-model table; at least 2048).',
  },
  'request-timeout': {
    kind: 'integer',
    valueName: 'seconds',
    description: 'How long to wait for the model server to start answering (default 30); retries and pauses fit in twice this.',
  },
  agent: { kind: 'string', valueName: 'id|name', description: 'Use this agent of the workspace (ask/chat make it the active one).' },
  'embeddings-base-url': {
    kind: 'string',
    valueName: 'url',
    description: 'Embeddings endpoint for archival memory (default: a local embedder, see --local-model).',
  },
  'embeddings-model': { kind: 'string', valueName: 'name', description: 'Embeddings model (default: text-embedding-3-small).' },
  'local-model': {
    kind: 'string',
    valueName: 'folder',
    description:
      'A Model2Vec embedding model folder (tokenizer.json + model.safetensors) for semantic search in process (default: $MEMGPT_LOCAL_MODEL, else a downloaded model, else lexical search only).',
  },
  json: { kind: 'flag', description: 'Print structured output as JSON on stdout.' },
  k: { kind: 'integer', short: 'k', valueName: 'N', description: 'search: number of results (default 5, at most 50).' },
  source: { kind: 'string', valueName: 'workspace|memory', description: 'search: only workspace chunks, or only remembered items.' },
  path: { kind: 'string', valueName: 'glob', description: 'search: only hits whose path matches, e.g. "src/**/*.ts".' },
  rerank: {
    kind: 'flag',
    description:
      'search: the chat model reorders the first 20 hits (one extra model request; past 10 s or on any failure the search keeps its own order). Default: $MEMGPT_RERANK=1, else off.',
  },
  rebuild: { kind: 'flag', description: 'index: drop the workspace index and build it again (remembered items stay).' },
  store: {
    kind: 'string',
    valueName: 'postgres-url',
    description:
      'index: then publish the index of the checked-out commit to this shared store (PostgreSQL + pgvector); prefer --publish with $MEMGPT_POSTGRES_URL, which keeps the password off the command line.',
  },
  publish: {
    kind: 'flag',
    description: 'index: then publish the index of the checked-out commit to the shared store in $MEMGPT_POSTGRES_URL.',
  },
  'repo-id': {
    kind: 'string',
    valueName: 'id',
    description: 'index --publish: the repository id (default: a hash of the git remote "origin").',
  },
  commit: { kind: 'string', valueName: 'sha', description: 'index --publish: the commit published (default: git rev-parse HEAD).' },
  out: {
    kind: 'string',
    valueName: 'file|dir',
    description: 'export: write to this file, or to <dir>/<agent>-<date>.json, instead of stdout.',
  },
  yes: {
    kind: 'flag',
    description:
      'ask: approve every edit and command of this turn (without it, ask declines them when there is no terminal); download-model: download without asking.',
  },
  undo: { kind: 'string', valueName: 'id', description: 'reflect: undo that reflection instead of running a pass.' },
  help: { kind: 'flag', short: 'h', description: 'Show help.' },
  version: { kind: 'flag', description: 'Show the version.' },
} as const satisfies OptionSpecs;

export type OptionName = keyof typeof OPTIONS;

/** Options every command takes; help lists them once instead of on every usage line. */
export const COMMON_OPTIONS: readonly OptionName[] = [
  'state-dir',
  'base-url',
  'provider',
  'model',
  'context-window',
  'request-timeout',
  'agent',
  'embeddings-base-url',
  'embeddings-model',
  'local-model',
  'help',
];

export type CommandName =
  | 'index'
  | 'search'
  | 'symbols'
  | 'ask'
  | 'chat'
  | 'memory'
  | 'reflect'
  | 'export'
  | 'import'
  | 'mcp'
  | 'mcp-servers'
  | 'checkpoints'
  | 'restore'
  | 'download-model';

export interface CommandSpec {
  name: CommandName;
  /** Positional names; all required. */
  positionals: readonly string[];
  options: readonly OptionName[];
  summary: string;
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'index',
    positionals: ['folder'],
    options: [...COMMON_OPTIONS, 'rebuild', 'json', 'store', 'publish', 'repo-id', 'commit'],
    summary:
      'Build or update the archival index of a folder (progress bar on a terminal, summary at the end); with --publish or --store, publish it as the shared index other machines read (from CI).',
  },
  {
    name: 'search',
    positionals: ['folder', 'query'],
    options: [...COMMON_OPTIONS, 'k', 'json', 'source', 'path', 'rerank'],
    summary: 'Hybrid archival search: ranked hits with path, lines, score and source.',
  },
  {
    name: 'symbols',
    positionals: ['folder', 'name'],
    options: [...COMMON_OPTIONS, 'json'],
    summary:
      'Where a function, class, method or type is defined (path:line, kind, scope, signature, doc), then where it is used; `Class.member` narrows by scope.',
  },
  {
    name: 'ask',
    positionals: ['folder', 'message'],
    options: [...COMMON_OPTIONS, 'json', 'yes'],
    summary:
      'One message through the full agent; the reply streams to stdout ("-" reads the message from stdin). Edits and commands are asked at the terminal, approved with --yes, declined otherwise.',
  },
  {
    name: 'chat',
    positionals: ['folder'],
    options: [...COMMON_OPTIONS],
    summary:
      'Interactive session with the same agent (/memory, /exit; Ctrl-C cancels a turn, twice or Ctrl-D quits); edits and commands are asked at the terminal (y / n [reason] / always).',
  },
  {
    name: 'memory',
    positionals: ['folder'],
    options: [...COMMON_OPTIONS, 'json'],
    summary: 'Core memory blocks, recall and archival counts, context-window breakdown.',
  },
  {
    name: 'reflect',
    positionals: ['folder'],
    options: [...COMMON_OPTIONS, 'json', 'undo'],
    summary:
      'One reflection pass now: the model ($MEMGPT_REFLECTION_MODEL, else the chat model) merges duplicate remembered items and tightens core memory blocks; prints each change before and after (--undo <id> puts them back).',
  },
  {
    name: 'export',
    positionals: ['folder'],
    options: [...COMMON_OPTIONS, 'out'],
    summary: 'The agent (state + recall) as one JSON file, to stdout or --out.',
  },
  {
    name: 'import',
    positionals: ['folder', 'file'],
    options: [...COMMON_OPTIONS, 'json'],
    summary: "Import an exported agent into this folder's memory.",
  },
  {
    name: 'checkpoints',
    positionals: ['folder'],
    options: [...COMMON_OPTIONS, 'json'],
    summary: "The checkpoints of the agent's file changes, newest first: id, time, files (--json: [{id, time, files}]).",
  },
  {
    name: 'restore',
    positionals: ['folder', 'id'],
    options: [...COMMON_OPTIONS, 'json'],
    summary:
      "Bring the files back as they were before checkpoint <id>'s turn (later turns are rolled back too); what commands did is not undone.",
  },
  {
    name: 'download-model',
    positionals: [],
    options: ['state-dir', 'yes', 'json', 'help'],
    summary:
      'Download the local embedding model (minishlab/potion-base-8M, 30.9 MB, SHA-256 pinned) into the state folder, after asking (--yes on no terminal); every command then searches by meaning, in process. $MEMGPT_MODEL_BASE_URL names a mirror.',
  },
  {
    name: 'mcp',
    positionals: ['folder'],
    options: [...COMMON_OPTIONS],
    summary:
      "Serve this folder's memory over MCP on stdin/stdout (archival search, find symbol, conversation search, core memory, remember a note) for Claude Code, Cursor, Copilot.",
  },
  {
    name: 'mcp-servers',
    positionals: ['folder'],
    options: [...COMMON_OPTIONS, 'json'],
    summary:
      "The MCP servers of the folder's .vscode/mcp.json the agent may call: each is started once to show whether it runs and the functions it offers (exit 1 when one cannot be used).",
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
