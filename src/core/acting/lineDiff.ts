import { DIFF_CONTEXT_LINES, DIFF_MAX_EDIT_COST, DIFF_MAX_WORK } from '../limits';

/**
 * Line diffs and their unified-diff text, written here rather than taken from a package because
 * the agent needs two things packages do not give together: a hard bound on the work (the
 * extension host's thread is the editor's thread) and a way to diff only the regions an edit
 * touched (an exact replacement knows where it changed the file, so a 1 MB file costs only the
 * lines around the change).
 *
 * Lines keep their terminator ("\n" or "\r\n"), so a changed line ending is a changed line and a
 * missing final newline is shown as "\ No newline at end of file", as git does.
 */

/** A text seen as lines without copying it: line i is text.slice(starts[i], starts[i + 1]). */
export class LineIndex {
  /** Start offset of every line, plus the text's length as a sentinel. */
  readonly starts: number[];

  constructor(readonly text: string) {
    const starts = [0];
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
    // A final newline ends the last line; it does not start an empty one.
    if (starts[starts.length - 1] !== text.length) starts.push(text.length);
    else if (text.length === 0) starts.push(0);
    this.starts = starts;
  }

  get count(): number {
    return this.text.length === 0 ? 0 : this.starts.length - 1;
  }

  line(i: number): string {
    return this.text.slice(this.starts[i]!, this.starts[i + 1]!);
  }

  /** Index of the line holding character `offset` (an offset at the very end belongs to the last line). */
  lineAt(offset: number): number {
    let lo = 0;
    let hi = Math.max(0, this.count - 1);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** One changed block: lines [aStart, aEnd) of the old text became lines [bStart, bEnd) of the new. */
export interface LineChange {
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
}

/** Where to look for changes: the caller promises that lines outside these regions are equal and aligned. */
export type LineRegion = LineChange;

/** Every change between two texts (common start and end trimmed, then a bounded Myers diff). */
export function diffLines(a: LineIndex, b: LineIndex): LineChange[] {
  return diffRegions(a, b, [{ aStart: 0, aEnd: a.count, bStart: 0, bEnd: b.count }]);
}

/** Changes inside the given regions only (sorted, non-overlapping); see LineRegion. */
export function diffRegions(a: LineIndex, b: LineIndex, regions: readonly LineRegion[]): LineChange[] {
  const out: LineChange[] = [];
  for (const r of regions) {
    let { aStart, aEnd, bStart, bEnd } = r;
    while (aStart < aEnd && bStart < bEnd && a.line(aStart) === b.line(bStart)) {
      aStart++;
      bStart++;
    }
    while (aEnd > aStart && bEnd > bStart && a.line(aEnd - 1) === b.line(bEnd - 1)) {
      aEnd--;
      bEnd--;
    }
    if (aStart === aEnd && bStart === bEnd) continue;
    // Pure insertions and deletions, and one line for one line (the common edit), need no search.
    if (aStart === aEnd || bStart === bEnd || (aEnd - aStart === 1 && bEnd - bStart === 1)) {
      out.push({ aStart, aEnd, bStart, bEnd });
      continue;
    }
    const ids = new Map<string, number>();
    const intern = (s: string) => {
      let id = ids.get(s);
      if (id === undefined) ids.set(s, (id = ids.size));
      return id;
    };
    const xa = new Int32Array(aEnd - aStart);
    const xb = new Int32Array(bEnd - bStart);
    for (let i = 0; i < xa.length; i++) xa[i] = intern(a.line(aStart + i));
    for (let j = 0; j < xb.length; j++) xb[j] = intern(b.line(bStart + j));
    const n = xa.length + xb.length;
    // The work of Myers is about (n × edit distance): cap the distance so a rewrite of a huge
    // file is shown as one replaced block instead of freezing the editor.
    const maxCost = Math.min(DIFF_MAX_EDIT_COST, Math.max(16, Math.floor(DIFF_MAX_WORK / n)));
    const found = myers(xa, xb, maxCost);
    if (!found) {
      out.push({ aStart, aEnd, bStart, bEnd });
      continue;
    }
    for (const c of found) out.push({ aStart: c.aStart + aStart, aEnd: c.aEnd + aStart, bStart: c.bStart + bStart, bEnd: c.bEnd + bStart });
  }
  return out;
}

/**
 * Myers' O((N+M)·D) greedy diff over interned lines; null when the edit distance exceeds maxCost.
 * Keeps the frontier of every round for the walk back, so memory is O(D²) (bounded by maxCost).
 */
function myers(a: Int32Array, b: Int32Array, maxCost: number): LineChange[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxCost);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2)); // frontier after round d-1, diagonals -d-1..d+1
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return walkBack(trace, d, n, m);
    }
  }
  return null;
}

