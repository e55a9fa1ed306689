/**
 * The on-disk recall index (recallIndex.ts): recall opens without reading the log's records,
 * answers exactly what a brute-force scan of the log answers (text, dates, paging, ids) while
 * records move from the in-memory tail to segments and merged segments, survives SIGKILL in the
 * middle of a flush, and rebuilds itself — saying so — when its files are damaged or stale.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { FileRecallStore, RECALL_LOG_FILE, type NewRecallRecord } from '../../../src/core/memory/recallStore';
import { RECALL_INDEX_DIR } from '../../../src/core/memory/recallIndex';
import { crc32 } from '../../../src/core/memory/recallSegment';
import { RECALL_WORKER_REBUILD_MIN_BYTES } from '../../../src/core/limits';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import { AppendLog } from '../../../src/core/storage/appendLog';
import { NoticeBoard } from '../../../src/core/storage/notices';
import { searchableText } from '../../../src/core/memory/recallText';
import { startChild } from '../../fixtures/childProcess';
import { prng } from './syntheticRecall';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'recall-index-'));
const opened: FileRecallStore[] = [];
after(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
});
async function open(dir: string, options?: Parameters<typeof FileRecallStore.open>[1]): Promise<FileRecallStore> {
  const s = await FileRecallStore.open(dir, options);
  opened.push(s);
  return s;
}

// --- a randomized corpus and an independent brute-force reference ---------------------------

const VOCAB = 'alpha beta gamma delta epsilon cache timeout config configuration settings panel open the of to server'.split(' ');
const IDENTS = [
  'parseConfig',
  'parse_config',
  'ParseConfig',
  'loadUser',
  'load_user',
  'HTTPServer2',
  'parse config',
  'parseConfigLoadUser',
  'parse config load users',
];

function corpus(n: number, seed: number): NewRecallRecord[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const base = Date.UTC(2024, 0, 1);
  const out: NewRecallRecord[] = [];
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 2 + Math.floor(rnd() * 8) }, () => (rnd() < 0.2 ? pick(IDENTS) : pick(VOCAB)));
    if (rnd() < 0.1) words.push('Open the  Settings panel');
    // Mostly in order, sometimes a clock jump back (date search must sort by time, not by store order).
    const time = new Date(base + i * 3_600_000 - (rnd() < 0.1 ? 86_400_000 * 3 : 0)).toISOString();
    const agentId = rnd() < 0.75 ? 'a' : 'b';
    const text = words.join(' ');
    const r = rnd();
    if (r < 0.6) out.push({ agentId, time, kind: 'user', message: { role: 'user', content: text } });
    else if (r < 0.8) {
      out.push({
        agentId,
        time,
        kind: 'assistant',
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'send_message', arguments: JSON.stringify({ message: text }) } }],
        },
      });
    } else if (r < 0.9) {
      const fn = rnd() < 0.5 ? 'conversation_search' : 'read_file';
      out.push({
        agentId,
        time,
        kind: 'assistant',
        message: {
          role: 'assistant',
          content: 'looking',
          tool_calls: [{ id: `t${i}`, type: 'function', function: { name: fn, arguments: '{}' } }],
        },
      });
      out.push({
        agentId,
        time,
        kind: 'tool',
        message: { role: 'tool', tool_call_id: `t${i}`, content: JSON.stringify({ status: 'OK', message: text }) },
      });
    } else out.push({ agentId, time, kind: 'summary', message: { role: 'system', content: text } });
  }
  return out;
}

function referenceParts(text: string): string[] {
  const out: string[] = [];
  for (const w of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    for (const p of w.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[^0-9])(?=[0-9])|(?<=[0-9])(?=[^0-9])/))
      out.push(p.toLowerCase());
  }
  return out;
}
function referenceMatch(text: string, word: string): boolean {
  const q = referenceParts(word);
  const seq = referenceParts(text);
  const whole = (text.match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.toLowerCase());
  const eq = (s: string, t: string, last: boolean): boolean => (last && t.length >= 3 ? s.startsWith(t) : s === t);
  if (q.length === 1) return seq.some((s) => eq(s, q[0]!, true)) || whole.some((s) => eq(s, q[0]!, true));
  for (let i = 0; i + q.length <= seq.length; i++) if (q.every((t, j) => eq(seq[i + j]!, t, j === q.length - 1))) return true;
  return false;
}
function referencePhrase(text: string, phrase: string): boolean {
  const norm = text.toLowerCase().replace(/\s+/g, ' ');
  for (let i = norm.indexOf(phrase); i !== -1; i = norm.indexOf(phrase, i + 1))
    if (i === 0 || !/[\p{L}\p{N}]/u.test(norm[i - 1]!)) return true;
  return false;
}

/** Every record in the log, read the slow way, with its searchable text. */
async function bruteForce(dir: string): Promise<{ records: RecallRecord[]; text: Map<string, string> }> {
  const { log, entries } = await AppendLog.open<RecallRecord>(path.join(dir, RECALL_LOG_FILE), { readOnly: true });
  await log.close();
  const names = new Map<string, string>();
  const text = new Map<string, string>();
  for (const r of entries) {
    if (r.message.role === 'assistant') for (const c of r.message.tool_calls ?? []) names.set(c.id, c.function.name);
    text.set(
      r.id,
      searchableText(r, (id) => names.get(id)),
    );
  }
  return { records: entries, text };
}

