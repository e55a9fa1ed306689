import type { RecallRecord } from '../interfaces/recallStore';
import { RECALL_PREFIX_MATCH_MIN_CHARS } from '../limits';

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
 * (with repeats). A hand-rolled scan: this runs over every stored message when
 * recall opens, where a regex per word costs several times more.
 */
export function forEachIndexToken(text: string, emit: (token: string) => void): void {
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
    const word = text.slice(start, i);
    if (kind !== 3) {
      emit(word);
      continue;
    }
    const parts = wordParts(word);
    if (parts.length === 1) {
      emit(parts[0]!);
    } else {
      emit(word.toLowerCase());
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

export class RecallQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecallQueryError';
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
