import { closeSync, openSync, readSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { ChatMessage } from '../interfaces/chatModel';
import type { RecallKind, RecallRecord, RecallSearchResult, RecallStore } from '../interfaces/recallStore';
import { AppendLog, decodeLogLine, encodeLogLine, ReadOnlyLogError, type AppendLogOpenReport } from '../storage/appendLog';
import type { NoticeBoard } from '../storage/notices';
import {
  RECALL_MAX_PAGE_SIZE,
  RECALL_NARROW_RATIO,
  RECALL_POSTINGS_FOR_TOTAL,
  RECALL_RECORD_CACHE,
  RECALL_TAIL_FLUSH_DOCS,
  RECALL_TEXT_CHECKS_FOR_TOTAL,
  RECALL_WORKER_REBUILD_MIN_BYTES,
  SEARCH_PAGE_SIZE,
} from '../limits';
import { RECALL_INDEX_DIR, RecallIndex, type RecallIndexOpenReport, type RecallSource } from './recallIndex';
import { pairKey, RecallIndexDamagedError, runKey, Slicer, termKey } from './recallSegment';
import { runRecallWorker, type RecallRebuildJob } from './recallWorker';
import { allowPrefix, parseQuery, RecallQueryError, searchableText, textMatches, type QueryTerm } from './recallText';

/**
 * Recall memory on an AppendLog (`recall.log` in the store's folder): every
 * record is durable before append() resolves, and a crash costs at most the
 * unacknowledged tail. The log is not held in memory: an on-disk index beside
 * it (`recall-index/`, see recallIndex.ts) answers which records match, and
 * records are read from the log by offset when asked for. Opening reads the
 * index's manifest and segment headers, and only the log bytes appended since
 * the index was last written; a missing, stale or damaged index is rebuilt
 * from the log (and the user told, unless there was none).
 *
 * Search semantics (what is searchable: see recallText.ts):
 * - case-insensitive; every word of the query is required, in any order;
 * - an identifier matches across naming styles: `parseConfig` finds
 *   `parse_config`, `ParseConfig`, `parse config` (its parts, adjacent, in order);
 * - a word of 3+ characters also matches longer words it starts (`config` → `configuration`);
 * - a "quoted phrase" matches verbatim (case-insensitive, whitespace runs
 *   count as one space) starting at a word boundary;
 * - results are newest first; pages are 0-based (MemGPT's convention).
 * Ranking for conversation_search happens in recallText.ts (rankRecall) on the records found here.
 * Date search: bounds are inclusive; a bare date (YYYY-MM-DD) covers that whole
 * calendar day in the store's time zone (local by default); oldest first.
 */

export const RECALL_LOG_FILE = 'recall.log';

const KINDS: ReadonlySet<string> = new Set<RecallKind>(['user', 'assistant', 'tool', 'system_event', 'summary', 'system_alert']);
const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

export interface FileRecallStoreOptions {
  /** How bare dates in searchDate are read: the machine's local calendar (default) or UTC. */
  timeZone?: 'local' | 'utc';
  /**
   * For a window without the workspace lock: search and page, never write or
   * repair; append() rejects with ReadOnlyLogError; refresh() picks up what the
   * lock holder appended since.
   */
  readOnly?: boolean;
  /** Where a rebuilt or damaged index is reported to the user. */
  notices?: NoticeBoard;
  /** Records the in-memory tail of the index holds before it is written out (tests make it small). */
  indexFlushDocs?: number;
  /** Postings read past a complete page of word matches to make the total exact (RECALL_POSTINGS_FOR_TOTAL; tests make it small). */
  postingsForTotal?: number;
  /** Merges of at least this many records run in a worker thread (RECALL_WORKER_MERGE_MIN_DOCS; tests lower it). */
  workerMergeMinDocs?: number;
  /** Tails of at least this many records are written by a worker thread (RECALL_WORKER_TAIL_MIN_DOCS; tests lower it). */
  workerTailMinDocs?: number;
}

export type NewRecallRecord = Omit<RecallRecord, 'id' | 'seq'>;

function checkMessage(m: unknown): m is ChatMessage {
  if (!m || typeof m !== 'object') return false;
  const msg = m as { role?: unknown; content?: unknown; tool_call_id?: unknown; tool_calls?: unknown };
  if (typeof msg.role !== 'string' || !ROLES.has(msg.role)) return false;
  if (msg.role === 'assistant') {
    if (msg.content !== null && typeof msg.content !== 'string') return false;
    if (msg.tool_calls !== undefined) {
      if (!Array.isArray(msg.tool_calls)) return false;
      for (const c of msg.tool_calls as { id?: unknown; function?: { name?: unknown; arguments?: unknown } }[]) {
        if (
          !c ||
          typeof c.id !== 'string' ||
          !c.function ||
          typeof c.function.name !== 'string' ||
          typeof c.function.arguments !== 'string'
        )
          return false;
      }
    }
    return true;
  }
  if (typeof msg.content !== 'string') return false;
  return msg.role !== 'tool' || typeof msg.tool_call_id === 'string';
}

function validateStored(v: unknown): RecallRecord {
  const r = v as Partial<RecallRecord> | null;
  if (
    !r ||
    typeof r.id !== 'string' ||
    !Number.isInteger(r.seq) ||
    typeof r.time !== 'string' ||
    typeof r.agentId !== 'string' ||
    typeof r.kind !== 'string' ||
    !KINDS.has(r.kind) ||
    !checkMessage(r.message)
  ) {
    throw new Error('not a recall record');
  }
  return r as RecallRecord;
}

/** Terms the index cannot answer exactly: phrases (spacing and punctuation) and identifiers of 4+ parts. */
function needsText(t: QueryTerm): boolean {
  return t.kind === 'phrase' || t.parts.length > 3;
}

/** Documents in both ascending lists; a short list probes the long one by galloping, similar lengths merge. */
function intersectSorted(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length > b.length) [a, b] = [b, a];
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  if (a.length * 16 < b.length) {
    for (let i = 0; i < a.length && j < b.length; i++) {
      const v = a[i]!;
      let step = 1;
      let hi = j;
      while (hi < b.length && b[hi]! < v) {
        j = hi;
        hi += step;
        step *= 2;
      }
      let lo = j;
      hi = Math.min(hi, b.length);
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (b[mid]! < v) lo = mid + 1;
        else hi = mid;
      }
      j = lo;
      if (j < b.length && b[j] === v) out[n++] = v;
    }
  } else {
    let i = 0;
    while (i < a.length && j < b.length) {
      const x = a[i]!;
      const y = b[j]!;
      if (x === y) {
        out[n++] = x;
        i++;
        j++;
      } else if (x < y) i++;
      else j++;
    }
  }
  return out.subarray(0, n);
}

