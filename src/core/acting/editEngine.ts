import {
  EDIT_CLOSEST_CANDIDATES,
  EDIT_CLOSEST_LINE_CHARS,
  EDIT_CLOSEST_MAX_PATTERN_LINES,
  EDIT_CLOSEST_MAX_SCAN_LINES,
  EDIT_MAX_FILE_BYTES,
  EDIT_MAX_LISTED_MATCHES,
} from '../limits';
import { ActingError } from './actingError';
import { diffRegions, formatUnifiedDiff, LineIndex, type LineRegion } from './lineDiff';

/**
 * edit_file's core: an exact replacement over a text, never fuzzy. Either old_string occurs
 * exactly once (or replace_all is set) and the new text comes back with its diff, or nothing is
 * changed and the failure tells the model what to fix: where the closest lines are when the
 * text is not there, how many matches and on which lines when it is there more than once.
 *
 * Line endings and a byte-order mark are the file's, not the model's: models write "\n" (they
 * read files through read_file, which shows lines without "\r"), so in a CRLF file old_string
 * and new_string are matched and written with "\r\n". A file mixing both is matched exactly as
 * given. A BOM is kept and is never part of a match.
 */

export interface EditRequest {
  path: string;
  old_string: string;
  new_string: string;
  replace_all?: boolean;
}

export type EditErrorCode = 'empty-old-string' | 'no-change' | 'not-found' | 'ambiguous' | 'too-large';

export interface ClosestRegion {
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  /** 0..1: how alike old_string and these lines are (1 = equal once whitespace is ignored). */
  similarity: number;
  /** The file's lines there, each cut to EDIT_CLOSEST_LINE_CHARS. */
  lines: string[];
}

export class EditError extends ActingError<EditErrorCode> {
  constructor(
    code: EditErrorCode,
    message: string,
    /** not-found: the most similar regions, best first. */
    readonly closest: readonly ClosestRegion[] = [],
    /** ambiguous: how many times old_string occurs. */
    readonly matchCount = 0,
    /** ambiguous: 1-based lines where the matches start (at most EDIT_MAX_LISTED_MATCHES). */
    readonly matchLines: readonly number[] = [],
  ) {
    super(code, message);
    this.name = 'EditError';
  }
}

export type LineEnding = 'lf' | 'crlf' | 'mixed' | 'none';

export interface EditOutcome {
  /** The whole new text, BOM and line endings as the file had them. */
  text: string;
  /** Unified diff of the change (labels a/<path>, b/<path>). */
  diff: string;
  replacements: number;
  /** 1-based line of the first change, for "Open diff" and the recall record. */
  firstLine: number;
  added: number;
  removed: number;
  lineEnding: LineEnding;
  bom: boolean;
}

const BOM = '\uFEFF';

export function detectLineEnding(text: string): LineEnding {
  const lf = countOf(text, '\n');
  if (lf === 0) return 'none';
  const crlf = countOf(text, '\r\n');
  return crlf === 0 ? 'lf' : crlf === lf ? 'crlf' : 'mixed';
}

