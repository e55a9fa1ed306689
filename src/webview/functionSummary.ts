/**
 * One readable line for a function call ("Remembered in human: …", "Searched archival memory for
 * “auth”"), and the parsed `{status, message}` result. Pure: no DOM. Unknown functions get a
 * generic summary from their first arguments.
 */
import type { Citation } from './citations';

export interface CallSummary {
  /** Codicon name. */
  icon: string;
  /** Short, complete sentence-like line. */
  title: string;
  /** A file range the call is about (read_file): shown as a citation link. */
  citation?: Citation;
}

export interface ParsedResult {
  status?: 'OK' | 'Failed';
  /** The message as text (objects pretty-printed). */
  message: string;
  time?: string;
}

const QUOTE_MAX = 80;

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  const oneLine = s.replace(/\s+/g, ' ').trim();
  return `“${oneLine.length > QUOTE_MAX ? `${oneLine.slice(0, QUOTE_MAX - 1)}…` : oneLine}”`;
}

export function parseArguments(raw: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function int(v: unknown): number | undefined {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : undefined;
}

function page(args: Record<string, unknown>): string {
  const p = args.page;
  return typeof p === 'number' && Number.isInteger(p) && p > 0 ? ` (page ${p})` : '';
}

/**
 * Core memory blocks in the words of the person reading the chat: "human" is the user, "persona"
 * the agent itself; any other block keeps its name.
 */
function aboutWhom(label: unknown): string {
  const name = str(label);
  if (name === 'human') return 'about you';
  if (name === 'persona') return 'about itself';
  return `in “${name ?? '?'}”`;
}

/**
 * A failed search that only found nothing ("No results found.", a page past the end): the agent
 * simply looks elsewhere, so the card shows it quietly instead of as an error.
 */
export function isHarmlessFailure(name: string, message: string): boolean {
  if (!/search|grep|find|list/i.test(name)) return false;
  return /^\s*(No results found|Page \d+ does not exist)/i.test(message);
}

export function summarizeCall(name: string, rawArguments: string): CallSummary {
  const args = parseArguments(rawArguments);
  if (!args) return { icon: 'symbol-method', title: `${name}(…) — arguments are not valid JSON` };
  switch (name) {
    case 'send_message':
      return { icon: 'comment', title: `Sent a message ${quote(args.message)}` };
    case 'pause_heartbeats':
      return { icon: 'debug-pause', title: `Paused heartbeats for ${String(args.minutes ?? '?')} min` };
    case 'core_memory_append':
      return { icon: 'pencil', title: `Remembered ${aboutWhom(args.label)}: ${quote(args.content)}` };
    case 'core_memory_replace': {
      const from = str(args.old_content);
      const to = str(args.new_content);
      const what = to === '' ? `forgot ${quote(from)}` : `${quote(from)} → ${quote(to)}`;
      return { icon: 'replace', title: `Updated what it knows ${aboutWhom(args.label)}: ${what}` };
    }
    case 'conversation_search':
      return { icon: 'history', title: `Searched the conversation for ${quote(args.query)}${page(args)}` };
    case 'conversation_search_date':
      return {
        icon: 'calendar',
        title: `Searched the conversation from ${str(args.start_date) ?? '?'} to ${str(args.end_date) ?? '?'}${page(args)}`,
      };
    case 'archival_memory_insert':
      return { icon: 'database', title: `Saved to archival memory: ${quote(args.content)}` };
    case 'archival_memory_search':
      return { icon: 'search', title: `Searched archival memory for ${quote(args.query)}${page(args)}` };
    case 'edit_file':
      return {
        icon: 'edit',
        title: `Edit ${str(args.path) ?? '?'}`,
        ...(str(args.path) ? { citation: { path: str(args.path)!, startLine: 1 } } : {}),
      };
    case 'write_file':
      return {
        icon: 'new-file',
        title: `Write ${str(args.path) ?? '?'}`,
        ...(str(args.path) ? { citation: { path: str(args.path)!, startLine: 1 } } : {}),
      };
    case 'run_command':
      return { icon: 'terminal', title: `Run ${quote(args.command)}${str(args.cwd) ? ` in ${str(args.cwd)}` : ''}` };
  }
  const path = str(args.path) ?? str(args.file) ?? str(args.file_path);
  const startLine = int(args.start_line ?? args.startLine ?? args.line);
  const endLine = int(args.end_line ?? args.endLine);
  if (path && /read|open|view/i.test(name)) {
    const citation: Citation | undefined = startLine
      ? endLine && endLine > startLine
        ? { path, startLine, endLine }
        : { path, startLine }
      : { path, startLine: 1 };
    return { icon: 'file', title: `Read ${path}`, citation };
  }
  const query = str(args.query) ?? str(args.pattern) ?? str(args.glob);
  if (query && /search|grep|find/i.test(name)) return { icon: 'search', title: `Searched the workspace for ${quote(query)}${page(args)}` };
  if (/list/i.test(name))
    return { icon: 'list-tree', title: `Listed files${path || query ? ` in ${quote(path ?? query)}` : ''}${page(args)}` };
  const shown = Object.entries(args)
    .filter(([k]) => k !== 'request_heartbeat')
    .slice(0, 2)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(', ');
  return { icon: 'symbol-method', title: `${name}(${shown})` };
}

/** Function results come back as `{"status": "OK"|"Failed", "message": …, "time": …}`; anything else is shown as is. */
export function parseResult(raw: string): ParsedResult {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { message: raw };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { message: raw };
  const o = v as Record<string, unknown>;
  const status = o.status === 'OK' || o.status === 'Failed' ? o.status : undefined;
  const message = o.message === undefined ? raw : typeof o.message === 'string' ? o.message : JSON.stringify(o.message, null, 2);
  return { ...(status ? { status } : {}), message, ...(typeof o.time === 'string' ? { time: o.time } : {}) };
}
