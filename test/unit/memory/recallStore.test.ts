import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileRecallStore, RECALL_LOG_FILE, type NewRecallRecord } from '../../../src/core/memory/recallStore';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';
import { SEARCH_PAGE_SIZE } from '../../../src/core/limits';
import { searchableText } from '../../../src/core/memory/recallText';
import { syntheticConversation } from './syntheticRecall';

const A = 'agent-a';
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'recall-'));
let clock = Date.UTC(2024, 4, 1, 12, 0, 0);
const at = (): string => new Date((clock += 60_000)).toISOString();
const user = (content: string, agentId = A, time = at()): NewRecallRecord => ({
  agentId,
  time,
  kind: 'user',
  message: { role: 'user', content },
});
const texts = (rs: RecallRecord[]): string[] => rs.map((r) => (r.message.role === 'user' ? r.message.content : JSON.stringify(r.message)));

const opened: FileRecallStore[] = [];
after(async () => {
  for (const s of opened) await s.close();
});
async function open(dir: string, options?: Parameters<typeof FileRecallStore.open>[1]): Promise<FileRecallStore> {
  const s = await FileRecallStore.open(dir, options);
  opened.push(s);
  return s;
}

async function storeWith(contents: string[]): Promise<FileRecallStore> {
  const s = await open(tmp());
  await s.append(contents.map((c) => user(c)));
  return s;
}

test('append assigns increasing ids and seqs; everything survives reopen', async () => {
  const dir = tmp();
  const s = await open(dir);
  const a = await s.append([user('one'), user('two')]);
  const b = await s.append([user('three')]);
  assert.deepEqual(
    [...a, ...b].map((r) => r.seq),
    [1, 2, 3],
  );
  assert.equal(new Set([...a, ...b].map((r) => r.id)).size, 3);
  await s.close();
  const again = await open(dir);
  assert.equal(again.count(), 3);
  assert.equal(again.count(A), 3);
  assert.deepEqual(texts(again.get([b[0]!.id, 'missing', a[0]!.id])), ['three', 'one'], 'get keeps the asked order and skips unknown ids');
  const c = await again.append([user('four')]);
  assert.equal(c[0]!.seq, 4, 'numbering continues after reopen');
  await again.close();
});

test('bad records are refused before anything is written', async () => {
  const s = await open(tmp());
  await assert.rejects(s.append([user('fine'), { ...user('x'), kind: 'bogus' as 'user' }]), /Recall record 1: unknown kind "bogus"/);
  await assert.rejects(s.append([{ ...user('x'), time: 'yesterday' }]), /"time" must be an ISO 8601 time/);
  await assert.rejects(s.append([{ ...user('x'), message: { role: 'tool', content: 'r' } as never }]), /not a valid chat message/);
  await assert.rejects(s.append([{ ...user('x'), agentId: '' }]), /"agentId" must be a non-empty string/);
  assert.equal(s.count(), 0);
});

test('search is case-insensitive and finds identifiers across naming styles', async () => {
  const s = await storeWith([
    'call parse_config first', // 1
    'ParseConfig is exported', // 2
    'we parse config files', // 3
    'parseConfigFile handles yaml', // 4
    'config parse order differs', // 5
    'PARSECONFIG shouting', // 6 (one word: no part boundary)
    'nothing relevant', // 7
  ]);
  const hits = (q: string): string[] => texts(s.search(A, q, 0, 50).records);
  assert.deepEqual(hits('parseConfig'), [
    'parseConfigFile handles yaml',
    'we parse config files',
    'ParseConfig is exported',
    'call parse_config first',
  ]);
  assert.deepEqual(hits('parse_config'), hits('parseConfig'));
  assert.deepEqual(
    hits('PARSE config'),
    hits('parseConfig')
      .concat(['config parse order differs'])
      .sort((x, y) => hits('config').indexOf(x) - hits('config').indexOf(y)),
  );
  // A lower-case run is one word: it matches words that start with it, in any case.
  assert.deepEqual(hits('parseconfig'), ['PARSECONFIG shouting', 'parseConfigFile handles yaml', 'ParseConfig is exported']);
  assert.deepEqual(hits('RELEVANT'), ['nothing relevant']);
});

