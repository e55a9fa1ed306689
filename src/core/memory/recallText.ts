import type { RecallRecord } from '../interfaces/recallStore';
import { RECALL_PREFIX_MATCH_MIN_CHARS } from '../limits';
import { MemgptError } from '../base/errors';

/**
 * What of a recall record is searchable, and how text becomes search tokens.
 *
 * Searchable: the user's text, the assistant's inner monologue and the
 * `message` of its send_message calls, tool results, system events, alerts and
 * summaries. Not searchable: the JSON of other function calls (arguments are
 * noise), and results of the search functions themselves (they are copies of
 * other memories and would make every search find old searches). Messages
 * packed as JSON (`{"type": "user_message", "message": …, "time": …}`) are
 * searched by their string values, not by their keys or bookkeeping fields.
 *
 * Tokens are code-aware: text splits into words at anything that is not a
 * letter or digit (so `parse_config` is `parse config`), and each word also
 * splits at case changes and digit runs (`parseConfig`, `ParseConfig`,
 * `HTTPServer2` → `http server 2`). The index holds every word whole and its
 * parts, lower-cased.
 */

/** Functions whose results repeat other memory: their results are not indexed. */
export const UNSEARCHED_FUNCTION_RESULTS: ReadonlySet<string> = new Set([
  'conversation_search',
  'conversation_search_date',
  'archival_memory_search',
]);

/** Keys of packed JSON messages that are bookkeeping, not content. */
const NOISE_KEYS = new Set(['type', 'time', 'timestamp', 'status', 'request_heartbeat', 'id', 'tool_call_id']);

function collectStrings(value: unknown, out: string[], depth: number): void {
  if (depth > 8) return;
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out, depth + 1);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (!NOISE_KEYS.has(k)) collectStrings(v, out, depth + 1);
  }
}

/** The human text of a message that may be packed as a JSON object. */
export function unpackText(content: string): string {
  const first = content.charCodeAt(0);
  if (first !== 0x7b /* { */ && !(first <= 0x20 && content.trimStart().startsWith('{'))) return content;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return content;
  }
  if (!parsed || typeof parsed !== 'object') return content;
  const parts: string[] = [];
  collectStrings(parsed, parts, 0);
  return parts.join('\n');
}

/**
 * The searchable text of one record. `functionNameOf` maps a tool_call_id to
 * the function that produced a tool result (from the preceding assistant turn).
 */
export function searchableText(record: RecallRecord, functionNameOf: (toolCallId: string) => string | undefined): string {
  const m = record.message;
  switch (m.role) {
    case 'user':
    case 'system':
      return unpackText(m.content);
    case 'assistant': {
      const parts: string[] = [];
      if (m.content) parts.push(m.content);
      for (const call of m.tool_calls ?? []) {
        if (call.function.name !== 'send_message') continue;
        try {
          const args = JSON.parse(call.function.arguments) as { message?: unknown };
          if (typeof args.message === 'string') parts.push(args.message);
        } catch {
          // Broken arguments were never shown to the user; nothing to find.
        }
      }
      return parts.join('\n');
    }
    case 'tool': {
      const fn = functionNameOf(m.tool_call_id);
      if (fn && UNSEARCHED_FUNCTION_RESULTS.has(fn)) return '';
      return unpackText(m.content);
    }
  }
}

const WORD = /[\p{L}\p{N}]+/gu;
const PART = /\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\p{N}+|[^\p{Lu}\p{Ll}\p{N}]+/gu;
const ASCII_LOWER_ONLY = /^[a-z]+$|^[0-9]+$/;

/** The case/digit parts of one word, lower-cased (a single part when it does not split). */
export function wordParts(word: string): string[] {
  if (ASCII_LOWER_ONLY.test(word)) return [word];
  const parts = word.match(PART);
  if (!parts || parts.length <= 1) return [word.toLowerCase()];
  return parts.map((p) => p.toLowerCase());
}

const NON_ASCII_WORD_CHAR = /[\p{L}\p{N}]/u;

/** Letters and digits (any script) make words; everything else separates them. */
function isWordChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
  return NON_ASCII_WORD_CHAR.test(text[i]!);
}

/**
 * Calls `emit` with every index token of `text`: each word whole and its parts
 * (with repeats), and `word`, when given, with each word whole (lower-cased) in
 * order. A hand-rolled scan: this runs over every stored message when recall
 * opens, where a regex per word costs several times more.
 */
export function forEachIndexToken(text: string, emit: (token: string) => void, word?: (whole: string) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && !isWordChar(text, i)) i++;
    if (i >= n) break;
    const start = i;
    // Fast path: a run of ASCII lower-case letters or of digits is one token as it stands.
    let kind = 0; // 0 unknown, 1 lower, 2 digit, 3 needs the general splitter
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      const k = c >= 97 && c <= 122 ? 1 : c >= 48 && c <= 57 ? 2 : 3;
      if (k === 3) {
        if (!isWordChar(text, i)) break;
        kind = 3;
      } else if (kind === 0) kind = k;
      else if (kind !== k) kind = 3;
    }
    const raw = text.slice(start, i);
    if (kind !== 3) {
      emit(raw);
      word?.(raw);
      continue;
    }
    const parts = wordParts(raw);
    if (parts.length === 1) {
      emit(parts[0]!);
      word?.(parts[0]!);
    } else {
      const whole = raw.toLowerCase();
      emit(whole);
      word?.(whole);
      for (const p of parts) emit(p);
    }
  }
}