/**
 * One list a query intersects: the postings of a key (a token, or a run of 2 or 3 parts), or
 * every document of the agent (a phrase with no word to narrow by). `required` lists decide;
 * the others (a phrase's further words) only narrow, and are read only when short enough to pay.
 */
type QueryList =
  /** `pairs`: a word-pair key, read only in sources that hold word pairs (older segments do not: there the words narrow alone). */
  { kind: 'key'; key: string; prefix: boolean; required: boolean; pairs?: boolean } | { kind: 'agent' };

/** The lists of a query: every term's, the phrase words after the first marked optional. */
function queryLists(agent: number, terms: readonly QueryTerm[]): QueryList[] {
  const out: QueryList[] = [];
  for (const term of terms) {
    if (term.kind === 'parts') {
      const last = term.parts.length - 1;
      if (term.parts.length === 1) {
        out.push({
          kind: 'key',
          key: termKey(agent, term.parts[0]!),
          prefix: term.prefixLast && allowPrefix(term.parts[0]!),
          required: true,
        });
      } else if (term.parts.length <= 3) {
        out.push({
          kind: 'key',
          key: runKey(agent, term.parts),
          prefix: term.prefixLast && allowPrefix(term.parts[last]!),
          required: true,
        });
      } else {
        // Four or more parts: every window of three, the last window's last part a prefix; the text decides adjacency.
        for (let i = 0; i + 3 <= term.parts.length; i++) {
          const isLast = i + 3 === term.parts.length;
          const prefix = isLast && term.prefixLast && allowPrefix(term.parts[i + 2]!);
          out.push({ kind: 'key', key: runKey(agent, term.parts.slice(i, i + 3)), prefix, required: true });
        }
      }
      continue;
    }
    // A phrase: its words narrow, the text decides; so only the rarer words are worth reading
    // (a list much longer than the candidates so far costs more to read than it removes).
    let words = 0;
    term.words.forEach((tok, i) => {
      const isLast = i === term.words.length - 1;
      // A phrase's short last word may be the start of a longer word ("config fi"): too broad to narrow by.
      if (isLast && term.prefixLast && !allowPrefix(tok)) return;
      const prefix = isLast && term.prefixLast && allowPrefix(tok);
      out.push({ kind: 'key', key: termKey(agent, tok), prefix, required: false });
      words++;
    });
    if (words === 0) out.push({ kind: 'agent' });
    // Each two consecutive words are consecutive in every text the phrase is in (the last may be a
    // prefix there): these lists are usually about as short as the matches.
    for (let i = 0; i + 1 < term.words.length; i++) {
      const second = term.words[i + 1]!;
      const isLast = i + 2 === term.words.length;
      if (isLast && term.prefixLast && !allowPrefix(second)) continue;
      const prefix = isLast && term.prefixLast;
      out.push({ kind: 'key', key: pairKey(agent, term.words[i]!, second), prefix, required: true, pairs: true });
    }
  }
  return out;
}

