/**
 * Recall memory at 100k messages: open time, search latency (p50/p95) per
 * query shape, against a naive baseline measured in the same run: a lower-case
 * `includes` scan over every record's searchable text (what MemGPT's original
 * conversation_search does), with the lower-casing done once up front to favour
 * the baseline.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileRecallStore, RECALL_LOG_FILE } from '../src/core/memory/recallStore';
import { searchableText } from '../src/core/memory/recallText';
import { syntheticConversation, type Plants } from '../test/unit/memory/syntheticRecall';

const N = Number(process.env.RECALL_BENCH_N ?? 100_000);
const ROUNDS = 30;
const AGENT = 'agent-1';

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
function timeIt(fn: () => void, rounds: number): { p50: number; p95: number } {
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { p50: pct(t, 0.5), p95: pct(t, 0.95) };
}

/** Writes the corpus in its own scope so its memory is collectable before the store is measured. */
async function writeCorpus(dir: string): Promise<{ plants: Plants; writeMs: number; appendP50: number; bytes: number }> {
  const { records, plants } = syntheticConversation(N, AGENT, 42);
  const store = await FileRecallStore.open(dir);
  const t = performance.now();
  for (let i = 0; i < records.length; i += 2000) await store.append(records.slice(i, i + 2000));
  const writeMs = performance.now() - t;
  const lat: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    await store.append([{ ...records[i]!, time: new Date().toISOString() }]);
    lat.push(performance.now() - s);
  }
  await store.close();
  return {
    plants,
    writeMs,
    appendP50: pct(
      lat.sort((a, b) => a - b),
      0.5,
    ),
    bytes: statSync(path.join(dir, RECALL_LOG_FILE)).size,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'recall-bench-'));
  try {
    const { plants, writeMs, appendP50, bytes } = await writeCorpus(dir);
    const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const tOpen = performance.now();
    let store = await FileRecallStore.open(dir);
    const openMs = performance.now() - tOpen;
    await store.whenIndexed();
    const indexedMs = performance.now() - tOpen;
    await store.close();
    // A query right after open pays for whatever the background indexing has not done yet.
    gc();
    const tCold = performance.now();
    store = await FileRecallStore.open(dir);
    const reopenMs = performance.now() - tCold;
    const tFirst = performance.now();
    store.search(AGENT, 'timeout', 0);
    const firstSearchMs = performance.now() - tFirst;
    await store.whenIndexed();
    gc();
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;

    // Baseline corpus: the same searchable text, lower-cased once.
    const all = store.records(AGENT);
    const names = new Map<string, string>();
    const lowered = all.map((r) => {
      if (r.message.role === 'assistant') for (const c of r.message.tool_calls ?? []) names.set(c.id, c.function.name);
      return searchableText(r, (id) => names.get(id)).toLowerCase();
    });
    const baseline = (q: string): number => {
      const words = q.toLowerCase().replace(/"/g, '').split(/\s+/).filter(Boolean);
      let hits = 0;
      for (let i = lowered.length - 1; i >= 0; i--) if (words.every((w) => lowered[i]!.includes(w))) hits++;
      return hits;
    };

    const queries: { shape: string; query: string; baselineQuery: string }[] = [
      { shape: 'rare word', query: plants.rareWord, baselineQuery: plants.rareWord },
      { shape: 'common word', query: 'file', baselineQuery: 'file' },
      { shape: 'identifier', query: plants.identifier, baselineQuery: plants.identifierSnake },
      { shape: 'two words', query: 'cache timeout', baselineQuery: 'cache timeout' },
      { shape: 'phrase', query: `"${plants.phrase}"`, baselineQuery: plants.phrase },
    ];
    console.log(
      `records: ${store.count(AGENT).toLocaleString()}  log: ${(bytes / 1e6).toFixed(1)} MB  store heap (records + index): ${heapMb.toFixed(0)} MB`,
    );
    console.log(
      `write ${N.toLocaleString()} (batches of 2000): ${writeMs.toFixed(0)} ms; single append (fsync) p50 ${appendP50.toFixed(2)} ms`,
    );
    console.log(
      `open (read + verify checksums + load): ${openMs.toFixed(0)} ms, again ${reopenMs.toFixed(0)} ms  (target: well under 1000 ms)`,
    );
    console.log(
      `text index complete (background slices) ${indexedMs.toFixed(0)} ms after open began; a search issued right after open: ${firstSearchMs.toFixed(0)} ms`,
    );
    console.log('');
    console.log('query shape   query                         hits     p50 ms   p95 ms   baseline p50   speed-up');
    const p50s: number[] = [];
    for (const q of queries) {
      const res = store.search(AGENT, q.query, 0);
      const ours = timeIt(() => store.search(AGENT, q.query, 0), ROUNDS);
      const base = timeIt(() => baseline(q.baselineQuery), Math.max(5, ROUNDS / 3));
      p50s.push(ours.p50);
      console.log(
        `${q.shape.padEnd(13)} ${q.query.slice(0, 28).padEnd(29)} ${String(res.total).padStart(6)} ${ours.p50.toFixed(2).padStart(8)} ${ours.p95
          .toFixed(2)
          .padStart(8)} ${base.p50.toFixed(2).padStart(14)} ${(base.p50 / ours.p50).toFixed(1).padStart(9)}x`,
      );
    }
    const worst = Math.max(...p50s);
    console.log(`\nworst p50 ${worst.toFixed(2)} ms — target < 20 ms: ${worst < 20 ? 'MET' : 'MISSED'}`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
