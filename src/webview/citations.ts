/**
 * `path:line`, `path:start-end` and `path#Lstart-Lend` references in model text, found so the view
 * can turn them into links that open the editor at that range. Pure: no DOM.
 */
import { CHAT_CITATION_MAX_LINE, CHAT_PATH_MAX_CHARS } from '../core/limits';

export interface Citation {
  path: string;
  startLine: number;
  endLine?: number;
}

export interface CitationMatch extends Citation {
  /** Offsets of the whole reference in the searched text. */
  start: number;
  end: number;
}

// A path needs an extension (`file.ts`) so that times (10:30) and hosts (127.0.0.1:8080) are not
// taken for files; a preceding word character, slash, dot or colon means we are mid-URL or mid-word.
const SEGMENT = String.raw`\.?[\w@+\-][\w.@+\-]*`;
const PATH = String.raw`(?:\.{1,2}/)?(?:${SEGMENT}/)*${SEGMENT}\.[A-Za-z][A-Za-z0-9]*`;
const LINES = String.raw`(?::(\d{1,8})(?:\s?[-–]\s?(\d{1,8}))?|#L(\d{1,8})(?:-L?(\d{1,8}))?)`;
const CITATION = new RegExp(String.raw`(?<![\w/.:@\-])(${PATH})${LINES}(?![\w\-])`, 'g');
const WHOLE = new RegExp(String.raw`^(${PATH})${LINES}$`);

function build(path: string, a: string | undefined, b: string | undefined): Citation | undefined {
  if (a === undefined || path.length > CHAT_PATH_MAX_CHARS) return undefined;
  const startLine = Number(a);
  const endLine = b === undefined ? undefined : Number(b);
  if (startLine < 1 || startLine > CHAT_CITATION_MAX_LINE) return undefined;
  if (endLine !== undefined && (endLine < startLine || endLine > CHAT_CITATION_MAX_LINE)) return undefined;
  return endLine === undefined || endLine === startLine ? { path, startLine } : { path, startLine, endLine };
}

/** Every citation in `text`, in order. */
export function findCitations(text: string): CitationMatch[] {
  const found: CitationMatch[] = [];
  for (const m of text.matchAll(CITATION)) {
    const path = m[1]!;
    const c = build(path, m[2] ?? m[4], m[3] ?? m[5]);
    if (c) found.push({ ...c, start: m.index, end: m.index + m[0].length });
  }
  return found;
}

/** A string that is exactly one citation (a link target such as `src/a.ts:10-20`), else undefined. */
export function parseCitation(text: string): Citation | undefined {
  const m = WHOLE.exec(text.trim());
  return m ? build(m[1]!, m[2] ?? m[4], m[3] ?? m[5]) : undefined;
}

export function formatCitation(c: Citation): string {
  return c.endLine === undefined ? `${c.path}:${c.startLine}` : `${c.path}:${c.startLine}-${c.endLine}`;
}