/** The sequence of word parts of a text, in order: what adjacency of an identifier is checked on. */
export function partSequence(text: string): string[] {
  const out: string[] = [];
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) for (const p of wordParts(m[0])) out.push(p);
  return out;
}

/** One requirement of a query; a record matches when it meets all of them. */
export type QueryTerm =
  /** Consecutive word parts (one for a plain word); the last may be a prefix. */
  | { kind: 'parts'; parts: string[]; prefixLast: boolean }
  /** Verbatim text (lower-cased, whitespace collapsed) starting at a word boundary; `words` narrow the candidates. */
  | { kind: 'phrase'; text: string; words: string[]; prefixLast: boolean };

export class RecallQueryError extends MemgptError {
  constructor(message: string) {
    super('invalid_query', message);
  }
}

const allowPrefix = (token: string): boolean => token.length >= RECALL_PREFIX_MATCH_MIN_CHARS;

export function normalizeForPhrase(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ');
}

/**
 * Parses a search query: words (all required, any order, case-insensitive,
 * identifiers matched across naming styles) and "quoted phrases" (verbatim).
 */
export function parseQuery(query: string): QueryTerm[] {
  if (typeof query !== 'string') throw new RecallQueryError('The search query must be a string.');
  const terms: QueryTerm[] = [];
  const rest = query.replace(/"([^"]*)"/g, (_all, inner: string) => {
    const text = normalizeForPhrase(inner).trim();
    const words = text.match(WORD)?.map((w) => w.toLowerCase()) ?? [];
    if (text !== '' && words.length > 0) {
      const endsInWord = /[\p{L}\p{N}]$/u.test(text);
      terms.push({ kind: 'phrase', text, words, prefixLast: endsInWord });
    }
    return ' ';
  });
  for (const raw of rest.replace(/"/g, ' ').split(/\s+/)) {
    const parts = partSequence(raw);
    if (parts.length > 0) terms.push({ kind: 'parts', parts, prefixLast: true });
  }
  if (terms.length === 0) {
    throw new RecallQueryError(
      `The search query ${JSON.stringify(query)} has no words to search for. Give one or more words, an identifier, or a "quoted phrase".`,
    );
  }
  return terms;
}

export { allowPrefix };

// ─── conversation_search: what is searched by default, and in which order ────

/**
 * Parts of recall a conversation search can cover. `dialogue` (what the user wrote and what
 * the agent sent with send_message) is always searched; the rest only when asked for: the
 * agent's own summaries and tool outputs repeat the dialogue in other words and used to crowd
 * the original message out of the first page.
 */
export type RecallCategory = 'dialogue' | 'thoughts' | 'tool_results' | 'events' | 'summaries';
export const RECALL_INCLUDE_OPTIONS: readonly Exclude<RecallCategory, 'dialogue'>[] = ['thoughts', 'tool_results', 'events', 'summaries'];

/** Originals first: a summary or a tool output that says the same thing ranks below the message itself. */
const CATEGORY_WEIGHT: Record<RecallCategory, number> = { dialogue: 1, thoughts: 0.8, events: 0.7, tool_results: 0.7, summaries: 0.5 };

export interface RecallPart {
  category: RecallCategory;
  /** How the part is introduced when shown to the model. */
  label: string;
  text: string;
}

function envelopeMessage(content: string): string {
  try {
    const parsed = JSON.parse(content) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not an envelope: the text as it stands.
  }
  return content;
}

/** The searchable parts of one record, each with its category. */
export function recallParts(record: RecallRecord): RecallPart[] {
  const m = record.message;
  switch (record.kind) {
    case 'user':
      return m.role === 'user' ? [{ category: 'dialogue', label: 'user', text: envelopeMessage(m.content) }] : [];
    case 'assistant': {
      if (m.role !== 'assistant') return [];
      const parts: RecallPart[] = [];
      if (m.content) parts.push({ category: 'thoughts', label: 'assistant (thinking)', text: m.content });
      for (const call of m.tool_calls ?? []) {
        if (call.function.name !== 'send_message') continue;
        const text = envelopeMessage(call.function.arguments);
        if (text !== call.function.arguments) parts.push({ category: 'dialogue', label: 'assistant', text });
      }
      return parts;
    }
    case 'tool':
      return [{ category: 'tool_results', label: 'function result', text: unpackText(m.content ?? '') }];
    case 'system_event':
    case 'system_alert':
      return [{ category: 'events', label: 'event', text: unpackText(m.content ?? '') }];
    case 'summary':
      return [{ category: 'summaries', label: 'summary', text: unpackText(m.content ?? '') }];
  }
}