test('multi-word queries need every word; words of 3+ letters match as prefixes, shorter ones exactly', async () => {
  const s = await storeWith(['cache timeout raised', 'the timeout only', 'cache only', 'Configuration of the cache TIMEOUTS', 'co op']);
  const hits = (q: string): string[] => texts(s.search(A, q, 0, 50).records);
  assert.deepEqual(hits('cache timeout'), ['Configuration of the cache TIMEOUTS', 'cache timeout raised']);
  assert.deepEqual(hits('timeout cache'), hits('cache timeout'), 'order of words does not matter');
  assert.deepEqual(hits('config'), ['Configuration of the cache TIMEOUTS']);
  assert.deepEqual(hits('co'), ['co op']);
  assert.deepEqual(hits('cache missingword'), []);
});

test('a quoted phrase matches verbatim (case and spacing aside) at a word start', async () => {
  const s = await storeWith([
    'Please open the  Settings\npanel now', // 1
    'open settings the panel', // 2
    'reopen the settings panel', // 3
    'we will open the settings panels', // 4
    'x(open the settings panel)', // 5
  ]);
  const hits = (q: string): string[] => texts(s.search(A, q, 0, 50).records);
  assert.deepEqual(hits('"open the settings panel"'), [
    'x(open the settings panel)',
    'we will open the settings panels',
    'Please open the  Settings\npanel now',
  ]);
  assert.deepEqual(hits('"open the settings panel" now'), ['Please open the  Settings\npanel now'], 'phrases combine with words');
  assert.deepEqual(hits('"settings pa"'), [
    'x(open the settings panel)',
    'we will open the settings panels',
    'reopen the settings panel',
    'Please open the  Settings\npanel now',
  ]);
  assert.deepEqual(hits('"pen the"'), [], 'a phrase starts at a word boundary');
});

test('results are newest first and paged with total and pageCount (0-based pages)', async () => {
  const s = await storeWith(Array.from({ length: 12 }, (_, i) => `needle number ${i}`).concat(['hay']));
  const p0 = s.search(A, 'needle', 0);
  assert.equal(p0.total, 12);
  assert.equal(p0.pageCount, Math.ceil(12 / SEARCH_PAGE_SIZE));
  assert.equal(p0.page, 0);
  assert.deepEqual(
    texts(p0.records),
    [11, 10, 9, 8, 7].map((i) => `needle number ${i}`),
  );
  const p2 = s.search(A, 'needle', 2);
  assert.deepEqual(texts(p2.records), ['needle number 1', 'needle number 0']);
  assert.deepEqual(s.search(A, 'needle', 3).records, [], 'past the last page: empty, totals still right');
  assert.equal(s.search(A, 'needle', 3).total, 12);
  assert.equal(s.search(A, 'needle', 0, 4).pageCount, 3);
  assert.throws(() => s.search(A, 'needle', -1), /pages are numbered 0, 1, 2/);
  assert.throws(() => s.search(A, 'needle', 1.5), /pages are numbered/);
  assert.throws(() => s.search(A, 'needle', 0, 0), /Page size 0 is not valid/);
  assert.throws(() => s.search(A, '  ', 0), /has no words to search for/);
  assert.throws(() => s.search(A, '-> ::', 0), /has no words/);
});