/** Applies the edit to `original` (the file's whole text) or throws an EditError; never partial. */
export function applyEdit(original: string, request: EditRequest): EditOutcome {
  const { path, replace_all: replaceAll = false } = request;
  if (request.old_string === '') {
    throw new EditError(
      'empty-old-string',
      `old_string is empty, so there is nothing to find in ${path}. Quote the exact lines to replace (copied from read_file), or use write_file to create or overwrite a whole file.`,
    );
  }
  if (Buffer.byteLength(original, 'utf8') > EDIT_MAX_FILE_BYTES) {
    throw new EditError('too-large', `${path} is larger than ${EDIT_MAX_FILE_BYTES} bytes; edit_file does not change files that large.`);
  }
  const bom = original.startsWith(BOM);
  const body = bom ? original.slice(1) : original;
  const lineEnding = detectLineEnding(body);
  const toFile = (s: string) => (lineEnding === 'crlf' ? s.replace(/\r?\n/g, '\r\n') : lineEnding === 'lf' ? s.replace(/\r\n/g, '\n') : s);
  const oldString = toFile(request.old_string.startsWith(BOM) ? request.old_string.slice(1) : request.old_string);
  const newString = toFile(request.new_string);
  if (oldString === newString) {
    throw new EditError(
      'no-change',
      `old_string and new_string are the same, so editing ${path} would change nothing. Give the new text in new_string.`,
    );
  }

  const starts: number[] = [];
  for (let at = body.indexOf(oldString); at !== -1; at = body.indexOf(oldString, at + oldString.length)) starts.push(at);
  const lines = new LineIndex(body);
  if (starts.length === 0) throw notFound(path, body, lines, oldString, lineEnding);
  if (starts.length > 1 && !replaceAll) {
    const matchLines = starts.slice(0, EDIT_MAX_LISTED_MATCHES).map((s) => lines.lineAt(s) + 1);
    const more = starts.length > matchLines.length ? ` (and ${starts.length - matchLines.length} more)` : '';
    throw new EditError(
      'ambiguous',
      `old_string occurs ${starts.length} times in ${path}, at lines ${matchLines.join(', ')}${more}. Nothing was changed. ` +
        'Include more surrounding lines in old_string so it matches exactly once, or set replace_all to true to change every occurrence.',
      [],
      starts.length,
      matchLines,
    );
  }

  // Build the new text in one pass and note where each replacement landed in both texts.
  const parts: string[] = [];
  const spans: { a: number; aEnd: number; b: number; bEnd: number }[] = [];
  let from = 0;
  let length = 0;
  for (const s of starts) {
    parts.push(body.slice(from, s), newString);
    length += s - from;
    spans.push({ a: s, aEnd: s + oldString.length, b: length, bEnd: length + newString.length });
    length += newString.length;
    from = s + oldString.length;
  }
  parts.push(body.slice(from));
  const newBody = parts.join('');
  const next = new LineIndex(newBody);

  // Only the lines each replacement touched can differ. A region runs from the start of the line
  // where the replacement begins to the end of the line where the text after it continues; the
  // text before and after is the same in both files, so the lines between regions are equal and
  // aligned, which is what diffRegions needs.
  const regions: LineRegion[] = [];
  for (const sp of spans) {
    const r = {
      aStart: lineStartOf(lines, sp.a),
      aEnd: lineEndAfter(lines, sp.aEnd),
      bStart: lineStartOf(next, sp.b),
      bEnd: lineEndAfter(next, sp.bEnd),
    };
    const prev = regions[regions.length - 1];
    if (prev && r.aStart < prev.aEnd) {
      prev.aEnd = Math.max(prev.aEnd, r.aEnd);
      prev.bEnd = Math.max(prev.bEnd, r.bEnd);
    } else regions.push(r);
  }
  const changes = diffRegions(lines, next, regions);
  const diff = formatUnifiedDiff(lines, next, changes, { old: `a/${path}`, new: `b/${path}` });
  return {
    text: bom ? BOM + newBody : newBody,
    diff: diff.text,
    replacements: starts.length,
    firstLine: (changes[0]?.aStart ?? regions[0]!.aStart) + 1,
    added: diff.added,
    removed: diff.removed,
    lineEnding,
    bom,
  };
}

/** The line holding offset p; at the very end of a text that ends with a newline, the (empty) line after the last. */
function lineStartOf(index: LineIndex, p: number): number {
  const t = index.text;
  return p >= t.length && (t.length === 0 || t.endsWith('\n')) ? index.count : index.lineAt(p);
}

/** One past the line holding offset p (the end of the text at its end). */
function lineEndAfter(index: LineIndex, p: number): number {
  return p >= index.text.length ? index.count : index.lineAt(p) + 1;
}