function walkBack(trace: readonly Int32Array[], dEnd: number, n: number, m: number): LineChange[] {
  const deleted = new Uint8Array(n);
  const inserted = new Uint8Array(m);
  let x = n;
  let y = m;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d]!; // holds diagonals -d-1..d+1 at index k + d + 1
    const at = (k: number) => v[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    // The snake: equal lines.
    while (x > prevX && y > prevY) {
      x--;
      y--;
    }
    if (prevK === k + 1) inserted[prevY] = 1;
    else deleted[prevX] = 1;
    x = prevX;
    y = prevY;
  }
  const changes: LineChange[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if ((i < n && deleted[i]) || (j < m && inserted[j])) {
      const c = { aStart: i, aEnd: i, bStart: j, bEnd: j };
      while ((i < n && deleted[i]) || (j < m && inserted[j])) {
        while (i < n && deleted[i]) i++;
        while (j < m && inserted[j]) j++;
      }
      c.aEnd = i;
      c.bEnd = j;
      changes.push(c);
    } else {
      i++;
      j++;
    }
  }
  return changes;
}

export interface UnifiedDiff {
  /** The diff text ("" when nothing changed). */
  text: string;
  added: number;
  removed: number;
}

/** Unified-diff text of `changes` between a and b, with `context` unchanged lines around each. */
export function formatUnifiedDiff(
  a: LineIndex,
  b: LineIndex,
  changes: readonly LineChange[],
  labels: { old: string; new: string },
  context = DIFF_CONTEXT_LINES,
): UnifiedDiff {
  if (changes.length === 0) return { text: '', added: 0, removed: 0 };
  const out: string[] = [`--- ${labels.old}`, `+++ ${labels.new}`];
  let added = 0;
  let removed = 0;
  const emit = (prefix: string, line: string) => {
    const newline = line.endsWith('\n');
    out.push(prefix + line.replace(/\r?\n$/, ''));
    if (!newline) out.push('\\ No newline at end of file');
  };
  let h = 0;
  while (h < changes.length) {
    // Changes closer than two contexts share a hunk, as in diff -u.
    let last = h;
    while (last + 1 < changes.length && changes[last + 1]!.aStart - changes[last]!.aEnd <= 2 * context) last++;
    const first = changes[h]!;
    const end = changes[last]!;
    const aFrom = Math.max(0, first.aStart - context);
    const bFrom = first.bStart - (first.aStart - aFrom);
    const aTo = Math.min(a.count, end.aEnd + context);
    const bTo = end.bEnd + (aTo - end.aEnd);
    const range = (from: number, to: number) => `${to - from === 0 ? from : from + 1},${to - from}`;
    out.push(`@@ -${range(aFrom, aTo)} +${range(bFrom, bTo)} @@`);
    let ai = aFrom;
    for (let c = h; c <= last; c++) {
      const ch = changes[c]!;
      for (; ai < ch.aStart; ai++) emit(' ', a.line(ai));
      for (let i = ch.aStart; i < ch.aEnd; i++) emit('-', a.line(i));
      for (let j = ch.bStart; j < ch.bEnd; j++) emit('+', b.line(j));
      removed += ch.aEnd - ch.aStart;
      added += ch.bEnd - ch.bStart;
      ai = ch.aEnd;
    }
    for (; ai < aTo; ai++) emit(' ', a.line(ai));
    h = last + 1;
  }
  return { text: `${out.join('\n')}\n`, added, removed };
}

/**
 * The unified diff of a whole-file change (write_file, or any two texts). `oldText` undefined
 * means the file is new: its label is /dev/null, as git shows a created file.
 */
export function unifiedDiff(path: string, oldText: string | undefined, newText: string): UnifiedDiff {
  const a = new LineIndex(oldText ?? '');
  const b = new LineIndex(newText);
  return formatUnifiedDiff(a, b, diffLines(a, b), { old: oldText === undefined ? '/dev/null' : `a/${path}`, new: `b/${path}` });
}