test('what is searchable: user text, monologue, send_message text, tool results, events; not call JSON or search results', async () => {
  const s = await open(tmp());
  const t = at();
  await s.append([
    {
      agentId: A,
      time: t,
      kind: 'user',
      message: { role: 'user', content: JSON.stringify({ type: 'user_message', message: 'zebra question', time: t }) },
    },
    {
      agentId: A,
      time: t,
      kind: 'assistant',
      message: {
        role: 'assistant',
        content: 'thinking about walrus',
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'send_message', arguments: JSON.stringify({ message: 'answer about giraffe' }) },
          },
          { id: 'c2', type: 'function', function: { name: 'read_file', arguments: JSON.stringify({ path: 'src/okapiPath.ts' }) } },
          { id: 'c3', type: 'function', function: { name: 'conversation_search', arguments: JSON.stringify({ query: 'zebra' }) } },
        ],
      },
    },
    {
      agentId: A,
      time: t,
      kind: 'tool',
      message: {
        role: 'tool',
        tool_call_id: 'c2',
        content: JSON.stringify({ status: 'OK', message: 'export const narwhal = 1;', time: t }),
      },
    },
    {
      agentId: A,
      time: t,
      kind: 'tool',
      message: { role: 'tool', tool_call_id: 'c3', content: JSON.stringify({ status: 'OK', message: 'zebra question (found)', time: t }) },
    },
    {
      agentId: A,
      time: t,
      kind: 'system_event',
      message: { role: 'user', content: JSON.stringify({ type: 'file_saved', message: 'The user saved src/lemur.ts', time: t }) },
    },
    { agentId: A, time: t, kind: 'summary', message: { role: 'system', content: 'Summary: we discussed the pangolin.' } },
  ]);
  const kinds = (q: string): string[] => s.search(A, q, 0, 50).records.map((r) => r.kind);
  assert.deepEqual(kinds('zebra'), ['user'], 'the conversation_search result is not indexed');
  assert.deepEqual(kinds('walrus'), ['assistant']);
  assert.deepEqual(kinds('giraffe'), ['assistant']);
  assert.deepEqual(kinds('narwhal'), ['tool']);
  assert.deepEqual(kinds('lemur'), ['system_event']);
  assert.deepEqual(kinds('pangolin'), ['summary']);
  assert.deepEqual(kinds('okapi'), [], 'function arguments are not indexed');
  assert.deepEqual(kinds('user_message'), [], 'bookkeeping keys of packed messages are not indexed');
  assert.deepEqual(kinds('status'), []);
});

test('agents are isolated', async () => {
  const s = await open(tmp());
  await s.append([user('shared word', 'a1'), user('shared word', 'a2'), user('other', 'a2')]);
  assert.equal(s.search('a1', 'shared', 0).total, 1);
  assert.equal(s.search('a2', 'shared', 0).total, 1);
  assert.equal(s.search('nobody', 'shared', 0).total, 0);
  assert.equal(s.count('a2'), 2);
  assert.deepEqual(
    s.agents().sort((x, y) => x.agentId.localeCompare(y.agentId)),
    [
      { agentId: 'a1', count: 1 },
      { agentId: 'a2', count: 2 },
    ],
  );
});

test('searchDate: inclusive bounds, bare dates cover whole days, oldest first, paged', async () => {
  const s = await open(tmp(), { timeZone: 'utc' });
  const times = [
    '2024-03-01T00:00:00.000Z',
    '2024-03-01T23:59:59.999Z',
    '2024-03-02T10:00:00.000Z',
    '2024-03-03T00:00:00.000Z',
    '2024-02-29T23:59:59.999Z',
  ];
  await s.append(times.map((t, i) => user(`m${i}`, A, t)));
  const when = (a: string, b: string): string[] => s.searchDate(A, a, b, 0, 50).records.map((r) => r.time);
  assert.deepEqual(when('2024-03-01', '2024-03-01'), times.slice(0, 2));
  assert.deepEqual(when('2024-03-01', '2024-03-02'), times.slice(0, 3));
  assert.deepEqual(when('2024-03-01T23:59:59.999Z', '2024-03-03T00:00:00Z'), times.slice(1, 4), 'timestamps are exact and inclusive');
  assert.deepEqual(when('2024-02-29', '2024-03-01'), [times[4], times[0], times[1]], 'oldest first by time, even when stored out of order');
  const p = s.searchDate(A, '2024-01-01', '2024-12-31', 1, 2);
  assert.equal(p.total, 5);
  assert.equal(p.pageCount, 3);
  assert.deepEqual(
    p.records.map((r) => r.time),
    [times[1], times[2]],
    'page 1 of the time-sorted hits',
  );
  assert.throws(() => s.searchDate(A, 'last week', '2024-03-01', 0), /The start date "last week" is not a date\. Use YYYY-MM-DD/);
  assert.throws(() => s.searchDate(A, '2024-02-30', '2024-03-01', 0), /start date "2024-02-30" is not a date/);
  assert.throws(() => s.searchDate(A, '2024-03-01', '2024-13-01', 0), /end date/);
  assert.throws(() => s.searchDate(A, '2024-03-02', '2024-03-01', 0), /start date 2024-03-02 is after the end date 2024-03-01/);
});