/**
 * How one query reads one source: its candidates there (exactly the matches when no text check
 * follows), and from the dictionaries alone a bound of how many there are and what reading
 * them costs.
 */
class QueryPlan {
  private readonly lists: QueryList[];

  constructor(
    private readonly index: RecallIndex,
    private readonly agent: number,
    terms: readonly QueryTerm[],
  ) {
    this.lists = queryLists(agent, terms);
  }

  private countIn(src: RecallSource, l: QueryList): number {
    return l.kind === 'agent' ? this.index.agentCountIn(src, this.agent) : this.index.keyCountIn(src, l.key, l.prefix);
  }

  /** The lists that apply to src (word pairs only where it holds them). */
  private listsFor(src: RecallSource): QueryList[] {
    return src.wordPairs ? this.lists : this.lists.filter((l) => l.kind !== 'key' || !l.pairs);
  }

  /** Upper bound of the candidates in src (the shortest list) and the postings reading them all would decode. */
  stats(src: RecallSource): { bound: number; cost: number } {
    let bound = Infinity;
    let cost = 0;
    for (const l of this.listsFor(src)) {
      const n = this.countIn(src, l);
      bound = Math.min(bound, n);
      cost += n;
    }
    return { bound: bound === Infinity ? 0 : bound, cost };
  }

  /** The candidates in src, ascending: the lists intersected shortest first, stopping when nothing is left. */
  candidatesIn(src: RecallSource): Uint32Array {
    const counted = this.listsFor(src)
      .map((l) => ({ l, n: this.countIn(src, l) }))
      .sort((x, y) => x.n - y.n);
    if (counted.length === 0 || counted[0]!.n === 0) return new Uint32Array(0);
    let out: Uint32Array | undefined;
    for (const { l, n } of counted) {
      if (out) {
        // Keys are the agent's own, so its whole document list narrows nothing; a phrase word
        // much longer than the candidates so far costs more to read than it removes.
        if (l.kind === 'agent') continue;
        if (!l.required && n > out.length * RECALL_NARROW_RATIO) continue;
      }
      const docs = this.read(src, l);
      out = out ? intersectSorted(out, docs) : docs;
      if (out.length === 0) break;
    }
    return out ?? new Uint32Array(0);
  }

  private read(src: RecallSource, l: QueryList): Uint32Array {
    return l.kind === 'agent' ? this.index.agentDocsIn(src, this.agent) : this.index.keyDocsIn(src, l.key, l.prefix);
  }
}

/**
 * The matches of one query, newest first, found source by source from the newest (the tail in
 * memory, then segments from the newest back), only as far as the pages asked for need: at a
 * million messages a common word is in a hundred thousand records, while a search shows the
 * newest few. Candidates that need their text checked (phrases, long identifiers) are checked
 * in the same order.
 *
 * The total is exact when every source was read (and every candidate checked); a little more
 * is read for that after the page is complete — sources whose postings fit in
 * RECALL_POSTINGS_FOR_TOTAL, or RECALL_TEXT_CHECKS_FOR_TOTAL more text checks. Past that it is
 * an upper bound: the matches found, the candidates not yet checked, and for each source not
 * read its shortest list's length from the dictionary; the result says so.
 */