const QUERIES = [
  'alpha',
  'con',
  'config',
  'parseConfig',
  'parse_config',
  'parseConf',
  'cache timeout',
  'load',
  'http server',
  'httpServer',
  '"open the settings panel"',
  '"settings pa"',
  '"the"',
  'the',
  'zzz',
  'server2',
  'parse_config_load_user',
  'ConfigLoadUs',
  'parseConfigLoadUser gamma',
];

function expectedSearch(ref: { records: RecallRecord[]; text: Map<string, string> }, agentId: string, q: string): string[] {
  const phrases = [...q.matchAll(/"([^"]*)"/g)].map((m) => m[1]!.toLowerCase().replace(/\s+/g, ' ').trim());
  const words = q
    .replace(/"[^"]*"/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  const out: string[] = [];
  for (let i = ref.records.length - 1; i >= 0; i--) {
    const r = ref.records[i]!;
    if (r.agentId !== agentId) continue;
    const t = ref.text.get(r.id)!;
    if (words.every((w) => referenceMatch(t, w)) && phrases.every((p) => referencePhrase(t, p))) out.push(r.id);
  }
  return out;
}

function allPages(s: FileRecallStore, agentId: string, q: string): { ids: string[]; total: number } {
  const ids: string[] = [];
  const first = s.search(agentId, q, 0, 100);
  for (let p = 0; p < Math.max(1, first.pageCount); p++) ids.push(...s.search(agentId, q, p, 100).records.map((r) => r.id));
  return { ids, total: first.total };
}

async function assertMatchesLog(s: FileRecallStore, dir: string, label: string, seed: number): Promise<void> {
  const ref = await bruteForce(dir);
  for (const agentId of ['a', 'b']) {
    for (const q of QUERIES) {
      const expected = expectedSearch(ref, agentId, q);
      const got = allPages(s, agentId, q);
      assert.equal(got.total, expected.length, `${label}: total for ${agentId} ${JSON.stringify(q)}`);
      assert.deepEqual(got.ids, expected, `${label}: results for ${agentId} ${JSON.stringify(q)}`);
    }
    const mine = ref.records.filter((r) => r.agentId === agentId);
    assert.equal(s.count(agentId), mine.length, `${label}: count`);
    // Date search: random ranges, every page, against sorting the log by (time, store order).
    const rnd = prng(seed);
    for (let k = 0; k < 4; k++) {
      const a = Date.UTC(2024, 0, 1) + Math.floor(rnd() * 40) * 86_400_000;
      const b = a + Math.floor(rnd() * 30) * 86_400_000;
      const [from, to] = [new Date(a).toISOString().slice(0, 10), new Date(b).toISOString().slice(0, 10)];
      const lo = Date.UTC(Number(from.slice(0, 4)), Number(from.slice(5, 7)) - 1, Number(from.slice(8, 10)));
      const hi = Date.UTC(Number(to.slice(0, 4)), Number(to.slice(5, 7)) - 1, Number(to.slice(8, 10)), 23, 59, 59, 999);
      const expected = mine
        .map((r, i) => ({ r, i, t: Date.parse(r.time) }))
        .filter((x) => x.t >= lo && x.t <= hi)
        .sort((x, y) => x.t - y.t || x.i - y.i)
        .map((x) => x.r.id);
      const first = s.searchDate(agentId, from, to, 0, 37);
      assert.equal(first.total, expected.length, `${label}: date total ${from}..${to}`);
      const got: string[] = [];
      for (let p = 0; p < first.pageCount; p++) got.push(...s.searchDate(agentId, from, to, p, 37).records.map((r) => r.id));
      assert.deepEqual(got, expected, `${label}: date results ${from}..${to}`);
    }
    // History paging and ids.
    const seqs = mine.map((r) => r.seq);
    const before = seqs[Math.floor(seqs.length / 2)]!;
    assert.deepEqual(
      s.page(agentId, before, 25).map((r) => r.id),
      mine
        .filter((r) => r.seq < before)
        .slice(-25)
        .map((r) => r.id),
      `${label}: page`,
    );
    assert.deepEqual(
      s.page(agentId, undefined, 7).map((r) => r.id),
      mine.slice(-7).map((r) => r.id),
      `${label}: newest page`,
    );
    const someIds = [mine[0]!.id, 'r999999', mine[mine.length - 1]!.id, mine[Math.floor(mine.length / 3)]!.id];
    assert.deepEqual(
      s.get(someIds).map((r) => r.id),
      someIds.filter((id) => id !== 'r999999'),
      `${label}: get`,
    );
  }
}

