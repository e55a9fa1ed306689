import * as path from 'node:path';
import type { ChatMessage } from '../interfaces/chatModel';
import type { RecallKind, RecallRecord, RecallSearchResult, RecallStore } from '../interfaces/recallStore';
import { AppendLog, ReadOnlyLogError, type AppendLogOpenReport } from '../storage/appendLog';
import { RECALL_INDEX_SLICE_MS, RECALL_MAX_PAGE_SIZE, SEARCH_PAGE_SIZE } from '../limits';
import {
  allowPrefix,
  forEachIndexToken,
  normalizeForPhrase,
  parseQuery,
  partSequence,
  RecallQueryError,
  searchableText,
  type QueryTerm,
} from './recallText';

/**
 * Recall memory on an AppendLog (`recall.log` in the store's folder): every
 * record is durable before append() resolves, and a crash costs at most the
 * unacknowledged tail. All records are held in memory with a per-agent
 * inverted index (token → ascending record positions) and a sorted vocabulary
 * for prefix matches, so search does not scan text.
 *
 * Search semantics (what is searchable: see recallText.ts):
 * - case-insensitive; every word of the query is required, in any order;
 * - an identifier matches across naming styles: `parseConfig` finds
 *   `parse_config`, `ParseConfig`, `parse config` (its parts, adjacent, in order);
 * - a word of 3+ characters also matches longer words it starts (`config` → `configuration`);
 * - a "quoted phrase" matches verbatim (case-insensitive, whitespace runs
 *   count as one space) starting at a word boundary;
 * - results are newest first; pages are 0-based (MemGPT's convention).
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
        if (!c || typeof c.id !== 'string' || !c.function || typeof c.function.name !== 'string' || typeof c.function.arguments !== 'string') return false;
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

/**
 * Everything one agent has in recall. Positions are indexes into `records`.
 * Records are held at once; the text index catches up in slices (see
 * FileRecallStore.open), and any query first finishes it synchronously.
 */
class AgentRecall {
  readonly records: RecallRecord[] = [];
  readonly times: number[] = [];
  readonly texts: string[] = [];
  readonly postings = new Map<string, number[]>();
  /** Records [0, indexed) are in `texts` and `postings`. */
  indexed = 0;
  /** Every token, for prefix lookups; sorted lazily (new tokens are appended). */
  private vocab: string[] = [];
  private vocabSorted = true;
  /** tool_call_id → function name, to tell what a tool result came from. */
  private readonly callNames = new Map<string, string>();

  add(record: RecallRecord): void {
    const m = record.message;
    if (m.role === 'assistant') for (const c of m.tool_calls ?? []) this.callNames.set(c.id, c.function.name);
    this.records.push(record);
    this.times.push(Date.parse(record.time));
  }

  /** Indexes pending records until done or `deadline` (performance.now()) passes; true when complete. */
  indexSome(deadline = Infinity): boolean {
    const names = (id: string): string | undefined => this.callNames.get(id);
    while (this.indexed < this.records.length) {
      const pos = this.indexed;
      const text = searchableText(this.records[pos]!, names);
      this.texts.push(text);
      forEachIndexToken(text, (token) => {
        let list = this.postings.get(token);
        if (!list) {
          list = [];
          this.postings.set(token, list);
          this.vocab.push(token);
          this.vocabSorted = false;
        }
        if (list[list.length - 1] !== pos) list.push(pos);
      });
      this.indexed++;
      if ((pos & 63) === 0 && performance.now() > deadline) break;
    }
    return this.indexed === this.records.length;
  }

  private ensureSorted(): void {
    if (!this.vocabSorted) {
      // Mostly sorted already (new tokens at the end): the engine's merge sort is near-linear on that.
      this.vocab.sort();
      this.vocabSorted = true;
    }
  }