export class QueryHits {
  /** Candidates of the sources read so far, newest source first (each ascending). */
  private readonly lists: Uint32Array[] = [];
  private readCount = 0;
  private nextSource = 0;
  private readonly stats: ({ bound: number; cost: number } | undefined)[] = [];
  /** With a check: matches found, newest first, and the candidates decided so far (counted from the newest). */
  private readonly found: number[] = [];
  private checked = 0;
  private cursorList = 0;
  private cursorLeft = 0;

  constructor(
    /** Newest first. */
    readonly sources: readonly RecallSource[],
    private readonly plan: QueryPlan,
    private readonly check: ((doc: number) => boolean) | null,
    private readonly postingsForTotal: number,
  ) {}

  /** True when every candidate has been decided: the total is the number of matches. */
  get exact(): boolean {
    return this.nextSource >= this.sources.length && (!this.check || this.checked === this.readCount);
  }

  /** The number of matches (exact), or an upper bound of it while sources are unread or candidates unchecked. */
  get total(): number {
    let left = 0;
    for (let i = this.nextSource; i < this.sources.length; i++) left += this.statsOf(i).bound;
    return this.check ? this.found.length + (this.readCount - this.checked) + left : this.readCount + left;
  }

  /** Matches [from, from + n) counted from the newest, reading and checking as far as needed. */
  newest(from: number, n: number): number[] {
    if (this.check) {
      this.checkUntil(() => this.found.length >= from + n);
      // Then a bounded look further back, so the count is exact whenever that is cheap.
      let more = RECALL_TEXT_CHECKS_FOR_TOTAL;
      this.checkUntil(() => more-- <= 0);
      return this.found.slice(from, from + n);
    }
    while (this.readCount < from + n && this.readNext()) {
      // read on
    }
    let budget = this.postingsForTotal;
    while (this.nextSource < this.sources.length) {
      const cost = this.statsOf(this.nextSource).cost;
      if (cost > budget) break;
      budget -= cost;
      this.readNext();
    }
    const out: number[] = [];
    let skip = from;
    for (const list of this.lists) {
      if (skip >= list.length) {
        skip -= list.length;
        continue;
      }
      for (let i = list.length - 1 - skip; i >= 0 && out.length < n; i--) out.push(list[i]!);
      skip = 0;
      if (out.length >= n) break;
    }
    return out;
  }

  private statsOf(i: number): { bound: number; cost: number } {
    return (this.stats[i] ??= this.plan.stats(this.sources[i]!));
  }

  /** Reads the next source's candidates; false when every source is read. */
  private readNext(): boolean {
    if (this.nextSource >= this.sources.length) return false;
    const docs = this.plan.candidatesIn(this.sources[this.nextSource++]!);
    if (docs.length > 0) {
      this.lists.push(docs);
      this.readCount += docs.length;
    }
    return true;
  }