test('queries equal a brute-force scan of the log: in the tail, across flushed and merged segments, and after reopen', async () => {
  const dir = tmp();
  const records = corpus(1500, 11);
  let s = await open(dir, { timeZone: 'utc', indexFlushDocs: 32 });
  await s.append(records.slice(0, 20));
  await assertMatchesLog(s, dir, 'tail only', 1);
  for (let i = 20; i < records.length; i += 97) await s.append(records.slice(i, i + 97));
  await s.whenIndexed();
  await assertMatchesLog(s, dir, 'segments + tail', 2);
  await s.close();
  s = await open(dir, { timeZone: 'utc', indexFlushDocs: 32 });
  assert.equal(s.indexReport.state, 'opened');
  await assertMatchesLog(s, dir, 'reopened', 3);
  // A merge happened: fewer segments than flushes.
  const segs = readdirSync(path.join(dir, RECALL_INDEX_DIR)).filter((f) => f.endsWith('.rsg'));
  assert.ok(segs.length < Math.floor(records.length / 32) / 2, `segments were merged (${segs.length} files)`);
});

test('opening reads the index, not the log: a few parses for thousands of records', async () => {
  const dir = tmp();
  const s = await open(dir, { indexFlushDocs: 256 });
  const records = corpus(3000, 5);
  for (let i = 0; i < records.length; i += 500) await s.append(records.slice(i, i + 500));
  await s.close();
  const parse = JSON.parse;
  let parses = 0;
  JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    parses++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  let again: FileRecallStore;
  try {
    again = await open(dir);
  } finally {
    JSON.parse = parse;
  }
  assert.ok(parses < 50, `open parsed ${parses} JSON texts for ${records.length} records`);
  assert.equal(again.indexReport.readFromLog, 0);
  assert.equal(again.count(), records.length);
  assert.equal(again.search('a', 'alpha', 0).total > 0, true);
});

/**
 * Kills a child appending to the store (SIGKILL, at random points, four times), then checks
 * that every acknowledged record is in the log and in recall and that the index equals the log.
 * With `worker`, the child writes every tail in a worker thread; returns the `tails` lines seen.
 */
async function killWhileAppending(mode: 'here' | 'worker'): Promise<string[]> {
  const dir = tmp();
  const bin = tmp();
  const outfile = path.join(bin, 'recallIndexChild.js');
  const build = (entry: string, out: string): void => {
    buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error' });
  };
  build(path.join(__dirname, 'children', 'recallIndexChild.ts'), outfile);
  // The worker script where a bundle looks for it: beside the bundle.
  if (mode === 'worker') {
    build(
      path.join(__dirname, '..', '..', '..', 'src', 'core', 'memory', 'recallRebuildWorker.ts'),
      path.join(bin, 'recallRebuildWorker.js'),
    );
  }
  const tailLines: string[] = [];
  const acked: string[] = [];
  let next = 0;
  const rnd = prng(3);
  for (let round = 0; round < 4; round++) {
    const child = startChild(outfile, [dir, String(next), ...(mode === 'worker' ? ['worker'] : [])], 'recallIndexChild');
    await child.waitForLine((l) => l.startsWith('open '));
    const target = acked.length + 20 + Math.floor(rnd() * 60);
    await child.waitForLine(() => child.lines.filter((l) => l.startsWith('ack ')).length >= target - acked.length);
    // On a busy machine a worker's first tail write can take longer than the acknowledgements
    // above: wait until this child has finished one, so the kill does cut a running worker's
    // store (and a later one's write) rather than only appends made before any worker wrote.
    if (mode === 'worker') await child.waitForLine((l) => l.startsWith('tails ') && Number(l.slice(6)) > 0);
    await new Promise((r) => setTimeout(r, Math.floor(rnd() * 40)));
    await child.kill();
    for (const l of child.lines) if (l.startsWith('ack ')) acked.push(...l.slice(4).split(','));
    tailLines.push(...child.lines.filter((l) => l.startsWith('tails ')));
    // Numbers continue after the largest the log may hold (acknowledged or not).
    next = (await bruteForce(dir)).records.length + 10_000 * (round + 1);
  }
  const s = await open(dir);
  // The index kept up through the kills (a flush cut short is invisible: the manifest never named it).
  assert.ok(s.indexReport.state === 'opened' || s.indexReport.state === 'rebuilt', `index ${s.indexReport.state}`);
  const ref = await bruteForce(dir);
  // A worker's start makes each tail write slower, so more is left unflushed at a kill; each child
  // finished at least one worker write before its kill, so at least part of the log was indexed.
  const readBackBound = mode === 'here' ? 200 : ref.records.length;
  assert.ok(s.indexReport.readFromLog < readBackBound, `open read back only the unflushed tail (${s.indexReport.readFromLog} records)`);
  const inLog = new Set(ref.records.map((r) => (r.message.role === 'user' ? r.message.content.split(' ')[0] : '')));
  for (const m of acked) assert.ok(inLog.has(m), `acknowledged ${m} is in the log`);
  const found = new Set(
    [...s.search('a', 'alpha', 0, 1).records, ...s.records('a'), ...s.records('b')].map((r) =>
      r.message.role === 'user' ? r.message.content.split(' ')[0] : '',
    ),
  );
  for (const m of acked) assert.ok(found.has(m), `acknowledged ${m} is in recall`);
  for (const agentId of ['a', 'b']) {
    for (const q of ['alpha', 'parseConfig', 'cache timeout', '"settings panel"']) {
      assert.deepEqual(allPages(s, agentId, q).ids, expectedSearch(ref, agentId, q), `after kills: ${agentId} ${q}`);
    }
  }
  const first = (r: RecallRecord): string => (r.message.role === 'user' ? r.message.content.split(' ')[0]! : '');
  for (const m of acked.filter((_, i) => i % 17 === 0)) {
    const hits = [...s.search('a', m, 0, 100).records, ...s.search('b', m, 0, 100).records].filter((r) => first(r) === m);
    assert.equal(hits.length, 1, `${m} is searchable`);
  }
  return tailLines;
}