/** Where the parts follow each other in `seq` (the last a prefix with prefixLast): the count, up to `limit`. */
function consecutiveParts(seq: string[], parts: string[], prefixLast: boolean, limit = Infinity): number {
  const last = parts.length - 1;
  let found = 0;
  outer: for (let i = 0; i + parts.length <= seq.length && found < limit; i++) {
    for (let j = 0; j <= last; j++) {
      const s = seq[i + j]!;
      const q = parts[j]!;
      if (!(j === last && prefixLast && allowPrefix(q) ? s.startsWith(q) : s === q)) continue outer;
    }
    found++;
  }
  return found;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Where the phrase occurs in normalized text starting at a word boundary: the count, up to `limit`. */
function phraseCount(normalized: string, phrase: string, limit = Infinity): number {
  const startsWithWordChar = WORD_CHAR.test(phrase[0]!);
  let found = 0;
  for (let i = normalized.indexOf(phrase); i !== -1 && found < limit; i = normalized.indexOf(phrase, i + 1)) {
    if (!startsWithWordChar || i === 0 || !WORD_CHAR.test(normalized[i - 1]!)) found++;
  }
  return found;
}

/**
 * True when `text` meets every term that needs the text itself (identifiers as consecutive
 * parts, phrases verbatim): the check the index's candidates go through.
 */
export function textMatches(text: string, terms: readonly QueryTerm[]): boolean {
  let seq: string[] | undefined;
  let normalized: string | undefined;
  for (const t of terms) {
    const n =
      t.kind === 'parts'
        ? consecutiveParts((seq ??= partSequence(text)), t.parts, t.prefixLast, 1)
        : phraseCount((normalized ??= normalizeForPhrase(text)), t.text, 1);
    if (n === 0) return false;
  }
  return true;
}

/**
 * How often each query term occurs in `text` (the same matching rules as the recall index:
 * words whole or as identifier parts, prefixes of 3+ characters, phrases verbatim), and the
 * text's length in index tokens. A term count of 0 means the text does not match.
 */
export function termCounts(text: string, terms: QueryTerm[]): { counts: number[]; length: number } {
  const tokens: string[] = [];
  forEachIndexToken(text, (t) => tokens.push(t));
  let seq: string[] | undefined;
  let normalized: string | undefined;
  const counts = terms.map((t) => {
    if (t.kind === 'phrase') return phraseCount((normalized ??= normalizeForPhrase(text)), t.text);
    if (t.parts.length > 1) return consecutiveParts((seq ??= partSequence(text)), t.parts, t.prefixLast);
    const q = t.parts[0]!;
    const prefix = t.prefixLast && allowPrefix(q);
    let n = 0;
    for (const tok of tokens) if (tok === q || (prefix && tok.startsWith(q))) n++;
    return n;
  });
  return { counts, length: tokens.length };
}

export interface RankedRecall {
  record: RecallRecord;
  /** The matched parts, as shown to the model. */
  parts: RecallPart[];
  score: number;
  /** Older records with the same text, collapsed into this one. */
  repeats: number;
}

/**
 * Ranks recall records for a query: only the parts in `include` (dialogue always) are
 * searched; records in `exclude` (already in the context window) are left out; a record
 * matches when its included text has every term. Relevance is BM25 over the matched text,
 * weighted by category (originals above summaries and tool outputs); newer wins ties.
 * Records whose shown text is the same are collapsed into the best (newest) one.
 */
export function rankRecall(
  candidates: RecallRecord[],
  terms: QueryTerm[],
  include: ReadonlySet<RecallCategory>,
  exclude: ReadonlySet<string>,
): RankedRecall[] {
  const matched: { record: RecallRecord; parts: RecallPart[]; counts: number[]; length: number; weight: number }[] = [];
  for (const record of candidates) {
    if (exclude.has(record.id)) continue;
    const parts = recallParts(record).filter((p) => p.category === 'dialogue' || include.has(p.category));
    if (parts.length === 0) continue;
    const { counts, length } = termCounts(parts.map((p) => p.text).join('\n'), terms);
    if (counts.some((c) => c === 0)) continue;
    matched.push({ record, parts, counts, length, weight: Math.max(...parts.map((p) => CATEGORY_WEIGHT[p.category])) });
  }
  const avgLength = matched.reduce((n, m) => n + m.length, 0) / Math.max(1, matched.length) || 1;
  const k1 = 1.2;
  const b = 0.75;
  const ranked = matched.map((m) => {
    let score = 0;
    for (const tf of m.counts) score += (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * m.length) / avgLength));
    return { record: m.record, parts: m.parts, score: score * m.weight, repeats: 0 };
  });
  ranked.sort((x, y) => y.score - x.score || y.record.seq - x.record.seq);
  const seen = new Map<string, RankedRecall>();
  const out: RankedRecall[] = [];
  for (const r of ranked) {
    const key = normalizeForPhrase(r.parts.map((p) => `${p.label}: ${p.text}`).join('\n')).trim();
    const first = seen.get(key);
    if (first) {
      first.repeats++;
      continue;
    }
    seen.set(key, r);
    out.push(r);
  }
  return out;
}