  private checkUntil(done: () => boolean): void {
    while (!done()) {
      while (this.cursorLeft === 0) {
        if (this.cursorList < this.lists.length) this.cursorLeft = this.lists[this.cursorList++]!.length;
        else if (!this.readNext()) return;
      }
      const list = this.lists[this.cursorList - 1]!;
      const doc = list[--this.cursorLeft]!;
      this.checked++;
      if (this.check!(doc)) this.found.push(doc);
    }
  }
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export class FileRecallStore implements RecallStore {
  private lastSeq: number;
  private logFd: number | null = null;
  /** Records read from the log lately, by document (the newest are asked for again and again). */
  private readonly cache = new Map<number, RecallRecord>();
  /** The last query's matches: conversation_search pages through one query many times. */
  private lastHits: { key: string; hits: QueryHits } | null = null;

  private constructor(
    private readonly log: AppendLog<RecallRecord>,
    /** What opening found and repaired (torn tail, corrupt lines). */
    readonly openReport: AppendLogOpenReport,
    /** What opening found of the index: used, built, or rebuilt (and why). */
    readonly indexReport: RecallIndexOpenReport,
    private readonly index: RecallIndex,
    private readonly timeZone: 'local' | 'utc',
    private readonly postingsForTotal: number,
  ) {
    this.lastSeq = index.lastSeq;
  }

  static async open(dir: string, options: FileRecallStoreOptions = {}): Promise<FileRecallStore> {
    const file = path.join(dir, RECALL_LOG_FILE);
    const readOnly = options.readOnly === true;
    const notices = options.notices;
    const indexDir = path.join(dir, RECALL_INDEX_DIR);
    const shown = path.join('recall', RECALL_INDEX_DIR);
    const flushDocs = options.indexFlushDocs ?? RECALL_TAIL_FLUSH_DOCS;
    const events = {
      damaged: (reason: string) =>
        notices?.post(
          'recall:index-damaged',
          `${reason} It is being rebuilt from the recall log (nothing is lost); until it is done, conversation_search may miss older messages.`,
        ),
      repaired: () => notices?.post('recall:index-repaired', `The recall index ${shown} was rebuilt from the recall log.`),
    };
    const { workerMergeMinDocs, workerTailMinDocs } = options;
    let { index, report: indexReport } = await RecallIndex.open(file, indexDir, {
      readOnly,
      flushDocs,
      events,
      workerMergeMinDocs,
      workerTailMinDocs,
    });
    let rebuilding = indexReport.state !== 'opened';
    let read = 0;
    if (rebuilding && !readOnly && sizeOf(file) >= RECALL_WORKER_REBUILD_MIN_BYTES) {
      // A large log is indexed in a worker thread; this thread's event loop stays free meanwhile.
      await index.close();
      const inWorker = await rebuildInWorker({ logFile: file, indexDir, flushDocs }).catch(() => null);
      const reopened = await RecallIndex.open(file, indexDir, { readOnly, flushDocs, events, workerMergeMinDocs, workerTailMinDocs });
      index = reopened.index;
      if (inWorker !== null && reopened.report.state === 'opened') {
        read = inWorker;
        rebuilding = false;
        indexReport = { ...indexReport, inWorker: true };
      } else if (reopened.report.state !== 'opened') {
        indexReport = { ...reopened.report, state: indexReport.state, reason: indexReport.reason };
      }
      // Otherwise the worker could not run (or stopped): what it wrote is kept, the rest is read here.
    }
    // The records since the last flush (up to a tail's worth, thousands) are indexed in slices too.
    const slicer = new Slicer();
    const { log, report } = await AppendLog.open<RecallRecord>(file, {
      validate: validateStored,
      readOnly,
      from: index.logBytes,
      onEntry: (r, offset, bytes) => {
        read++;
        if (rebuilding) return index.addRebuilding(r, offset, bytes);
        index.add(r, offset, bytes);
        return slicer.due ? slicer.yieldNow() : undefined;
      },
    });
    // The report counts the region read; the user is told about the whole store.
    const openReport: AppendLogOpenReport = { ...report, entries: index.totalDocs };
    const store = new FileRecallStore(
      log,
      openReport,
      { ...indexReport, readFromLog: read },
      index,
      options.timeZone ?? 'local',
      options.postingsForTotal ?? RECALL_POSTINGS_FOR_TOTAL,
    );
    if (indexReport.state === 'rebuilt') {
      notices?.post(
        'recall:index',
        `The recall index ${shown} was rebuilt from the recall log because ${indexReport.reason ?? 'it was damaged'}; all ${index.totalDocs} messages are searchable again, nothing was lost.`,
      );
    }
    if (!readOnly) {
      if (index.tailFull || (rebuilding && index.tail.size > 0)) void index.scheduleFlush();
      if (!rebuilding) index.verifyInBackground();
    }
    return store;
  }

  /** Segment merges a worker thread wrote since open. */
  get mergesInWorker(): number {
    return this.index.mergesInWorker;
  }

  /** Tails a worker thread wrote as segments since open. */
  get tailsInWorker(): number {
    return this.index.tailsInWorker;
  }

  /** Resolves when the index's background work (writing the tail, merging, checking, repairing) is done. */
  whenIndexed(): Promise<void> {
    return this.index.idle();
  }

  get readOnly(): boolean {
    return this.log.readOnly;
  }

  /** Read-only stores: indexes records the lock holder appended since; returns how many. */
  async refresh(): Promise<number> {
    const fresh = await this.log.readNewAt();
    let added = 0;
    for (const e of fresh) if (this.index.add(e.entry, e.offset, e.bytes)) added++;
    if (this.index.lastSeq > this.lastSeq) this.lastSeq = this.index.lastSeq;
    return added;
  }

  async append(records: NewRecallRecord[]): Promise<RecallRecord[]> {
    if (this.log.readOnly) throw new ReadOnlyLogError(this.log.file);
    const stored: RecallRecord[] = records.map((r, i) => {
      if (!r || typeof r.agentId !== 'string' || r.agentId === '')
        throw new Error(`Recall record ${i}: "agentId" must be a non-empty string.`);
      if (!KINDS.has(r.kind))
        throw new Error(`Recall record ${i}: unknown kind ${JSON.stringify(r.kind)}; expected one of ${[...KINDS].join(', ')}.`);
      if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time)))
        throw new Error(`Recall record ${i}: "time" must be an ISO 8601 time (got ${JSON.stringify(r.time)}).`);
      if (!checkMessage(r.message)) throw new Error(`Recall record ${i}: "message" is not a valid chat message.`);
      return {
        id: '',
        seq: 0,
        time: r.time,
        agentId: r.agentId,
        kind: r.kind,
        message: r.message,
        ...(r.automatic === true ? { automatic: true as const } : {}),
      };
    });
    // Numbers are taken before the write so concurrent appends keep their call order.
    for (const r of stored) {
      r.seq = ++this.lastSeq;
      r.id = `r${r.seq}`;
    }
    const lines = stored.map((r) => encodeLogLine(r));
    const offset = await this.log.appendEncodedAt(lines);
    // Searchable when append resolves: the tail of the index is in memory.
    await this.index.addAll(
      stored,
      offset,
      lines.map((l) => l.length),
    );
    if (this.index.tailFull) void this.index.scheduleFlush();
    return stored;
  }

  /** Runs a read; index damage found on the way is reported, left out, and the read done again without it. */
  private guarded<T>(read: () => T): T {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof RecallIndexDamagedError)) throw err;
      this.index.noticeDamage(err.message);
      this.lastHits = null;
      return read();
    }
  }

  /** The record of a document, from memory or read from the log by offset; undefined when the log does not hold it there. */
  private recordOf(doc: number): RecallRecord | undefined {
    const kept = this.index.memRecord(doc) ?? this.cache.get(doc);
    if (kept) return kept;
    const row = this.index.row(doc);
    this.logFd ??= openSync(this.log.file, 'r');
    const buf = Buffer.allocUnsafe(row.bytes);
    const n = readSync(this.logFd, buf, 0, row.bytes, row.offset);
    let record: RecallRecord;
    try {
      if (n !== row.bytes) throw new Error('short read');
      record = validateStored(decodeLogLine(buf.subarray(0, buf[n - 1] === 0x0a ? n - 1 : n)));
      if (record.seq !== row.seq) throw new Error('another record');
    } catch {
      throw new RecallIndexDamagedError(path.join(RECALL_INDEX_DIR, 'docs.bin'), `document ${doc} does not point at its record in the log`);
    }
    if (this.cache.size >= RECALL_RECORD_CACHE) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(doc, record);
    return record;
  }

  get(ids: string[]): RecallRecord[] {
    return this.guarded(() => {
      const out: RecallRecord[] = [];
      for (const id of ids) {
        const m = /^r(\d+)$/.exec(id);
        if (!m) continue;
        const seq = Number(m[1]);
        const doc = this.index.docBySeq(seq);
        if (doc >= this.index.totalDocs || this.index.row(doc).seq !== seq) continue;
        const r = this.recordOf(doc);
        if (r && r.id === id) out.push(r);
      }
      return out;
    });
  }

  search(agentId: string, query: string, page: number, pageSize: number = SEARCH_PAGE_SIZE): RecallSearchResult {
    checkPaging(page, pageSize);
    const terms = parseQuery(query);
    const agent = this.index.agentNumber(agentId, false);
    if (agent === undefined) return { records: [], total: 0, page, pageCount: 0 };
    return this.guarded(() => this.paged(this.hits(agent, query, terms), page, pageSize));
  }

  /** The query's matches; those that need the text checked are checked newest first, as pages ask. */
  private hits(agent: number, query: string, terms: QueryTerm[]): QueryHits {
    const sources = this.index.sources().reverse();
    const key = `${agent}\u0000${query}\u0000${this.index.totalDocs}`;
    const last = this.lastHits;
    // A flush, merge or repair swaps sources (and closes those it replaced): then the query is read again.
    if (last?.key === key && last.hits.sources.length === sources.length && last.hits.sources.every((s, i) => s === sources[i]))
      return last.hits;
    const needsCheck = terms.filter(needsText);
    // Identifiers and phrases: the index narrows to records with every part; the text decides.
    // A candidate was indexed, so a tool result here is not one of the unsearched ones.
    const check =
      needsCheck.length === 0
        ? null
        : (doc: number): boolean => {
            const record = this.recordOf(doc);
            return (
              !!record &&
              textMatches(
                searchableText(record, () => undefined),
                needsCheck,
              )
            );
          };
    const hits = new QueryHits(sources, new QueryPlan(this.index, agent, terms), check, this.postingsForTotal);
    this.lastHits = { key, hits };
    return hits;
  }

  searchDate(agentId: string, start: string, end: string, page: number, pageSize: number = SEARCH_PAGE_SIZE): RecallSearchResult {
    checkPaging(page, pageSize);
    const from = this.parseBound(start, 'start');
    const to = this.parseBound(end, 'end');
    if (from > to) {
      throw new RecallQueryError(`The start date ${start} is after the end date ${end}. Give the earlier date first.`);
    }
    const agent = this.index.agentNumber(agentId, false);
    if (agent === undefined) return { records: [], total: 0, page, pageCount: 0 };
    return this.guarded(() => {
      // Oldest first by time; store order breaks ties (and is already time order unless a clock jumped).
      const runs = this.index.dateRuns(agent, from, to);
      const total = runs.reduce((n, r) => n + r.n, 0);
      const want = Math.min(total, (page + 1) * pageSize);
      const picked: number[] = [];
      // A k-way merge of the runs (each sorted by time, then document), read in small chunks.
      const CHUNK = 256;
      const cur = runs.map((r) => ({ run: r, at: 0, base: 0, buf: r.fetch(0, Math.min(CHUNK, r.n)) }));
      const head = (c: (typeof cur)[number]): { t: number; d: number } | null => {
        if (c.at >= c.run.n) return null;
        if (c.at - c.base >= c.buf.times.length) {
          c.base = c.at;
          c.buf = c.run.fetch(c.at, Math.min(c.at + CHUNK, c.run.n));
        }
        return { t: c.buf.times[c.at - c.base]!, d: c.buf.docs[c.at - c.base]! };
      };
      while (picked.length < want) {
        let best = -1;
        let bt = 0;
        let bd = 0;
        for (let i = 0; i < cur.length; i++) {
          const h = head(cur[i]!);
          if (h && (best === -1 || h.t < bt || (h.t === bt && h.d < bd))) {
            best = i;
            bt = h.t;
            bd = h.d;
          }
        }
        if (best === -1) break;
        picked.push(bd);
        cur[best]!.at++;
      }
      const slice = picked.slice(page * pageSize, (page + 1) * pageSize);
      return { records: this.read(slice), total, page, pageCount: Math.ceil(total / pageSize) };
    });
  }

  page(agentId: string, beforeSeq: number | undefined, limit: number): RecallRecord[] {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`page(): limit must be a non-negative integer (got ${limit}).`);
    const agent = this.index.agentNumber(agentId, false);
    if (agent === undefined || limit === 0) return [];
    return this.guarded(() => {
      const before = beforeSeq === undefined ? this.index.totalDocs : this.index.docBySeq(beforeSeq);
      return this.read(this.index.lastDocsOf(agent, before, limit));
    });
  }

  count(agentId?: string): number {
    if (agentId === undefined) return this.index.totalDocs;
    const agent = this.index.agentNumber(agentId, false);
    return agent === undefined ? 0 : (this.index.counts[agent] ?? 0);
  }

  /** Every record of one agent, oldest first (for export). */
  records(agentId: string): RecallRecord[] {
    const agent = this.index.agentNumber(agentId, false);
    if (agent === undefined) return [];
    return this.guarded(() => this.read(this.index.lastDocsOf(agent, Infinity, Infinity)));
  }

  /** Agents that have records, with their counts. */
  agents(): { agentId: string; count: number }[] {
    return this.index.agents.map((agentId, i) => ({ agentId, count: this.index.counts[i] ?? 0 })).filter((a) => a.count > 0);
  }

  /** Writes the index's tail out, then closes the log. */
  async close(): Promise<void> {
    await this.index.close();
    await this.log.close();
    if (this.logFd !== null) closeSync(this.logFd);
    this.logFd = null;
  }

  private read(docs: ArrayLike<number>): RecallRecord[] {
    const out: RecallRecord[] = [];
    for (let i = 0; i < docs.length; i++) {
      const r = this.recordOf(docs[i]!);
      if (r) out.push(r);
    }
    return out;
  }

  /** A page of hits, newest first; the total is exact unless the text check stopped early (then `totalIsUpperBound`). */
  private paged(hits: QueryHits, page: number, pageSize: number): RecallSearchResult {
    const docs = hits.newest(page * pageSize, pageSize);
    const total = hits.total;
    const result: RecallSearchResult = { records: this.read(docs), total, page, pageCount: Math.ceil(total / pageSize) };
    if (!hits.exact) result.totalIsUpperBound = true;
    return result;
  }

  private parseBound(value: string, which: 'start' | 'end'): number {
    const bad = (): never => {
      throw new RecallQueryError(
        `The ${which} date ${JSON.stringify(value)} is not a date. Use YYYY-MM-DD (e.g. 2024-05-01) or an ISO timestamp (e.g. 2024-05-01T14:30:00Z).`,
      );
    };
    if (typeof value !== 'string') return bad();
    const v = value.trim();
    const d = DATE_ONLY.exec(v);
    if (d) {
      const [y, mo, da] = [Number(d[1]), Number(d[2]), Number(d[3])];
      const ms = which === 'start' ? [0, 0, 0, 0] : [23, 59, 59, 999];
      const date =
        this.timeZone === 'utc'
          ? new Date(Date.UTC(y, mo - 1, da, ms[0], ms[1], ms[2], ms[3]))
          : new Date(y, mo - 1, da, ms[0], ms[1], ms[2], ms[3]);
      const real =
        this.timeZone === 'utc'
          ? date.getUTCMonth() === mo - 1 && date.getUTCDate() === da
          : date.getMonth() === mo - 1 && date.getDate() === da;
      if (!real) return bad(); // 2024-02-30 rolls over in Date; refuse it
      return date.getTime();
    }
    if (!TIMESTAMP.test(v)) return bad();
    const t = Date.parse(v);
    if (Number.isNaN(t)) return bad();
    return t;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Indexes the whole log into the (empty) index in `indexDir` and writes it out: the rebuild, as
 * run in a worker thread (recallRebuildWorker.ts). Returns the number of records read.
 */
export async function rebuildRecallIndex(job: Omit<RecallRebuildJob, 'kind'>): Promise<number> {
  const quiet = { damaged: () => undefined, repaired: () => undefined };
  const { index } = await RecallIndex.open(job.logFile, job.indexDir, { readOnly: false, flushDocs: job.flushDocs, events: quiet });
  let read = 0;
  try {
    // Read-only: a torn tail is repaired by the store that opens the log after this.
    const { log } = await AppendLog.open<RecallRecord>(job.logFile, {
      validate: validateStored,
      readOnly: true,
      from: index.logBytes,
      onEntry: (r, offset, bytes) => {
        read++;
        return index.addRebuilding(r, offset, bytes);
      },
    });
    await log.close();
  } finally {
    await index.close();
  }
  return read;
}

/** Runs rebuildRecallIndex in a worker thread; rejects when there is no worker script or the worker fails. */
async function rebuildInWorker(job: Omit<RecallRebuildJob, 'kind'>): Promise<number> {
  const read = await runRecallWorker({ kind: 'rebuild', ...job });
  if (typeof read !== 'number') throw new Error('the recall index worker answered without a count');
  return read;
}

function checkPaging(page: number, pageSize: number): void {
  if (!Number.isInteger(page) || page < 0) {
    throw new RecallQueryError(`Page ${JSON.stringify(page)} is not valid: pages are numbered 0, 1, 2, … (0 is the newest results).`);
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > RECALL_MAX_PAGE_SIZE) {
    throw new RecallQueryError(`Page size ${JSON.stringify(pageSize)} is not valid: use 1 to ${RECALL_MAX_PAGE_SIZE}.`);
  }
}
