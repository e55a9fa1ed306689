/**
 * What the selection commands send: "Remember selection" stores the text with `path:start-end`
 * provenance, "Ask about selection" quotes it in a chat message. Kept editor-free so the
 * capping and quoting rules are tested without an editor (and reused by other front ends).
 */
import { ASK_SELECTION_MAX_CHARS, REMEMBER_SELECTION_MAX_CHARS } from '../limits';

export interface SelectionRef {
  /** Workspace-relative path with forward slashes (or the file name for files outside the workspace). */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  text: string;
  /** Editor language id, used as the code fence's language. */
  languageId?: string;
}

export interface CappedText {
  text: string;
  /** The selection was longer than the cap and was cut. */
  truncated: boolean;
  originalChars: number;
}

/** `path:start-end` (or `path:line` for one line), the provenance written into archival memory. */
export function provenanceLabel(path: string, startLine: number, endLine: number): string {
  return startLine === endLine ? `${path}:${startLine}` : `${path}:${startLine}-${endLine}`;
}

/** Cuts `text` to `maxChars` at a line end when one is near, never splitting a surrogate pair. */
export function capText(text: string, maxChars: number): CappedText {
  if (text.length <= maxChars) return { text, truncated: false, originalChars: text.length };
  let cut = maxChars;
  const lineEnd = text.lastIndexOf('\n', maxChars);
  // Cut at a line end if that loses less than a fifth of the budget; half lines confuse readers.
  if (lineEnd > maxChars * 0.8) cut = lineEnd;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return { text: text.slice(0, cut), truncated: true, originalChars: text.length };
}

/** The memory text stored for "Remember selection": provenance header, then the (capped) selection. */
export function rememberedSelectionText(
  selection: SelectionRef,
  maxChars: number = REMEMBER_SELECTION_MAX_CHARS,
): CappedText & { label: string } {
  const label = provenanceLabel(selection.path, selection.startLine, selection.endLine);
  const capped = capText(selection.text, maxChars);
  const note = capped.truncated ? `\n[cut: the first ${capped.text.length} of ${capped.originalChars} characters were kept]` : '';
  return { ...capped, label, text: `From ${label}:\n${capped.text}${note}` };
}

/** A code fence longer than any run of backticks inside `text`, so the quote cannot be broken out of. */
function fenceFor(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** The user message "Ask about selection" sends: the question (if any), then the quoted code with its path:lines. */
export function askAboutSelectionMessage(
  selection: SelectionRef,
  question: string | undefined,
  maxChars: number = ASK_SELECTION_MAX_CHARS,
): CappedText & { message: string } {
  const label = provenanceLabel(selection.path, selection.startLine, selection.endLine);
  const capped = capText(selection.text, maxChars);
  const fence = fenceFor(capped.text);
  const language = (selection.languageId ?? '').replace(/[^A-Za-z0-9_+-]/g, '');
  const ask = question?.trim() || 'Explain this code.';
  const cutNote = capped.truncated
    ? `\n(The selection was cut to its first ${capped.text.length} of ${capped.originalChars} characters; read the file for the rest.)`
    : '';
  const message = `${ask}\n\nFrom \`${label}\`:\n${fence}${language}\n${capped.text}\n${fence}${cutNote}`;
  return { ...capped, message };
}