function notFound(path: string, body: string, lines: LineIndex, oldString: string, lineEnding: LineEnding): EditError {
  const { regions, scannedAll } = closestRegions(lines, oldString);
  const best = regions[0];
  let message = `old_string was not found in ${path}; nothing was changed.`;
  if (best && best.similarity === 1) {
    message += ` Lines ${best.startLine}-${best.endLine} match it if whitespace is ignored: old_string must match exactly, indentation and spaces included.`;
  }
  if (regions.length > 0) {
    message += ' The closest lines are:\n';
    message += regions
      .map(
        (r) =>
          `lines ${r.startLine}-${r.endLine} (similarity ${r.similarity.toFixed(2)}):\n${r.lines.map((l, i) => `${r.startLine + i}: ${l}`).join('\n')}`,
      )
      .join('\n');
  } else if (body.length === 0) {
    message += ' The file is empty.';
  }
  if (!scannedAll) message += `\n(Only the first ${EDIT_CLOSEST_MAX_SCAN_LINES} lines were compared.)`;
  if (lineEnding === 'mixed' && oldString.includes('\n'))
    message += '\nThis file mixes \\n and \\r\\n line endings; old_string must use the same endings as the lines it quotes.';
  message += '\nRead the file again (read_file) and copy the lines exactly.';
  return new EditError('not-found', message, regions);
}

/**
 * The regions of the file most like old_string: a window of as many lines as old_string has,
 * scored by the mean similarity of its lines (Dice coefficient over character pairs, spaces
 * ignored), slid over the file. Character-pair sets are built once per line, so the cost is
 * about (file lines × pattern lines), both bounded by limits.
 */
export function closestRegions(lines: LineIndex, oldString: string): { regions: ClosestRegion[]; scannedAll: boolean } {
  const pattern = oldString.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n').slice(0, EDIT_CLOSEST_MAX_PATTERN_LINES);
  const scan = Math.min(lines.count, EDIT_CLOSEST_MAX_SCAN_LINES);
  const k = Math.min(pattern.length, Math.max(scan, 1));
  if (scan === 0) return { regions: [], scannedAll: true };
  const pat = pattern.map(pairsOf);
  const fileCache = new Map<number, Int32Array>();
  const fileLine = (i: number) => {
    let p = fileCache.get(i);
    if (!p) fileCache.set(i, (p = pairsOf(lines.line(i))));
    return p;
  };
  const scores: { at: number; score: number }[] = [];
  for (let at = 0; at + k <= scan; at++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += dice(pat[j]!, fileLine(at + j));
    scores.push({ at, score: sum / k });
    if (fileCache.size > 4 * k) fileCache.delete(at - 1); // only the sliding window is needed
  }
  scores.sort((x, y) => y.score - x.score || x.at - y.at);
  const regions: ClosestRegion[] = [];
  for (const s of scores) {
    if (regions.length >= EDIT_CLOSEST_CANDIDATES || s.score <= 0) break;
    if (regions.some((r) => s.at + 1 <= r.endLine && s.at + k >= r.startLine)) continue; // overlapping a better one
    const shown: string[] = [];
    for (let j = 0; j < k; j++) {
      const l = lines.line(s.at + j).replace(/\r?\n$/, '');
      shown.push(l.length > EDIT_CLOSEST_LINE_CHARS ? `${l.slice(0, EDIT_CLOSEST_LINE_CHARS)}…` : l);
    }
    regions.push({ startLine: s.at + 1, endLine: s.at + k, similarity: Math.round(s.score * 100) / 100, lines: shown });
  }
  return { regions, scannedAll: scan === lines.count };
}

/** Sorted codes of the line's adjacent character pairs, whitespace removed; a 1-char line is its own "pair". */
function pairsOf(line: string): Int32Array {
  const s = line.replace(/\s+/g, '');
  if (s.length === 0) return new Int32Array(0);
  if (s.length === 1) return Int32Array.of(s.charCodeAt(0));
  const out = new Int32Array(s.length - 1);
  for (let i = 0; i + 1 < s.length; i++) out[i] = ((s.charCodeAt(i) & 0xffff) << 16) | (s.charCodeAt(i + 1) & 0xffff);
  return out.sort();
}

/** Sørensen–Dice over two sorted multisets; two blank lines count as equal. */
function dice(a: Int32Array, b: Int32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  if (a.length === 0 || b.length === 0) return 0;
  let i = 0;
  let j = 0;
  let common = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      common++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return (2 * common) / (a.length + b.length);
}

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}