  /** Positions containing `token` (or, with `prefix`, any token starting with it), ascending. */
  positions(token: string, prefix: boolean): number[] {
    if (!prefix || !allowPrefix(token)) return this.postings.get(token) ?? [];
    this.ensureSorted();
    let lo = 0;
    let hi = this.vocab.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vocab[mid]! < token) lo = mid + 1;
      else hi = mid;
    }
    const lists: number[][] = [];
    for (let i = lo; i < this.vocab.length && this.vocab[i]!.startsWith(token); i++) lists.push(this.postings.get(this.vocab[i]!)!);
    if (lists.length <= 1) return lists[0] ?? [];
    const mark = new Uint8Array(this.records.length);
    for (const l of lists) for (const p of l) mark[p] = 1;
    const out: number[] = [];
    for (let p = 0; p < mark.length; p++) if (mark[p]) out.push(p);
    return out;
  }
}

function contains(sorted: number[], value: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

function hasConsecutive(seq: string[], parts: string[], prefixLast: boolean): boolean {
  const last = parts.length - 1;
  outer: for (let i = 0; i + parts.length <= seq.length; i++) {
    for (let j = 0; j <= last; j++) {
      const s = seq[i + j]!;
      const q = parts[j]!;
      const ok = j === last && prefixLast && allowPrefix(q) ? s.startsWith(q) : s === q;
      if (!ok) continue outer;
    }
    return true;
  }
  return false;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

function phraseAt(normalized: string, phrase: string): boolean {
  const startsWithWordChar = WORD_CHAR.test(phrase[0]!);
  for (let i = normalized.indexOf(phrase); i !== -1; i = normalized.indexOf(phrase, i + 1)) {
    if (!startsWithWordChar || i === 0 || !WORD_CHAR.test(normalized[i - 1]!)) return true;
  }
  return false;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

export class FileRecallStore implements RecallStore {
  private readonly byAgent = new Map<string, AgentRecall>();
  private readonly byId = new Map<string, RecallRecord>();
  private lastSeq = 0;
  private total = 0;

  private constructor(
    private readonly log: AppendLog<RecallRecord>,
    /** What opening found and repaired (torn tail, corrupt lines). */
    readonly openReport: AppendLogOpenReport,
    private readonly timeZone: 'local' | 'utc',
  ) {}

  static async open(dir: string, options: FileRecallStoreOptions = {}): Promise<FileRecallStore> {
    const { log, entries, report } = await AppendLog.open<RecallRecord>(path.join(dir, RECALL_LOG_FILE), {
      validate: validateStored,
      readOnly: options.readOnly === true,
    });
    const store = new FileRecallStore(log, report, options.timeZone ?? 'local');
    for (const r of entries) store.add(r);
    store.scheduleIndexing();
    return store;
  }

  /**
   * Resolves when every record is in the text index. Opening does not wait for
   * it: the index is built in slices of RECALL_INDEX_SLICE_MS between other
   * work, and a query that comes first completes it on the spot.
   */
  whenIndexed(): Promise<void> {
    return this.indexing ?? Promise.resolve();
  }

  private indexing: Promise<void> | null = null;
  private closed = false;

  private scheduleIndexing(): void {
    if (this.indexing) return;
    this.indexing = new Promise<void>((resolve) => {
      const slice = (): void => {
        const deadline = performance.now() + RECALL_INDEX_SLICE_MS;
        let done = true;
        for (const a of this.closed ? [] : this.byAgent.values()) {
          if (!a.indexSome(deadline)) {
            done = false;
            break;
          }
        }
        if (done) {
          this.indexing = null;
          resolve();
        } else {
          setImmediate(slice);
        }
      };
      setImmediate(slice);
    });
  }

  /** The agent's records with the text index complete. */
  private agent(agentId: string): AgentRecall | undefined {
    const a = this.byAgent.get(agentId);
    a?.indexSome();
    return a;
  }

  private add(record: RecallRecord): void {
    if (this.byId.has(record.id)) return; // a duplicated line can only come from a hand-edited file
    let a = this.byAgent.get(record.agentId);
    if (!a) {
      a = new AgentRecall();
      this.byAgent.set(record.agentId, a);
    }
    a.add(record);
    this.byId.set(record.id, record);
    if (record.seq > this.lastSeq) this.lastSeq = record.seq;
    this.total++;
  }

  get readOnly(): boolean {
    return this.log.readOnly;
  }

  /** Read-only stores: loads records the lock holder appended since; returns how many. */
  async refresh(): Promise<number> {
    const fresh = await this.log.readNew();
    for (const r of fresh) this.add(r);
    if (fresh.length > 0) this.scheduleIndexing();
    return fresh.length;
  }

  async append(records: NewRecallRecord[]): Promise<RecallRecord[]> {
    if (this.log.readOnly) throw new ReadOnlyLogError(this.log.file);
    const stored: RecallRecord[] = records.map((r, i) => {
      if (!r || typeof r.agentId !== 'string' || r.agentId === '') throw new Error(`Recall record ${i}: "agentId" must be a non-empty string.`);
      if (!KINDS.has(r.kind)) throw new Error(`Recall record ${i}: unknown kind ${JSON.stringify(r.kind)}; expected one of ${[...KINDS].join(', ')}.`);
      if (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time))) throw new Error(`Recall record ${i}: "time" must be an ISO 8601 time (got ${JSON.stringify(r.time)}).`);
      if (!checkMessage(r.message)) throw new Error(`Recall record ${i}: "message" is not a valid chat message.`);
      return { id: '', seq: 0, time: r.time, agentId: r.agentId, kind: r.kind, message: r.message };
    });
    // Numbers are taken before the write so concurrent appends keep their call order.
    for (const r of stored) {
      r.seq = ++this.lastSeq;
      r.id = `r${r.seq}`;
    }
    await this.log.append(stored);
    for (const r of stored) this.add(r);
    // Small appends (the normal case) are indexed at once; a bulk import catches up in slices.
    if (stored.length <= 64 && !this.indexing) for (const a of this.byAgent.values()) a.indexSome();
    else this.scheduleIndexing();
    return stored;
  }

  get(ids: string[]): RecallRecord[] {
    const out: RecallRecord[] = [];
    for (const id of ids) {
      const r = this.byId.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  search(agentId: string, query: string, page: number, pageSize: number = SEARCH_PAGE_SIZE): RecallSearchResult {
    checkPaging(page, pageSize);
    const terms = parseQuery(query);
    const a = this.agent(agentId);
    if (!a) return { records: [], total: 0, page, pageCount: 0 };

    const candidateLists = terms.map((t) => candidatesOf(a, t)).sort((x, y) => x.length - y.length);
    const [smallest, ...others] = candidateLists;
    const needsCheck = terms.filter((t) => t.kind === 'phrase' || t.parts.length > 1);
    const hits: number[] = [];
    for (let i = smallest!.length - 1; i >= 0; i--) {
      const pos = smallest![i]!;
      if (!others.every((l) => contains(l, pos))) continue;
      if (needsCheck.length > 0 && !verify(a.texts[pos]!, needsCheck)) continue;
      hits.push(pos);
    }
    return this.paged(a, hits, page, pageSize);
  }

  searchDate(agentId: string, start: string, end: string, page: number, pageSize: number = SEARCH_PAGE_SIZE): RecallSearchResult {
    checkPaging(page, pageSize);
    const from = this.parseBound(start, 'start');
    const to = this.parseBound(end, 'end');
    if (from > to) {
      throw new RecallQueryError(`The start date ${start} is after the end date ${end}. Give the earlier date first.`);
    }
    const a = this.byAgent.get(agentId);
    if (!a) return { records: [], total: 0, page, pageCount: 0 };
    const hits: number[] = [];
    for (let pos = 0; pos < a.times.length; pos++) {
      const t = a.times[pos]!;
      if (t >= from && t <= to) hits.push(pos);
    }
    // Oldest first by time; store order breaks ties (and is already time order unless a clock jumped).
    hits.sort((x, y) => a.times[x]! - a.times[y]! || x - y);
    return this.paged(a, hits, page, pageSize);
  }

  page(agentId: string, beforeSeq: number | undefined, limit: number): RecallRecord[] {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`page(): limit must be a non-negative integer (got ${limit}).`);
    const a = this.byAgent.get(agentId);
    if (!a || limit === 0) return [];
    let end = a.records.length;
    if (beforeSeq !== undefined) {
      let lo = 0;
      let hi = a.records.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a.records[mid]!.seq < beforeSeq) lo = mid + 1;
        else hi = mid;
      }
      end = lo;
    }
    return a.records.slice(Math.max(0, end - limit), end);
  }

  count(agentId?: string): number {
    if (agentId === undefined) return this.total;
    return this.byAgent.get(agentId)?.records.length ?? 0;
  }

  /** Every record of one agent, oldest first (for export). */
  records(agentId: string): RecallRecord[] {
    return [...(this.byAgent.get(agentId)?.records ?? [])];
  }

  /** Agents that have records, with their counts. */
  agents(): { agentId: string; count: number }[] {
    return [...this.byAgent.entries()].map(([agentId, a]) => ({ agentId, count: a.records.length }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.log.close();
  }

  private paged(a: AgentRecall, hits: number[], page: number, pageSize: number): RecallSearchResult {
    const total = hits.length;
    const pageCount = Math.ceil(total / pageSize);
    const records = hits.slice(page * pageSize, (page + 1) * pageSize).map((p) => a.records[p]!);
    return { records, total, page, pageCount };
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
        this.timeZone === 'utc' ? new Date(Date.UTC(y, mo - 1, da, ms[0], ms[1], ms[2], ms[3])) : new Date(y, mo - 1, da, ms[0], ms[1], ms[2], ms[3]);
      const real = this.timeZone === 'utc' ? date.getUTCMonth() === mo - 1 && date.getUTCDate() === da : date.getMonth() === mo - 1 && date.getDate() === da;
      if (!real) return bad(); // 2024-02-30 rolls over in Date; refuse it
      return date.getTime();
    }
    if (!TIMESTAMP.test(v)) return bad();
    const t = Date.parse(v);
    if (Number.isNaN(t)) return bad();
    return t;
  }
}

function checkPaging(page: number, pageSize: number): void {
  if (!Number.isInteger(page) || page < 0) {
    throw new RecallQueryError(`Page ${JSON.stringify(page)} is not valid: pages are numbered 0, 1, 2, … (0 is the newest results).`);
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > RECALL_MAX_PAGE_SIZE) {
    throw new RecallQueryError(`Page size ${JSON.stringify(pageSize)} is not valid: use 1 to ${RECALL_MAX_PAGE_SIZE}.`);
  }
}

function candidatesOf(a: AgentRecall, term: QueryTerm): number[] {
  const tokens = term.kind === 'parts' ? term.parts : term.words;
  let best: number[] | undefined;
  const lists: number[][] = [];
  tokens.forEach((tok, i) => {
    const isLast = i === tokens.length - 1;
    // A phrase's short last word may be the start of a longer word ("config fi"): too broad to narrow by.
    if (term.kind === 'phrase' && isLast && term.prefixLast && !allowPrefix(tok)) return;
    const list = a.positions(tok, isLast && term.prefixLast);
    lists.push(list);
    if (!best || list.length < best.length) best = list;
  });
  if (!best) return Array.from({ length: a.records.length }, (_, p) => p);
  if (lists.length === 1) return lists[0]!;
  return best!.filter((p) => lists.every((l) => l === best || contains(l, p)));
}

function verify(text: string, terms: QueryTerm[]): boolean {
  let seq: string[] | undefined;
  let normalized: string | undefined;
  for (const t of terms) {
    if (t.kind === 'parts') {
      seq ??= partSequence(text);
      if (!hasConsecutive(seq, t.parts, t.prefixLast)) return false;
    } else {
      normalized ??= normalizeForPhrase(text);
      if (!phraseAt(normalized, t.text)) return false;
    }
  }
  return true;
}