test('a flush cut by SIGKILL loses nothing: every acknowledged record is found and the index equals the log', async () => {
  await killWhileAppending('here');
});

test('a tail write in a worker thread cut by SIGKILL loses nothing: the store reopens and reads back what its index lacks', async () => {
  const tails = await killWhileAppending('worker');
  // The children really wrote tails in worker threads (a tail write is in flight nearly all the time, so the kills cut some).
  assert.ok(
    tails.some((l) => Number(l.slice(6)) > 0),
    `tails written by a worker: ${tails.slice(-3).join('; ')}`,
  );
});

async function storeOnDisk(n: number): Promise<string> {
  const dir = tmp();
  const s = await FileRecallStore.open(dir, { timeZone: 'utc', indexFlushDocs: 64 });
  const records = corpus(n, 9);
  for (let i = 0; i < records.length; i += 50) await s.append(records.slice(i, i + 50));
  await s.close();
  return dir;
}

function segmentFiles(dir: string): string[] {
  return readdirSync(path.join(dir, RECALL_INDEX_DIR))
    .filter((f) => f.endsWith('.rsg'))
    .map((f) => path.join(dir, RECALL_INDEX_DIR, f));
}

test('a cut segment file or an unreadable manifest is found at open, rebuilt from the log, and the user told', async () => {
  const dir = await storeOnDisk(600);
  truncateSync(segmentFiles(dir)[0]!, 100);
  const notices = new NoticeBoard();
  let s = await open(dir, { timeZone: 'utc', notices });
  assert.equal(s.indexReport.state, 'rebuilt');
  assert.match(notices.list().join('\n'), /recall index .* was rebuilt from the recall log because .*damaged.*nothing was lost/);
  await assertMatchesLog(s, dir, 'rebuilt after a cut segment', 4);
  await s.close();

  writeFileSync(path.join(dir, RECALL_INDEX_DIR, 'manifest.json'), '{"format": 1, "logBytes": ');
  const notices2 = new NoticeBoard();
  s = await open(dir, { timeZone: 'utc', notices: notices2 });
  assert.equal(s.indexReport.state, 'rebuilt');
  assert.match(notices2.list().join('\n'), /manifest is unreadable/);
  await assertMatchesLog(s, dir, 'rebuilt after a bad manifest', 5);
  await s.close();

  // Deleted: built again without alarming anyone (nothing was wrong with the memory).
  rmSync(path.join(dir, RECALL_INDEX_DIR), { recursive: true });
  const notices3 = new NoticeBoard();
  s = await open(dir, { timeZone: 'utc', notices: notices3 });
  assert.equal(s.indexReport.state, 'built');
  assert.deepEqual(notices3.list(), []);
  await assertMatchesLog(s, dir, 'built after deletion', 6);
});

test('flipped bytes inside a segment are found by the background check and repaired, with a notice', async () => {
  const dir = await storeOnDisk(600);
  const file = segmentFiles(dir)[0]!;
  const bytes = readFileSync(file);
  // 100 bytes in the middle of the body (the header, at the end of the file, is checked at open).
  const bodyEnd = bytes.length - 4 - bytes.readUInt32LE(bytes.length - 4);
  const mid = Math.floor((8 + bodyEnd) / 2);
  for (let i = mid; i < mid + 100; i++) bytes[i] = bytes[i]! ^ 0x5a;
  writeFileSync(file, bytes);
  const notices = new NoticeBoard();
  const s = await open(dir, { timeZone: 'utc', notices });
  assert.equal(s.indexReport.state, 'opened', 'the size and header still match: open stays quick');
  await s.whenIndexed();
  const said = notices.list().join('\n');
  assert.match(said, /is damaged \(its contents do not match their checksum\)\. It is being rebuilt from the recall log/);
  assert.match(said, /was rebuilt from the recall log/);
  await assertMatchesLog(s, dir, 'repaired in the background', 7);
});

