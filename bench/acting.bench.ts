/**
 * edit_file on a 1 MB file: find the unique match, replace it, and prepare the unified diff the
 * approval card shows, then write the file atomically. Target: the edit and its diff under 100 ms.
 *
 * Baseline measured in the same run: the naive way, read-modify-write of the whole file plus a
 * full LCS table over all lines (O(lines²) time, a 2-bit direction per cell) to produce the diff.
 * Also shown, without targets: replace_all over the whole file, and the not-found failure (the
 * closest-lines search).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyEdit } from '../src/core/acting/editEngine';
import { formatUnifiedDiff, LineIndex, type LineChange } from '../src/core/acting/lineDiff';
import { atomicWriteFile } from '../src/core/storage/atomicFile';

const TARGET_MS = 100;
const RUNS = 30;

function sourceFile(bytes: number): string {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line =
      i % 12 === 0
        ? `export function handler${i}(request: Request, options: Options = {}): Response {`
        : i % 12 === 11
          ? '}'
          : `  const value${i} = compute(request.items[${i % 97}], options.scale ?? ${i % 13}); // step ${i}`;
    out.push(line);
    size += line.length + 1;
  }
  return `${out.join('\n')}\n`;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

/** Full LCS over lines with a 2-bit direction table, then the walk back: the textbook diff. */
function naiveLcsChanges(a: string[], b: string[]): LineChange[] {
  const n = a.length;
  const m = b.length;
  const dir = new Uint8Array(Math.ceil(((n + 1) * (m + 1)) / 4));
  const setDir = (i: number, j: number, d: number) => {
    const k = i * (m + 1) + j;
    dir[k >> 2]! |= d << ((k & 3) * 2);
  };
  const getDir = (i: number, j: number) => {
    const k = i * (m + 1) + j;
    return (dir[k >> 2]! >> ((k & 3) * 2)) & 3;
  };
  let prev = new Int32Array(m + 1);
  let cur = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      if (a[i - 1] === b[j - 1]) {
        cur[j] = prev[j - 1]! + 1;
        setDir(i, j, 1);
      } else if (prev[j]! >= cur[j - 1]!) {
        cur[j] = prev[j]!;
        setDir(i, j, 2);
      } else {
        cur[j] = cur[j - 1]!;
        setDir(i, j, 3);
      }
    }
    [prev, cur] = [cur, prev];
  }
  const ops: ('=' | '-' | '+')[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const d = i > 0 && j > 0 ? getDir(i, j) : i > 0 ? 2 : 3;
    if (d === 1) {
      ops.push('=');
      i--;
      j--;
    } else if (d === 2) {
      ops.push('-');
      i--;
    } else {
      ops.push('+');
      j--;
    }
  }
  ops.reverse();
  const changes: LineChange[] = [];
  let ai = 0;
  let bi = 0;
  for (let k = 0; k < ops.length;) {
    if (ops[k] === '=') {
      ai++;
      bi++;
      k++;
      continue;
    }
    const c = { aStart: ai, aEnd: ai, bStart: bi, bEnd: bi };
    while (k < ops.length && ops[k] !== '=') {
      if (ops[k] === '-') ai++;
      else bi++;
      k++;
    }
    c.aEnd = ai;
    c.bEnd = bi;
    changes.push(c);
  }
  return changes;
}

function splitKeep(text: string): string[] {
  const idx = new LineIndex(text);
  return Array.from({ length: idx.count }, (_, i) => idx.line(i));
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'memgpt-acting-bench-'));
  try {
    const text = sourceFile(1_000_000);
    const file = path.join(dir, 'big.ts');
    writeFileSync(file, text);
    const lines = text.split('\n').length - 1;
    console.log(`file: ${text.length} bytes, ${lines} lines`);
    const edit = (k: number) => ({
      path: 'big.ts',
      old_string: `  const value${k} = compute(`,
      new_string: `  const renamed${k} = compute(`,
    });
    const pick = (r: number) => 1 + 12 * (((r * 7919) % Math.floor(lines / 12)) | 0);

    // Ours, engine only (the edit and its diff) and end to end (read, edit + diff, atomic write).
    const engine: number[] = [];
    const endToEnd: number[] = [];
    for (let r = 0; r < RUNS + 3; r++) {
      const original = readFileSync(file, 'utf8');
      const t0 = performance.now();
      const out = applyEdit(original, edit(pick(r)));
      const t1 = performance.now();
      if (r >= 3) engine.push(t1 - t0);
      if (out.added !== 1 || out.removed !== 1) throw new Error('unexpected diff');
      const s0 = performance.now();
      const current = await readFile(file, 'utf8');
      const done = applyEdit(current, edit(pick(r + 1)));
      await atomicWriteFile(file, done.text);
      if (r >= 3) endToEnd.push(performance.now() - s0);
      writeFileSync(file, text); // every run edits the same file
    }

    // Baseline: naive read-modify-write + full LCS diff.
    const naive: number[] = [];
    let naiveDiff = '';
    for (let r = 0; r < 2; r++) {
      const k = pick(r);
      const t0 = performance.now();
      const original = readFileSync(file, 'utf8');
      const updated = original.replace(edit(k).old_string, edit(k).new_string);
      writeFileSync(file, updated);
      const changes = naiveLcsChanges(splitKeep(original), splitKeep(updated));
      naiveDiff = formatUnifiedDiff(new LineIndex(original), new LineIndex(updated), changes, { old: 'a/big.ts', new: 'b/big.ts' }).text;
      naive.push(performance.now() - t0);
      writeFileSync(file, text);
    }
    const ours = applyEdit(text, edit(pick(1))).diff;
    if (ours !== naiveDiff) throw new Error('the two diffs differ');

    const replaceAll: number[] = [];
    const notFound: number[] = [];
    for (let r = 0; r < 5; r++) {
      let t0 = performance.now();
      applyEdit(text, { path: 'big.ts', old_string: 'options.scale', new_string: 'opts.scale', replace_all: true });
      replaceAll.push(performance.now() - t0);
      t0 = performance.now();
      try {
        applyEdit(text, {
          path: 'big.ts',
          old_string: '  const value13 = compute(request.items[13], options.scale ?? 0); // step 13',
          new_string: 'x',
        });
      } catch {
        // expected: not found
      }
      notFound.push(performance.now() - t0);
    }

    const med = pct(engine, 0.5);
    const naiveMed = pct(naive, 0.5);
    console.log(`edit + diff (engine)          median ${med.toFixed(1)} ms, p95 ${pct(engine, 0.95).toFixed(1)} ms (${RUNS} runs)`);
    console.log(`read + edit + diff + atomic write  median ${pct(endToEnd, 0.5).toFixed(1)} ms, p95 ${pct(endToEnd, 0.95).toFixed(1)} ms`);
    console.log(`baseline: read-modify-write + full LCS diff  median ${naiveMed.toFixed(1)} ms (${naive.length} runs; same diff text)`);
    console.log(
      `ratio baseline / ours (edit + diff): ${(naiveMed / med).toFixed(0)}x; end to end: ${(naiveMed / pct(endToEnd, 0.5)).toFixed(0)}x`,
    );
    console.log(`replace_all (${text.split('options.scale').length - 1} matches)  median ${pct(replaceAll, 0.5).toFixed(1)} ms`);
    console.log(`not found (closest-lines search)  median ${pct(notFound, 0.5).toFixed(1)} ms`);
    console.log(`TARGET edit + diff of a 1 MB file < ${TARGET_MS} ms: ${med < TARGET_MS ? 'PASS' : 'MISS'} (median ${med.toFixed(1)} ms)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
