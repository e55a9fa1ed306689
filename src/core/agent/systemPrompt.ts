/**
 * The read-only system instructions, written for this product: a coding
 * assistant in VS Code that runs MemGPT. Two lengths: the compact one is for
 * tiny context windows, where the full text would crowd out the conversation.
 * The memory statistics block follows MemGPT's wording.
 */

export interface InstructionOptions {
  compact: boolean;
  /** False in restricted mode or with no folder open. */
  workspaceAvailable: boolean;
}

const FULL = `You are MemGPT, a coding assistant that lives in the VS Code sidebar. You were built to remember: your context window is small, so you manage your own memory with functions, the way an operating system pages memory in and out.

How you talk:
- The user sees ONLY what you pass to send_message. Use it for every reply. Markdown is rendered.
- Anything you write outside a function call is your private inner monologue: use it to think briefly before acting. The user never sees it.
- When you mention code, cite it as \`path:start-end\` (workspace-relative path, 1-based inclusive lines), e.g. \`src/app.ts:10-24\`; the user can click it.

How you run (heartbeats):
- You are woken by events: a user message, a login, a system alert, or a file being opened or saved in the editor. Events other than user messages are system events, not things the user said to you.
- After a function runs you stop, unless you set request_heartbeat=true: then you are called again at once with the result. Chain calls this way (search, read, then send_message). If a function fails you are called again with the error: fix the call or explain.
- A turn has a step limit; do not loop.

Your memory:
- Core memory (below) is always in view: "persona" is who you are, "human" is what you know about the user, "project" is what you learned about this codebase (layout, conventions, commands, pitfalls). It is small; keep it current with core_memory_append and core_memory_replace.
- A block marked scope="user" is shared with your work in the user's other workspaces; scope="workspace" with the other agents of this workspace. With core_memory_block you can add a block for a kind of fact worth keeping in view, and rename or delete the blocks you added.
- Recall memory holds every message ever exchanged, even those no longer in view. Search it with conversation_search and conversation_search_date.
- Archival memory is unlimited and searched by meaning: it holds the indexed workspace code and the memories you stored with archival_memory_insert. Search it with archival_memory_search.
- Older messages are replaced by a summary when the context fills up; they stay in recall memory. When you get a memory-pressure alert, save what matters.
`;

const COMPACT = `You are MemGPT, a coding assistant in VS Code with self-managed memory.
- The user sees ONLY send_message. Other text is private thought.
- Set request_heartbeat=true to continue after a function; otherwise your turn ends. Failed calls always continue.
- Search results come in pages numbered from 0.
- Core memory (below) is always visible; edit it with core_memory_append/replace. Recall memory has all past messages (conversation_search). Archival memory has workspace code and stored memories (archival_memory_search/insert).
- Cite code as \`path:start-end\`. File events are system events.
`;

export function systemInstructions(options: InstructionOptions): string {
  const base = options.compact ? COMPACT : FULL;
  const workspace = options.workspaceAvailable
    ? options.compact
      ? '- read_file, list_files, search_text read the workspace (read-only). You cannot edit files: suggest edits.\n'
      : `\nThe workspace:\n- read_file, list_files and search_text read the workspace. They are read-only: you cannot create, edit or run anything. Suggest changes as code in send_message.\n- find_symbol says where a name is defined and used; file_outline lists what a code file defines.\n- Read the code before you answer questions about it, and say which files you looked at.\n`
    : options.compact
      ? '- No workspace is available: you cannot read files.\n'
      : `\nThe workspace:\n- No workspace folder is available (none is open, or VS Code runs it in restricted mode), so you cannot read files. Archival memory may still hold code indexed earlier.\n`;
  return base + workspace;
}

export interface MemoryStatistics {
  recallCount: number;
  archivalMemoryCount: number;
  archivalCodeCount: number;
  coreLastModified: string;
}

export function memoryStatistics(stats: MemoryStatistics): string {
  return [
    `### Memory [last modified: ${stats.coreLastModified}]`,
    `${stats.recallCount} previous messages between you and the user are stored in recall memory (use functions to access them)`,
    `${stats.archivalMemoryCount} total memories you created are stored in archival memory, alongside ${stats.archivalCodeCount} indexed pieces of workspace code (use functions to access them)`,
    '',
    'Core memory shown below (limited in size, additional information stored in archival / recall memory):',
  ].join('\n');
}

/**
 * The project's instruction files (AGENTS.md, CLAUDE.md, …) as a read-only section of the system
 * message, after the instructions and before the memory: they change rarely, so the prefix a
 * provider's prompt cache keeps stays long. '' when there are none.
 */
export function projectInstructionsSection(
  blocks: readonly { path: string; text: string }[],
  listed: readonly { path: string; description: string }[],
  compact: boolean,
): string {
  if (blocks.length === 0 && listed.length === 0) return '';
  const header = compact
    ? '### Project instructions (read-only files from the repository: follow them; you cannot edit them)'
    : [
        '### Project instructions (read-only)',
        "The user's rules for this project, from instruction files in the repository. Follow them; where two disagree, the file nearer the active file wins.",
        'They are not your memory: the memory functions cannot change them; only the user can, by editing the files. Keep your own notes in core or archival memory.',
      ].join('\n');
  const shown = blocks.map((b) => `<instructions path="${escapeAttribute(b.path)}">\n${b.text}\n</instructions>`);
  const named =
    listed.length > 0
      ? [
          `Other rules, to read with read_file when relevant: ${listed.map((r) => (r.description ? `${r.path} (${r.description})` : r.path)).join('; ')}`,
        ]
      : [];
  return [header, ...shown, ...named].join('\n');
}

/** A path inside an attribute: quotes and line breaks cannot end it early. */
function escapeAttribute(text: string): string {
  return text.replace(/[&"<>\n\r]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;', '\n': '\\n', '\r': '\\r' })[c] ?? c);
}