test('a replaced log makes the index stale: rebuilt, never answered from the old index', async () => {
  const dir = await storeOnDisk(300);
  const other = await storeOnDisk(200);
  writeFileSync(path.join(dir, RECALL_LOG_FILE), readFileSync(path.join(other, RECALL_LOG_FILE)));
  const notices = new NoticeBoard();
  const s = await open(dir, { timeZone: 'utc', notices });
  assert.equal(s.indexReport.state, 'rebuilt');
  assert.match(notices.list().join('\n'), /recall log (was replaced|is shorter)/);
  await assertMatchesLog(s, dir, 'after a replaced log', 8);
});

test('a large log is indexed in a worker thread: the same answers, the event loop free meanwhile', async (t) => {
  const dir = tmp();
  // Long messages, so the log passes the size from which a worker does the work.
  const padding = ' lorem ipsum dolor sit amet'.repeat(200);
  const records = corpus(1500, 13).map((r) =>
    r.message.role === 'user' ? { ...r, message: { ...r.message, content: r.message.content + padding } } : r,
  );
  let s = await open(dir, { timeZone: 'utc', indexFlushDocs: 64 });
  for (let i = 0; i < records.length; i += 100) await s.append(records.slice(i, i + 100));
  await s.close();
  const logBytes = statSync(path.join(dir, RECALL_LOG_FILE)).size;
  assert.ok(logBytes >= RECALL_WORKER_REBUILD_MIN_BYTES, `the log is ${logBytes} bytes`);
  rmSync(path.join(dir, RECALL_INDEX_DIR), { recursive: true });

  // A timer keeps firing while the index is built: this thread only waits for the worker.
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 2);
  try {
    s = await open(dir, { timeZone: 'utc', indexFlushDocs: 64 });
  } finally {
    clearInterval(timer);
  }
  assert.equal(s.indexReport.state, 'built');
  assert.equal(s.indexReport.inWorker, true, 'built in a worker thread');
  assert.equal(s.indexReport.readFromLog, records.length);
  assert.equal(s.count(), records.length);
  t.diagnostic(`longest gap between timer ticks while the worker built the index: ${longest.toFixed(0)} ms`);
  await assertMatchesLog(s, dir, 'built in a worker', 9);
  await s.close();
  s = await open(dir, { timeZone: 'utc', indexFlushDocs: 64 });
  assert.equal(s.indexReport.state, 'opened', 'what the worker wrote opens as it is');
  await assertMatchesLog(s, dir, 'reopened after the worker', 10);
});

/** Every page of a query, as far as it goes (a bounded total promises pages that may come back short). */
function pagesUntilShort(
  s: FileRecallStore,
  agentId: string,
  q: string,
  size: number,
): { ids: string[]; last: ReturnType<FileRecallStore['search']> } {
  const ids: string[] = [];
  for (let p = 0; ; p++) {
    const r = s.search(agentId, q, p, size);
    ids.push(...r.records.map((x) => x.id));
    if (r.records.length < size) return { ids, last: r };
    assert.ok(p < 10_000, `paging ${JSON.stringify(q)} ends`);
  }
}