test('searchDate with bare dates uses the local calendar by default', async () => {
  const s = await open(tmp());
  const localMidnight = new Date(2024, 5, 10, 0, 0, 0, 0);
  const justBefore = new Date(localMidnight.getTime() - 1);
  await s.append([user('before', A, justBefore.toISOString()), user('on', A, localMidnight.toISOString())]);
  assert.deepEqual(texts(s.searchDate(A, '2024-06-10', '2024-06-10', 0).records), ['on']);
});

test('page(): newest-last slices before a seq, for restoring history', async () => {
  const s = await storeWith(Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
  assert.deepEqual(texts(s.page(A, undefined, 3)), ['m8', 'm9', 'm10']);
  assert.deepEqual(texts(s.page(A, 8, 3)), ['m5', 'm6', 'm7']);
  assert.deepEqual(texts(s.page(A, 3, 5)), ['m1', 'm2']);
  assert.deepEqual(s.page(A, 1, 5), []);
  assert.deepEqual(s.page('nobody', undefined, 5), []);
});

test('a torn tail in the recall log is repaired on open and reported; earlier records intact', async () => {
  const dir = tmp();
  const s = await open(dir);
  await s.append([user('kept one'), user('kept two')]);
  await s.close();
  appendFileSync(path.join(dir, RECALL_LOG_FILE), '0badc0de {"id":"r3","seq":3,"ti');
  const again = await open(dir);
  assert.equal(again.count(), 2);
  assert.equal(again.openReport.tornPartialLine, true);
  assert.ok(again.openReport.droppedTailBytes > 0);
  assert.equal((await again.append([user('after repair')]))[0]!.seq, 3);
  await again.close();
  assert.equal((await open(dir)).search(A, 'repair', 0).total, 1);
});

// An independent reference: regex tokenisation, brute force over every record.
function referenceParts(text: string): string[] {
  const out: string[] = [];
  for (const w of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    for (const p of w.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[^0-9])(?=[0-9])|(?<=[0-9])(?=[^0-9])/))
      out.push(p.toLowerCase());
  }
  return out;
}
function referenceWords(text: string): string[] {
  return (text.match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.toLowerCase());
}
function referenceMatch(text: string, word: string): boolean {
  const q = referenceParts(word);
  const seq = referenceParts(text);
  const whole = referenceWords(text);
  const eq = (s: string, t: string, last: boolean): boolean => (last && t.length >= 3 ? s.startsWith(t) : s === t);
  if (q.length === 1) return seq.some((s) => eq(s, q[0]!, true)) || whole.some((s) => eq(s, q[0]!, true));
  for (let i = 0; i + q.length <= seq.length; i++) if (q.every((t, j) => eq(seq[i + j]!, t, j === q.length - 1))) return true;
  return false;
}

test('search agrees with a brute-force reference on 3000 synthetic messages (and right after open)', async () => {
  const dir = tmp();
  const { records, plants } = syntheticConversation(3000, A, 7);
  let s = await open(dir);
  await s.append(records);
  await s.close();
  s = await open(dir); // the index is still catching up: queries must complete it
  const all = s.records(A);
  const names = new Map<string, string>();
  const docText = all.map((r) => {
    if (r.message.role === 'assistant') for (const c of r.message.tool_calls ?? []) names.set(c.id, c.function.name);
    return searchableText(r, (id) => names.get(id));
  });
  const queries = [
    'file',
    'cache timeout',
    plants.identifier,
    'parse_widget_manifest',
    plants.rareWord,
    'handler',
    'loadConfig',
    'update user',
    'Error',
    'zz',
    '42',
  ];
  for (const q of queries) {
    const words = q.split(/\s+/);
    const expected: string[] = [];
    for (let i = all.length - 1; i >= 0; i--) if (words.every((w) => referenceMatch(docText[i]!, w))) expected.push(all[i]!.id);
    const got = s.search(A, q, 0, 100);
    assert.equal(got.total, expected.length, `total for ${JSON.stringify(q)}`);
    assert.deepEqual(
      got.records.map((r) => r.id),
      expected.slice(0, 100),
      `first page for ${JSON.stringify(q)}`,
    );
  }
  assert.ok(s.search(A, plants.identifier, 0).total > 0, 'the planted identifier is found');
});

