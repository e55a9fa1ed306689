import type { ArchivalHit, ArchivalStore } from '../interfaces/archivalStore';
import type { ToolSchema } from '../interfaces/chatModel';
import type { SymbolDefinition, SymbolLookup } from '../interfaces/symbols';
import type { RecallRecord, RecallSearchResult, RecallStore } from '../interfaces/recallStore';
import type { Workspace } from '../interfaces/workspace';
import { ReadOnlyBlockError, type ProjectInstructions } from '../interfaces/instructions';
import { CoreMemoryError, type BlockScope, type CoreMemory } from '../memory/coreMemory';
import { ScopedCoreMemory } from '../memory/memoryScopes';
import { parseToolArguments } from '../llm/jsonRepair';
import {
  FUNCTION_ARGUMENTS_MAX_CHARS,
  READ_FILE_PAGE_LINES,
  RECALL_MAX_PAGE_SIZE,
  RECALL_RANK_MAX_CANDIDATES,
  SEARCH_PAGE_SIZE,
} from '../limits';
import { parseQuery, rankRecall, RECALL_INCLUDE_OPTIONS, type RecallCategory } from '../memory/recallText';
import { messageText } from './messageText';
import { clipItem, packageResult, pageHeader, pageOutOfRange, truncateWithNote, type FunctionStatus } from './results';
import { functionSchemas, isFunctionName, SEARCH_FUNCTION_NAMES, WORKSPACE_FUNCTION_NAMES, type FunctionName } from './schemas';
import { validateArguments } from './validation';
import { escapeForDisplay } from '../workspace/displayText';
import { isActingFunction, type ActingFunctionName } from '../acting/actingArguments';
import type { ActingOutcome } from '../acting/actor';
import { MemgptError } from '../base/errors';

/**
 * Runs the model's function calls: parse (with the LLM client's JSON
 * repair), validate against the schema, execute, package the result the way
 * MemGPT does. Never throws for anything the model did: every mistake becomes
 * a Failed result whose text says what to do, so the loop can hand it back.
 */

export interface FunctionContext {
  agentId: string;
  /** The agent's view with shared scopes, or a bare CoreMemory where every block is the agent's. */
  coreMemory: CoreMemory | ScopedCoreMemory;
  recall: RecallStore;
  archival: ArchivalStore;
  workspace: Workspace;
  now: () => Date;
  /** Characters one result may take; derived from the context window by the agent. */
  resultMaxChars: number;
  /** Recall ids of the messages in the context window: conversation_search leaves them out. */
  inContextIds?: ReadonlySet<string>;
  signal?: AbortSignal;
  /** The project's instruction files: shown read-only, so no memory function may name one as its block. */
  readOnlyBlocks?: Pick<ProjectInstructions, 'isReadOnly'>;
  /** Runs edit_file / write_file / run_command (approval, checkpoint, apply); absent where acting is not offered. */
  act?: (name: ActingFunctionName, args: Record<string, unknown>) => Promise<ActingOutcome>;
  /** Functions from outside (MCP servers) offered this turn; their calls are approved by the user. */
  external?: ExternalFunctionsOfTurn;
}

export interface ExternalFunctionsOfTurn {
  /** True for a name the external source owns, offered or not (a server that stopped explains itself). */
  owns(name: string): boolean;
  call(name: string, args: Record<string, unknown>): Promise<{ status: FunctionStatus; message: string }>;
}

export type FunctionEffect =
  | { kind: 'message'; text: string }
  | { kind: 'pause_heartbeats'; minutes: number }
  | { kind: 'memory_changed'; what: 'core' | 'archival' }
  /** An acting call changed files; the turn's checkpoint restores them. */
  | { kind: 'files_changed'; checkpointId: string; paths: string[] };

export interface FunctionOutcome {
  name: string;
  status: FunctionStatus;
  /** The `message` field of the result. */
  message: string;
  /** The packaged result (`{"status", "message", "time"}`): the tool message content. */
  content: string;
  requestHeartbeat: boolean;
  effects: FunctionEffect[];
  /** Repairs applied to broken JSON arguments (for logs). */
  repairs: string[];
}