test('word and AND queries read the newest sources first and stop at the page: a word only in the oldest segment, a bounded total that pages down to the exact count', async () => {
  const dir = tmp();
  const records = corpus(1500, 21).map((r, i) => {
    if (r.message.role !== 'user') return r;
    // One word only in the oldest records (absent from every newer segment and the tail), one only in the middle.
    const extra = i < 60 ? ' zephyrold' : i >= 700 && i < 720 ? ' quasarmid' : '';
    return { ...r, message: { ...r.message, content: r.message.content + extra } };
  });
  const s = await open(dir, { timeZone: 'utc', indexFlushDocs: 32, postingsForTotal: 0 });
  for (let i = 0; i < records.length; i += 97) await s.append(records.slice(i, i + 97));
  await s.whenIndexed();
  assert.ok(segmentFiles(dir).length >= 3, 'several segments');
  const ref = await bruteForce(dir);
  const queries = [
    ...QUERIES,
    'zephyrold',
    'zephyrold alpha',
    'alpha zephyrold',
    'zephyr',
    'quasarmid cache',
    'quasarmid zephyrold',
    'alpha beta',
  ];
  let bounded = 0;
  for (const agentId of ['a', 'b']) {
    for (const q of queries) {
      const expected = expectedSearch(ref, agentId, q);
      const first = s.search(agentId, q, 0, 7);
      if (first.totalIsUpperBound) {
        bounded++;
        assert.ok(
          first.total >= expected.length,
          `${agentId} ${q}: a bound (${first.total}) is never below the count (${expected.length})`,
        );
      } else assert.equal(first.total, expected.length, `${agentId} ${q}: exact total`);
      assert.deepEqual(
        first.records.map((r) => r.id),
        expected.slice(0, 7),
        `${agentId} ${q}: first page`,
      );
      const { ids, last } = pagesUntilShort(s, agentId, q, 7);
      assert.deepEqual(ids, expected, `${agentId} ${q}: every page`);
      assert.equal(last.total, expected.length, `${agentId} ${q}: once read to the end the total is the count`);
      assert.equal(last.totalIsUpperBound, undefined, `${agentId} ${q}: and says so`);
      // A page past the end after that is empty, with the exact count.
      const beyond = s.search(agentId, q, last.pageCount + 1, 7);
      assert.deepEqual(beyond.records, []);
      assert.equal(beyond.total, expected.length);
    }
  }
  // Common words filled their first page from the newest sources without reading the rest.
  assert.ok(bounded >= 6, `${bounded} first pages were answered before every source was read`);
  assert.equal(s.search('a', 'zephyrold', 0, 100).total, expectedSearch(ref, 'a', 'zephyrold').length);

  // With the default budget a store this small is read whole: totals are exact from the first page.
  await s.close();
  const whole = await open(dir, { timeZone: 'utc', indexFlushDocs: 32 });
  for (const q of ['alpha', 'cache timeout', 'zephyrold alpha']) {
    const r = whole.search('a', q, 0, 5);
    assert.equal(r.totalIsUpperBound, undefined, q);
    assert.equal(r.total, expectedSearch(ref, 'a', q).length, q);
  }
});

test('a query paged while a flush and a merge swap the segments under it answers as the log does and finds no damage', async () => {
  const dir = tmp();
  const notices = new NoticeBoard();
  const records = corpus(1200, 23);
  const s = await open(dir, { timeZone: 'utc', indexFlushDocs: 32, postingsForTotal: 0, notices });
  await s.append(records.slice(0, 600));
  await s.whenIndexed();
  let merges = 0;
  for (let round = 0; round < 12; round++) {
    const before = segmentFiles(dir).length;
    // A full tail: its flush (and every eighth round a merge, which closes the segments it joins) runs while the query pages.
    await s.append(records.slice(600 + round * 32, 632 + round * 32));
    const pages = [s.search('a', 'alpha', 0, 3)];
    await s.whenIndexed();
    if (segmentFiles(dir).length <= before) merges++;
    for (let p = 1; p < 6; p++) pages.push(s.search('a', 'alpha', p, 3));
    const expected = expectedSearch(await bruteForce(dir), 'a', 'alpha');
    assert.deepEqual(
      pages.flatMap((r) => r.records.map((x) => x.id)),
      expected.slice(0, 18),
      `round ${round}`,
    );
  }
  assert.ok(merges >= 1, `${merges} merges ran under a paged query`);
  assert.deepEqual(notices.list(), [], 'no damage was reported');
});