test('phrase and AND edge cases: punctuation, line breaks, short prefixes, repeated and missing words', async () => {
  const s = await storeWith([
    'edit config.json then restart', // 1
    'edit config json then restart', // 2
    'the build\tfailed\n\nagain', // 3
    'build failed? no: the build passed', // 4
    'ab cd ef', // 5
    'abacus cdrom', // 6
    'cache cache timeout', // 7
    'timeout only', // 8
  ]);
  const hits = (q: string): string[] => texts(s.search(A, q, 0, 50).records);
  assert.deepEqual(hits('"config.json"'), ['edit config.json then restart'], 'punctuation inside a phrase is verbatim');
  assert.deepEqual(hits('config json'), ['edit config json then restart', 'edit config.json then restart'], 'words ignore punctuation');
  assert.deepEqual(hits('"build failed again"'), ['the build\tfailed\n\nagain'], 'tabs and line breaks count as one space');
  assert.deepEqual(hits('"build failed"'), ['build failed? no: the build passed', 'the build\tfailed\n\nagain']);
  assert.deepEqual(hits('"the build" passed'), ['build failed? no: the build passed'], 'a phrase and a word, both required');
  assert.deepEqual(hits('"ab"'), ['abacus cdrom', 'ab cd ef'], 'a short phrase is a prefix at a word start');
  assert.deepEqual(hits('"ab cd"'), ['ab cd ef'], 'a short last word is a prefix, earlier words whole');
  assert.deepEqual(hits('"cd"'), ['abacus cdrom', 'ab cd ef']);
  assert.deepEqual(hits('cache cache'), ['cache cache timeout'], 'a word given twice is one requirement');
  assert.deepEqual(hits('cache timeout'), ['cache cache timeout']);
  assert.deepEqual(hits('timeout "cache timeout"'), ['cache cache timeout']);
  assert.deepEqual(hits('timeout nowhere'), [], 'a missing word empties an AND');
  assert.deepEqual(hits('"timeout cache"'), [], 'phrase words in the wrong order');
  const r = s.search(A, '"build failed"', 0, 50);
  assert.equal(r.total, 2);
  assert.equal(r.totalIsUpperBound, undefined, 'few candidates: the total is a count');
});

test('a phrase with thousands of candidates checks only the newest ones a page needs; paging on reaches the exact count', async () => {
  const dir = tmp();
  const s = await open(dir, { indexFlushDocs: 512 });
  // Every record holds the phrase's words; one in ten holds them in phrase order.
  const contents: string[] = [];
  for (let i = 0; i < 3000; i++) contents.push(i % 10 === 3 ? `item ${i}: please open the panel` : `item ${i}: the panel is open`);
  for (let i = 0; i < contents.length; i += 500) await s.append(contents.slice(i, i + 500).map((c) => user(c)));
  await s.whenIndexed();
  const expected = contents.filter((c) => c.includes('open the panel')).reverse();

  // Records read from the log for one page: count the log lines parsed.
  const parse = JSON.parse;
  let parsed = 0;
  JSON.parse = ((text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) => {
    parsed++;
    return parse(text, reviver);
  }) as typeof JSON.parse;
  let first;
  try {
    first = s.search(A, '"open the panel"', 0, 5);
  } finally {
    JSON.parse = parse;
  }
  assert.deepEqual(texts(first.records), expected.slice(0, 5), 'the newest matches, as a full check finds them');
  assert.ok(parsed < 1000, `a page read ${parsed} records, not all 3000 candidates`);
  assert.equal(first.totalIsUpperBound, true, 'the total says it is a bound');
  assert.ok(first.total >= expected.length && first.total <= contents.length, `bound ${first.total} holds the ${expected.length} matches`);

  // Every page, in order, is what a full check gives; the count becomes exact on the way.
  const got: string[] = [];
  let last = first;
  for (let p = 0; p < last.pageCount; p++) {
    last = s.search(A, '"open the panel"', p, 20);
    got.push(...texts(last.records));
  }
  assert.deepEqual(got, expected);
  assert.equal(last.total, expected.length);
  assert.equal(last.totalIsUpperBound, undefined);
});