class FunctionFailure extends MemgptError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('function_failed', message, options);
  }
}

export class FunctionSet {
  readonly schemas: ToolSchema[];
  private readonly byName: Map<string, ToolSchema>;

  constructor(readonly options: { workspace: boolean; compact: boolean; acting?: boolean }) {
    this.schemas = functionSchemas(options);
    this.byName = new Map(this.schemas.map((s) => [s.function.name, s]));
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  async execute(call: { name: string; arguments: string }, ctx: FunctionContext): Promise<FunctionOutcome> {
    const effects: FunctionEffect[] = [];
    let repairs: string[] = [];
    let requestHeartbeat = false;
    const done = (status: FunctionStatus, message: string): FunctionOutcome => {
      const limited =
        status === 'OK' && !SEARCH_FUNCTION_NAMES.has(call.name as FunctionName) ? truncateWithNote(message, ctx.resultMaxChars) : message;
      const bounded = status === 'Failed' ? truncateWithNote(limited, ctx.resultMaxChars) : limited;
      return {
        name: call.name,
        status,
        message: bounded,
        content: packageResult(status, bounded, ctx.now()),
        requestHeartbeat,
        effects,
        repairs,
      };
    };

    const schema = this.byName.get(call.name);
    if (!schema && ctx.external?.owns(call.name)) {
      const external = ctx.external;
      return this.callExternal(
        call,
        external,
        done,
        (r) => (repairs = r),
        (h) => (requestHeartbeat = h),
      );
    }
    if (!schema) {
      if (isFunctionName(call.name) && (WORKSPACE_FUNCTION_NAMES as readonly string[]).includes(call.name)) {
        return done(
          'Failed',
          `${call.name} is not available: no workspace folder is open, or the workspace is not trusted (restricted mode). Answer without reading files.`,
        );
      }
      if (isActingFunction(call.name)) {
        return done(
          'Failed',
          `${call.name} is not available: no workspace folder is open, or the workspace is not trusted (restricted mode). Nothing can be changed or run here; tell the user what you would do instead.`,
        );
      }
      return done('Failed', `No function named "${call.name}". Available functions: ${this.names.join(', ')}.`);
    }
    if (call.arguments.length > FUNCTION_ARGUMENTS_MAX_CHARS) {
      return done(
        'Failed',
        `Arguments of ${call.name} are too long (${call.arguments.length} characters, limit ${FUNCTION_ARGUMENTS_MAX_CHARS}). Send less, e.g. split the content over several calls.`,
      );
    }
    const parsed = parseToolArguments(call.arguments);
    if (!parsed.ok) return done('Failed', `Could not read the arguments of ${call.name}: ${parsed.error}.`);
    repairs = parsed.repairs;
    // The heartbeat is honoured even if another argument is wrong: a failure continues the chain anyway.
    requestHeartbeat = parsed.value.request_heartbeat === true || parsed.value.request_heartbeat === 'true';
    // Acting calls get their own strict check (an argument claiming approval is refused as such).
    if (isActingFunction(call.name)) return this.act(call.name, parsed.value, ctx, effects, done);
    const valid = validateArguments(schema, parsed.value);
    if (!valid.ok) return done('Failed', valid.error);
    const args = valid.args;
    requestHeartbeat = args.request_heartbeat === true;
    if (call.name === 'send_message' || call.name === 'pause_heartbeats') requestHeartbeat = false;

    try {
      refuseInstructionFiles(call.name, args, ctx);
      const message = await this.run(call.name as FunctionName, args, ctx, effects);
      return done('OK', message);
    } catch (err) {
      if (err instanceof CoreMemoryError || err instanceof FunctionFailure || err instanceof ReadOnlyBlockError)
        return done('Failed', err.message);
      if (ctx.signal?.aborted) return done('Failed', `${call.name} was cancelled by the user.`);
      return done('Failed', `${call.name} failed: ${(err as Error).message ?? String(err)}`);
    }
  }

  private async run(name: FunctionName, a: Record<string, unknown>, ctx: FunctionContext, effects: FunctionEffect[]): Promise<string> {
    const str = (k: string) => a[k] as string;
    const page = typeof a.page === 'number' ? a.page : 0;
    switch (name) {
      case 'send_message': {
        if (str('message').trim() === '')
          throw new FunctionFailure('The message is empty. Write the text the user should see in "message".');
        effects.push({ kind: 'message', text: str('message') });
        return 'Sent message successfully.';
      }
      case 'pause_heartbeats': {
        effects.push({ kind: 'pause_heartbeats', minutes: a.minutes as number });
        return `Pausing timed heartbeats for ${a.minutes as number} min.`;
      }
      case 'core_memory_append':
        await memoryOf(ctx).append(str('label'), str('content'));
        effects.push({ kind: 'memory_changed', what: 'core' });
        return `Appended to core memory block "${str('label')}".`;
      case 'core_memory_replace':
        await memoryOf(ctx).replace(str('label'), str('old_content'), str('new_content'), a.replace_all === true);
        effects.push({ kind: 'memory_changed', what: 'core' });
        return `Replaced text in core memory block "${str('label')}".`;
      case 'core_memory_block': {
        const message = await shapeBlock(memoryOf(ctx), a);
        effects.push({ kind: 'memory_changed', what: 'core' });
        return message;
      }
      case 'conversation_search':
        return conversationSearch(ctx, str('query'), page, a.include);
      case 'conversation_search_date':
        return this.recallPage(ctx, page, () =>
          ctx.recall.searchDate(ctx.agentId, str('start_date'), str('end_date'), page, SEARCH_PAGE_SIZE),
        );
      case 'archival_memory_insert': {
        if (str('content').trim() === '') throw new FunctionFailure('Nothing to store: "content" is empty.');
        const id = await ctx.archival.insertMemory(str('content'));
        effects.push({ kind: 'memory_changed', what: 'archival' });
        const notice = ctx.archival.insertNotice?.(id);
        return notice ? `Stored in archival memory. ${notice}` : 'Stored in archival memory.';
      }
      case 'archival_memory_search': {
        const result = await ctx.archival.search(str('query'), {
          page,
          pageSize: SEARCH_PAGE_SIZE,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        if (result.total === 0) return 'No results found.';
        if (result.hits.length === 0) throw new FunctionFailure(pageOutOfRange(page, result.total, result.pageCount));
        const perItem = Math.floor(ctx.resultMaxChars / Math.max(1, result.hits.length));
        const items = result.hits.map((h, i) => `${i + 1}. ${clipItem(archivalHitText(h), perItem)}`);
        return [pageHeader(result.hits.length, result.total, result.page, result.pageCount), ...items].join('\n');
      }
      case 'read_file':
        return this.readFile(ctx, str('path'), a.start_line as number | undefined, a.end_line as number | undefined);
      case 'list_files': {
        const glob = nonEmpty(a.glob);
        const r = await ctx.workspace.listFiles(glob, page);
        if (r.total === 0) return glob ? `No files match ${escapeForDisplay(glob)}.` : 'The workspace has no files (or all are ignored).';
        if (r.paths.length === 0) throw new FunctionFailure(pageOutOfRange(page, r.total, r.pageCount));
        // One name per line, whatever the name holds: escaped, a newline cannot fake a second file.
        return fitList(
          pageHeader(r.paths.length, r.total, r.page, r.pageCount),
          r.paths.map((p) => escapeForDisplay(p)),
          ctx.resultMaxChars,
        );
      }
      case 'search_text': {
        const r = await ctx.workspace.searchText(str('query'), nonEmpty(a.glob), page);
        if (r.total === 0) return `No matches for ${str('query')}.`;
        if (r.matches.length === 0) throw new FunctionFailure(pageOutOfRange(page, r.total, r.pageCount));
        const header =
          pageHeader(r.matches.length, r.total, r.page, r.pageCount) +
          (r.truncated ? ' (the search stopped early: too many matches; narrow the query or the glob)' : '');
        return fitList(
          header,
          r.matches.map((m) => `${escapeForDisplay(m.path)}:${m.line}: ${m.text}`),
          ctx.resultMaxChars,
        );
      }
      case 'find_symbol':
        return findSymbolText(ctx, str('name'));
      case 'file_outline':
        return fileOutlineText(ctx, str('path'));
      case 'edit_file':
      case 'write_file':
      case 'run_command':
        // Routed to act() before validation; reaching here would skip the approval.
        throw new FunctionFailure(`${name} cannot run without approval.`);
    }
  }

  /** An MCP tool: parsed like the others, checked, approved and run by the external source. */
  private async callExternal(
    call: { name: string; arguments: string },
    external: ExternalFunctionsOfTurn,
    done: (status: FunctionStatus, message: string) => FunctionOutcome,
    setRepairs: (r: string[]) => void,
    setHeartbeat: (h: boolean) => void,
  ): Promise<FunctionOutcome> {
    if (call.arguments.length > FUNCTION_ARGUMENTS_MAX_CHARS) {
      return done(
        'Failed',
        `Arguments of ${call.name} are too long (${call.arguments.length} characters, limit ${FUNCTION_ARGUMENTS_MAX_CHARS}).`,
      );
    }
    const parsed = parseToolArguments(call.arguments);
    if (!parsed.ok) return done('Failed', `Could not read the arguments of ${call.name}: ${parsed.error}.`);
    setRepairs(parsed.repairs);
    setHeartbeat(parsed.value.request_heartbeat === true || parsed.value.request_heartbeat === 'true');
    try {
      const outcome = await external.call(call.name, parsed.value);
      return done(outcome.status, outcome.message);
    } catch (err) {
      return done('Failed', `${call.name} failed: ${(err as Error).message ?? String(err)}`);
    }
  }

  private async act(
    name: ActingFunctionName,
    args: Record<string, unknown>,
    ctx: FunctionContext,
    effects: FunctionEffect[],
    done: (status: FunctionStatus, message: string) => FunctionOutcome,
  ): Promise<FunctionOutcome> {
    if (!ctx.act) return done('Failed', `${name} is not available in this session.`);
    let outcome: ActingOutcome;
    try {
      outcome = await ctx.act(name, args);
    } catch (err) {
      return done('Failed', `${name} failed: ${(err as Error).message ?? String(err)}`);
    }
    if (outcome.changed) effects.push({ kind: 'files_changed', ...outcome.changed });
    return done(outcome.status, outcome.message);
  }

  private recallPage(ctx: FunctionContext, page: number, search: () => RecallSearchResult): string {
    let result: RecallSearchResult;
    try {
      result = search();
    } catch (err) {
      throw new FunctionFailure((err as Error).message);
    }
    if (result.total === 0) return 'No results found.';
    if (result.records.length === 0) throw new FunctionFailure(pageOutOfRange(page, result.total, result.pageCount));
    const perItem = Math.floor(ctx.resultMaxChars / Math.max(1, result.records.length));
    const items = result.records.map((r) => `- ${clipItem(recallRecordText(r), perItem)}`);
    return [pageHeader(result.records.length, result.total, result.page, result.pageCount), ...items].join('\n');
  }

  private async readFile(ctx: FunctionContext, path: string, start: number | undefined, end: number | undefined): Promise<string> {
    const startLine = start ?? 1;
    const endLine = end ?? startLine + READ_FILE_PAGE_LINES - 1;
    if (endLine < startLine)
      throw new FunctionFailure(`end_line (${endLine}) is before start_line (${startLine}). Give start_line <= end_line.`);
    const slice = await ctx.workspace.readFile(path, startLine, endLine);
    const name = escapeForDisplay(slice.path);
    if (slice.totalLines === 0) return `${name} is empty.`;
    if (slice.startLine > slice.totalLines) {
      throw new FunctionFailure(`${name} has only ${slice.totalLines} lines; start_line ${startLine} is past the end.`);
    }
    const lines = slice.text.split('\n');
    const width = String(slice.endLine).length;
    const out: string[] = [];
    let used = 200; // room for the header and the note
    let last = slice.startLine - 1;
    for (let i = 0; i < lines.length; i++) {
      const numbered = `${String(slice.startLine + i).padStart(width)}| ${lines[i]}`;
      if (used + numbered.length + 1 > ctx.resultMaxChars && out.length > 0) break;
      out.push(numbered);
      used += numbered.length + 1;
      last = slice.startLine + i;
    }
    const header = `${name}, lines ${slice.startLine}-${last} of ${slice.totalLines}:`;
    const notes: string[] = [];
    if (last < slice.totalLines)
      notes.push(`[${slice.totalLines - last} more lines; to read on, call read_file with start_line=${last + 1}.]`);
    if (slice.truncated && lines.some((l) => l.includes('[line cut'))) notes.push('[Some long lines were cut.]');
    return [header, ...out, ...notes].join('\n');
  }
}

/**
 * conversation_search (recallText.ts rankRecall): the store finds the records holding every
 * word, newest first; of the newest RECALL_RANK_MAX_CANDIDATES, those not in context are
 * ranked on their included parts and repeats collapsed, then paged.
 */
function conversationSearch(ctx: FunctionContext, query: string, page: number, includeArg: unknown): string {
  const include = new Set<RecallCategory>();
  for (const v of Array.isArray(includeArg) ? (includeArg as unknown[]) : []) {
    if (typeof v !== 'string' || !(RECALL_INCLUDE_OPTIONS as readonly string[]).includes(v)) {
      throw new FunctionFailure(
        `"include" holds ${JSON.stringify(v)}: use any of ${RECALL_INCLUDE_OPTIONS.map((o) => JSON.stringify(o)).join(', ')}, or leave it out to search only the messages.`,
      );
    }
    include.add(v as RecallCategory);
  }
  let terms;
  const candidates: RecallRecord[] = [];
  let capped = false;
  try {
    terms = parseQuery(query);
    for (let p = 0; ; p++) {
      const r = ctx.recall.search(ctx.agentId, query, p, RECALL_MAX_PAGE_SIZE);
      candidates.push(...r.records);
      if (p + 1 >= r.pageCount) break;
      if (candidates.length >= RECALL_RANK_MAX_CANDIDATES) {
        capped = true;
        break;
      }
    }
  } catch (err) {
    throw new FunctionFailure((err as Error).message);
  }
  const inContext = ctx.inContextIds ?? new Set<string>();
  const ranked = rankRecall(candidates, terms, include, inContext);
  if (ranked.length === 0) {
    const visible = candidates.filter((r) => inContext.has(r.id)).length;
    const elsewhere = rankRecall(candidates, terms, new Set(RECALL_INCLUDE_OPTIONS), inContext).length;
    const notes = [
      ...(visible > 0 ? [`${visible} matching message(s) are already in your context window`] : []),
      ...(include.size < RECALL_INCLUDE_OPTIONS.length && elsewhere > 0
        ? [`${elsewhere} match(es) are in thoughts, tool results, events or summaries: add "include" to search them`]
        : []),
    ];
    return notes.length > 0 ? `No results found (${notes.join('; ')}).` : 'No results found.';
  }
  const pageCount = Math.ceil(ranked.length / SEARCH_PAGE_SIZE);
  const shown = ranked.slice(page * SEARCH_PAGE_SIZE, (page + 1) * SEARCH_PAGE_SIZE);
  if (shown.length === 0) throw new FunctionFailure(pageOutOfRange(page, ranked.length, pageCount));
  const perItem = Math.floor(ctx.resultMaxChars / Math.max(1, shown.length));
  const items = shown.map((r) => {
    const text = r.parts.map((p) => `${p.label}: ${p.text}`).join('\n');
    const repeats = r.repeats > 0 ? ` (said ${r.repeats + 1} times; the latest shown)` : '';
    return `- ${clipItem(`[${recordStamp(r.record)}] ${text}${repeats}`, perItem)}`;
  });
  const note = capped ? [`[Ranked among the newest ${RECALL_RANK_MAX_CANDIDATES} matches; add words to narrow the search.]`] : [];
  return [pageHeader(shown.length, ranked.length, page, pageCount), ...items, ...note].join('\n');
}

/**
 * Instruction files are shown like memory blocks but belong to the repository. Any memory
 * function (those that edit core memory by label, whatever their name) that names one in a
 * label argument is refused with what to do instead, before anything changes.
 */
function refuseInstructionFiles(name: string, args: Record<string, unknown>, ctx: FunctionContext): void {
  const guard = ctx.readOnlyBlocks;
  if (!guard || !/memory/.test(name)) return;
  for (const [key, value] of Object.entries(args)) {
    if (!/label/.test(key) || typeof value !== 'string' || !guard.isReadOnly(value)) continue;
    throw new ReadOnlyBlockError(
      `"${value}" is a project instruction file, shown read-only in your system message: ${name} cannot change it, and neither can any other function of yours. ` +
        'If it looks wrong or out of date, tell the user (they can edit the file). Keep your own notes in core memory (e.g. the "project" block) or archival memory.',
    );
  }
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Items of one page that fit the budget; the rest are announced, never dropped silently. */
function fitList(header: string, items: string[], maxChars: number): string {
  const out = [header];
  let used = header.length + 120;
  let shown = 0;
  for (const item of items) {
    if (used + item.length + 1 > maxChars && shown > 0) break;
    out.push(item);
    used += item.length + 1;
    shown++;
  }
  if (shown < items.length)
    out.push(`[... ${items.length - shown} more on this page left out to fit the context window; narrow the glob or query.]`);
  return out.join('\n');
}

/** The symbol index, or a failure that points the model at the text search instead. */
function symbolsOf(ctx: FunctionContext): SymbolLookup {
  const symbols = ctx.archival.symbols;
  if (!symbols || symbols.fileCount === 0) {
    throw new FunctionFailure(
      'No code symbols are indexed yet (the workspace index is still being built, or holds no code in a parsed language). Use search_text or archival_memory_search instead.',
    );
  }
  return symbols;
}

export function symbolDefinitionText(d: SymbolDefinition): string {
  const scope = d.container ? ` in ${escapeForDisplay(d.container)}` : '';
  const doc = d.doc ? `\n    ${escapeForDisplay(d.doc.length > 200 ? `${d.doc.slice(0, 199)}…` : d.doc)}` : '';
  return `${escapeForDisplay(d.path)}:${d.line} ${d.kind} ${escapeForDisplay(d.name)}${scope}: ${escapeForDisplay(d.signature)}${doc}`;
}

function findSymbolText(ctx: FunctionContext, name: string): string {
  if (name.trim() === '')
    throw new FunctionFailure('"name" is empty. Give an identifier from the code, e.g. parseConfig or Server.listen.');
  const r = symbolsOf(ctx).find(name);
  if (r.definitions.length === 0 && r.references.length === 0) {
    return `No definition or use of ${escapeForDisplay(name)} is indexed. Check the spelling, try the bare name without its container, or use search_text.`;
  }
  const items = [
    ...(r.definitions.length > 0
      ? ['Definitions:', ...r.definitions.map((d) => `- ${symbolDefinitionText(d)}`)]
      : [`No definition of ${escapeForDisplay(name)} is indexed (it may come from a dependency).`]),
    ...(r.references.length > 0 ? ['References:', ...r.references.map((u) => `- ${escapeForDisplay(u.path)}:${u.line}`)] : []),
    ...(r.moreReferences > 0 ? [`[${r.moreReferences} more references; use search_text with a glob to see them.]`] : []),
  ];
  return fitList(
    `${escapeForDisplay(name)}: ${r.definitions.length} definition(s), ${r.references.length + r.moreReferences} reference(s).`,
    items,
    ctx.resultMaxChars,
  );
}

function fileOutlineText(ctx: FunctionContext, filePath: string): string {
  const rel = filePath.trim().replace(/^\.\//, '');
  const defs = symbolsOf(ctx).outline(rel);
  if (!defs)
    throw new FunctionFailure(
      `${escapeForDisplay(rel)} has no outline: it is not indexed, or not code in a parsed language (TypeScript/JavaScript, Python, Go, Rust, Java, C#, C, C++). Use read_file.`,
    );
  if (defs.length === 0) return `${escapeForDisplay(rel)} defines no functions, classes or types.`;
  const items = defs.map((d) => {
    const depth = d.container === '' ? 0 : d.container.split('.').length;
    return `${'  '.repeat(Math.min(depth, 6))}${d.startLine}-${d.endLine} ${d.kind} ${escapeForDisplay(d.name)}: ${escapeForDisplay(d.signature)}`;
  });
  return fitList(`${escapeForDisplay(rel)}: ${defs.length} definition(s), lines first-last:`, items, ctx.resultMaxChars);
}

function memoryOf(ctx: FunctionContext): ScopedCoreMemory {
  return ctx.coreMemory instanceof ScopedCoreMemory ? ctx.coreMemory : new ScopedCoreMemory(ctx.coreMemory, null);
}

/** core_memory_block: one action on a block; each says what it needs when it is missing. */
async function shapeBlock(memory: ScopedCoreMemory, a: Record<string, unknown>): Promise<string> {
  const label = a.label as string;
  const need = (key: string, action: string): never => {
    throw new FunctionFailure(`core_memory_block ${action} needs "${key}".`);
  };
  const action = a.action as 'create' | 'rename' | 'update' | 'delete';
  switch (action) {
    case 'create': {
      const description = typeof a.description === 'string' ? a.description : need('description', 'create');
      const limit = typeof a.limit === 'number' ? a.limit : need('limit', 'create');
      const scope = (typeof a.scope === 'string' ? a.scope : 'agent') as BlockScope;
      await memory.createBlock(label, { description, limit, scope });
      return `Created core memory block "${label}" (${scope} scope, limit ${limit} characters).`;
    }
    case 'rename': {
      const newLabel = typeof a.new_label === 'string' ? a.new_label : need('new_label', 'rename');
      await memory.renameBlock(label, newLabel);
      return `Renamed core memory block "${label}" to "${newLabel}".`;
    }
    case 'update': {
      const change: { description?: string; limit?: number } = {};
      if (typeof a.description === 'string') change.description = a.description;
      if (typeof a.limit === 'number') change.limit = a.limit;
      if (change.description === undefined && change.limit === undefined) need('description" or "limit', 'update');
      await memory.updateBlock(label, change);
      return `Updated core memory block "${label}".`;
    }
    case 'delete': {
      const value = await memory.deleteBlock(label);
      // The text goes into the result, so recall (and conversation_search with include tool_results) still has it.
      return value === ''
        ? `Deleted core memory block "${label}" (it was empty).`
        : `Deleted core memory block "${label}". It held:\n${value}`;
    }
  }
}

export function archivalHitText(h: ArchivalHit): string {
  if (h.source === 'workspace') {
    const where = h.path
      ? `${escapeForDisplay(h.path)}${h.startLine !== undefined ? `:${h.startLine}-${h.endLine ?? h.startLine}` : ''}`
      : '(unknown file)';
    return `[code] ${where}\n${h.text}`;
  }
  const from = h.path
    ? ` from ${escapeForDisplay(h.path)}${h.startLine !== undefined ? `:${h.startLine}-${h.endLine ?? h.startLine}` : ''}`
    : '';
  // The note comes before the text, so clipping a long memory never hides it.
  return `[memory${h.time ? `, ${h.time}` : ''}${from}] ${h.note ? `(${h.note}) ` : ''}${h.text}`;
}

export function recallRecordText(r: RecallRecord): string {
  return `[${recordStamp(r)}] ${messageText(r.message)}`;
}

/**
 * A record's time, and for a turn nobody asked for (a login, a timer) that it was one: a greeting
 * the agent sent on its own after an unanswered question must not read as that question's answer.
 */
function recordStamp(r: RecallRecord): string {
  return r.automatic === true ? `${r.time}, automatic turn: not a reply to the user` : r.time;
}