test('an index written in segment format 1 (header first, block index inside it) still opens and answers as the log does', async () => {
  const dir = await storeOnDisk(600);
  const manifestFile = path.join(dir, RECALL_INDEX_DIR, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { segments: { file: string; bytes: number; headerCrc: number }[] };
  for (const meta of manifest.segments) {
    const file = path.join(dir, RECALL_INDEX_DIR, meta.file);
    const v2 = readFileSync(file);
    assert.equal(v2.toString('latin1', 0, 8), 'MGRSEG02');
    const hlen = v2.readUInt32LE(v2.length - 4);
    const header = JSON.parse(v2.toString('utf8', v2.length - 4 - hlen, v2.length - 4)) as Record<string, unknown> & {
      bodyBytes: number;
      blocks: number;
      blocksAt: number;
    };
    const body = v2.subarray(8, 8 + header.bodyBytes);
    // The same body (offsets count from its start in both formats); the block index moves into the header.
    const keysAt = header.blocksAt + header.blocks * 12;
    const blocks: [string, number, number][] = [];
    for (let i = 0; i < header.blocks; i++) {
      const e = header.blocksAt + i * 12;
      const keyStart = i === 0 ? 0 : body.readUInt32LE(e - 12 + 8);
      blocks.push([
        body.toString('utf8', keysAt + keyStart, keysAt + body.readUInt32LE(e + 8)),
        body.readUInt32LE(e),
        body.readUInt32LE(e + 4),
      ]);
    }
    const v1Header = { ...header, format: 1, blocks };
    delete (v1Header as Record<string, unknown>).blocksAt;
    delete (v1Header as Record<string, unknown>).blockKeysBytes;
    const hbuf = Buffer.from(JSON.stringify(v1Header), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(hbuf.length);
    const v1 = Buffer.concat([Buffer.from('MGRSEG01', 'latin1'), len, hbuf, body]);
    writeFileSync(file, v1);
    meta.bytes = v1.length;
    meta.headerCrc = crc32(hbuf);
  }
  writeFileSync(manifestFile, JSON.stringify(manifest));
  const notices = new NoticeBoard();
  const s = await open(dir, { timeZone: 'utc', notices });
  assert.equal(s.indexReport.state, 'opened');
  await assertMatchesLog(s, dir, 'format 1 segments', 9);
  await s.whenIndexed();
  assert.deepEqual(notices.list(), [], 'the background check passed them');
});

test('large merges run in a worker thread: the segments answer while it works, and the merged index equals the log', async () => {
  const dir = tmp();
  const records = corpus(1200, 31);
  // Every merge goes to a worker here (by default only those of 16,384 records or more do).
  let s = await open(dir, { timeZone: 'utc', indexFlushDocs: 32, workerMergeMinDocs: 0 });
  for (let i = 0; i < records.length; i += 64) {
    await s.append(records.slice(i, i + 64));
    // Queried while the flush (and every eighth time a merge) is under way; then each tail is one segment.
    const ref = await bruteForce(dir);
    assert.deepEqual(allPages(s, 'a', 'cache timeout').ids, expectedSearch(ref, 'a', 'cache timeout'));
    await s.whenIndexed();
  }
  await s.whenIndexed();
  assert.ok(s.mergesInWorker >= 2, `${s.mergesInWorker} merges ran in a worker`);
  await assertMatchesLog(s, dir, 'merged in a worker', 10);
  await s.close();
  s = await open(dir, { timeZone: 'utc', indexFlushDocs: 32 });
  assert.equal(s.indexReport.state, 'opened');
  await assertMatchesLog(s, dir, 'reopened after worker merges', 11);
  await s.whenIndexed();
});

test('tails written by a worker thread: queries during the write see every record exactly once, and the files equal those written here', async () => {
  const records = corpus(700, 41);
  const build = async (workerTailMinDocs: number | undefined): Promise<{ dir: string; during: number; tails: number }> => {
    const dir = tmp();
    // Every tail goes to a worker with 0 (by default only those of 1,024 records or more do); merges stay here.
    const s = await open(dir, { timeZone: 'utc', indexFlushDocs: 64, workerMergeMinDocs: 1e9, workerTailMinDocs });
    let during = 0;
    for (let i = 0; i < records.length; i += 50) {
      await s.append(records.slice(i, i + 50));
      const ref = await bruteForce(dir);
      const written = s.tailsInWorker;
      let idle = false;
      const indexed = s.whenIndexed().then(() => (idle = true));
      // Queried over and over while the tail is being written: each time as the log answers, no record twice.
      do {
        for (const q of ['alpha', '"settings panel"', 'parseConfig']) {
          const got = allPages(s, 'a', q);
          assert.equal(new Set(got.ids).size, got.ids.length, `no record twice for ${q}`);
          assert.deepEqual(got.ids, expectedSearch(ref, 'a', q), `${q} while the tail is written`);
          assert.equal(got.total, got.ids.length);
        }
        assert.equal(s.count('a') + s.count('b'), ref.records.length);
        if (!idle && s.tailsInWorker === written && workerTailMinDocs === 0) during++;
        await new Promise((r) => setTimeout(r, 2));
      } while (!idle);
      await indexed;
    }
    const tails = s.tailsInWorker;
    await assertMatchesLog(s, dir, workerTailMinDocs === 0 ? 'tails from a worker' : 'tails written here', 12);
    await s.close();
    return { dir, during, tails };
  };
  const inWorker = await build(0);
  const here = await build(undefined);
  assert.ok(inWorker.tails >= 8, `${inWorker.tails} tails written by a worker`);
  assert.equal(here.tails, 0, 'small tails are written on this thread by default');
  assert.ok(inWorker.during > 0, `${inWorker.during} query rounds ran while a worker was writing`);
  // The same tails give the same segments, byte for byte, whichever thread wrote them.
  const files = (dir: string): string[] => readdirSync(path.join(dir, RECALL_INDEX_DIR)).sort();
  assert.deepEqual(files(inWorker.dir), files(here.dir));
  for (const f of files(here.dir)) {
    assert.ok(
      readFileSync(path.join(inWorker.dir, RECALL_INDEX_DIR, f)).equals(readFileSync(path.join(here.dir, RECALL_INDEX_DIR, f))),
      `${f} is the same`,
    );
  }
  const s = await open(inWorker.dir, { timeZone: 'utc', indexFlushDocs: 64 });
  assert.equal(s.indexReport.state, 'opened');
  assert.ok(s.indexReport.readFromLog < 64, `reopened reading back only the unflushed tail (${s.indexReport.readFromLog})`);
  await assertMatchesLog(s, inWorker.dir, 'reopened after worker tails', 13);
});

/** Rewrites segments as written before word pairs: the same file with `wordPairs` gone from its header (the manifest updated). */
function stripWordPairs(dir: string, which: (i: number) => boolean): number {
  const manifestFile = path.join(dir, RECALL_INDEX_DIR, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { segments: { file: string; bytes: number; headerCrc: number }[] };
  let stripped = 0;
  manifest.segments.forEach((meta, i) => {
    if (!which(i)) return;
    const file = path.join(dir, RECALL_INDEX_DIR, meta.file);
    const old = readFileSync(file);
    const hlen = old.readUInt32LE(old.length - 4);
    const header = JSON.parse(old.toString('utf8', old.length - 4 - hlen, old.length - 4)) as Record<string, unknown>;
    assert.equal(header.wordPairs, true, `${meta.file} was written with word pairs`);
    delete header.wordPairs;
    const headerBuf = Buffer.from(JSON.stringify(header), 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(headerBuf.length);
    const next = Buffer.concat([old.subarray(0, old.length - 4 - hlen), headerBuf, len]);
    writeFileSync(file, next);
    meta.bytes = next.length;
    meta.headerCrc = crc32(headerBuf);
    stripped++;
  });
  writeFileSync(manifestFile, JSON.stringify(manifest));
  return stripped;
}

test('a phrase is narrowed by its word pairs: the same answers as the log with and without them, far fewer candidates with', async () => {
  const dir = tmp();
  const rnd = prng(77);
  const base = Date.UTC(2024, 0, 1);
  // Both words in nearly every record, next to each other (in this order) in about one in fifty.
  const records: NewRecallRecord[] = Array.from({ length: 1600 }, (_, i) => {
    const words = ['timeout', 'of', 'the', 'cache', 'was', 'long'];
    if (rnd() < 0.02) words.splice(3, 0, 'cache', 'Timeout,');
    if (rnd() < 0.015) words.push('Cache', 'timeoutValue');
    return {
      agentId: 'a',
      time: new Date(base + i * 60_000).toISOString(),
      kind: 'user' as const,
      message: { role: 'user' as const, content: words.join(' ') },
    };
  });
  let s = await open(dir, { timeZone: 'utc', indexFlushDocs: 256 });
  for (let i = 0; i < records.length; i += 100) await s.append(records.slice(i, i + 100));
  await s.whenIndexed();
  const phrases = ['"cache timeout"', '"cache timeout,"', '"cache timeo"', '"the cache timeout"', '"cache time"', '"cache timeoutv"'];
  const withPairs = phrases.map((q) => ({ ...allPages(s, 'a', q), bound: s.search('a', q, 0).totalIsUpperBound === true }));
  await s.close();
  const ref = await bruteForce(dir);
  phrases.forEach((q, i) => {
    const expected = expectedSearch(ref, 'a', q);
    assert.deepEqual(withPairs[i]!.ids, expected, `${q} with word pairs`);
    assert.equal(withPairs[i]!.total, expected.length, `${q}: the total is exact`);
    assert.equal(withPairs[i]!.bound, false, `${q}: every candidate was checked`);
  });
  assert.ok(withPairs[0]!.ids.length >= 10 && withPairs[0]!.ids.length < 100, `${withPairs[0]!.ids.length} matches`);
  // A last word is a prefix (timeout → timeoutValue) unless the phrase ends in punctuation.
  assert.ok(withPairs[5]!.ids.length > 0, 'a prefix last word matches longer words');
  assert.ok(withPairs[1]!.ids.length > 0 && withPairs[1]!.ids.length < withPairs[0]!.ids.length, 'a phrase ending in a comma does not');

  // The same index as written before word pairs: the words alone narrow, the text decides; the same answers.
  assert.equal(stripWordPairs(dir, () => true) > 1, true);
  s = await open(dir, { timeZone: 'utc', indexFlushDocs: 256 });
  assert.equal(s.indexReport.state, 'opened');
  phrases.forEach((q, i) => assert.deepEqual(allPages(s, 'a', q).ids, withPairs[i]!.ids, `${q} without word pairs`));
  // There the first page's total is only a bound: too many candidates hold both words to check them all.
  assert.equal(s.search('a', '"cache timeout"', 0).totalIsUpperBound, true);
  await s.close();

  // Some segments with pairs, some without, and the tail: still the same answers.
  const mixed = tmp();
  s = await open(mixed, { timeZone: 'utc', indexFlushDocs: 256 });
  for (let i = 0; i < records.length; i += 100) await s.append(records.slice(i, i + 100));
  await s.close();
  stripWordPairs(mixed, (i) => i % 2 === 0);
  s = await open(mixed, { timeZone: 'utc', indexFlushDocs: 256 });
  await s.append(records.slice(0, 50));
  const ref2 = await bruteForce(mixed);
  for (const q of [...phrases, 'cache timeout', 'timeoutValue', '"of the"']) {
    assert.deepEqual(allPages(s, 'a', q).ids, expectedSearch(ref2, 'a', q), `${q} in a mixed index`);
  }
});
