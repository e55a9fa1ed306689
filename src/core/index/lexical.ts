/**
 * The lexical half of hybrid search: BM25 over code-aware terms (codeTokens.ts),
 * kept per segment as postings so that a query touches only its terms' lists,
 * never rebuilds anything (Vectra's built-in BM25 re-indexes on every query).
 *
 * Term ids are process-local (one dictionary shared by all segments); on disk a
 * shard stores its own vocabulary as strings. A loaded shard maps that vocabulary
 * only when a query asks for one of its terms: a one-shot search does not intern
 * every term of every shard to look up a handful.
 */
import { LEXICAL_WEIGHT_COMMENTS, LEXICAL_WEIGHT_PATH, LEXICAL_WEIGHT_SYMBOLS } from '../limits';
import { forEachTerm } from './codeTokens';
import type { TimeSlice } from './slice';
import { SplitMap } from '../base/splitMap';

export class TermDictionary {
  // split: a single Map of every term in the store rehashed all of it at once as it grew (37 ms at 100k chunks)
  private readonly ids = new SplitMap<number>();
  readonly terms: string[] = [];

  id(term: string): number {
    let id = this.ids.get(term);
    if (id === undefined) {
      id = this.terms.length;
      this.ids.set(term, id);
      this.terms.push(term);
    }
    return id;
  }

  lookup(term: string): number | undefined {
    return this.ids.get(term);
  }
}

/**
 * A document's term counts, packed as [termId, tf, termId, tf, …]: the memtable
 * keeps one per chunk until its shard is written, and a Map per chunk was most of
 * what each garbage collection had to copy while indexing.
 */
export type PackedCounts = Uint32Array;

export function packCounts(counts: ReadonlyMap<number, number>): PackedCounts {
  const packed = new Uint32Array(counts.size * 2);
  let at = 0;
  for (const [term, tf] of counts) {
    packed[at++] = term;
    packed[at++] = tf;
  }
  return packed;
}

/** Term counts of one document, and its length in terms. */
export function countTerms(text: string, dict: TermDictionary): { counts: Map<number, number>; length: number } {
  const counts = new Map<number, number>();
  let length = 0;
  const add = (t: string): void => {
    const id = dict.id(t);
    counts.set(id, (counts.get(id) ?? 0) + 1);
    length++;
  };
  forEachTerm(text, { part: add, compound: add });
  return { counts, length };
}

/** What BM25F sees of a chunk: its path, the names it defines, its text (language picks the comment syntax). */
export interface ChunkFields {
  path: string;
  symbols?: string | undefined;
  language: string;
  text: string;
}

const HASH_COMMENT_LANGUAGES: ReadonlySet<string> = new Set([
  'python',
  'ruby',
  'shellscript',
  'perl',
  'r',
  'yaml',
  'toml',
  'elixir',
  'powershell',
  'makefile',
  'dockerfile',
]);
const PROSE_LANGUAGES: ReadonlySet<string> = new Set(['markdown', 'plaintext', 'mdx', 'restructuredtext', '']);
const BLOCK_COMMENT = /\/\*[\s\S]*?\*\//g;
const LINE_COMMENT = /(^|[^:"'`\\])\/\/(.*)$/gm;
const HASH_COMMENT = /^\s*#(?![![])(.*)$/gm;
const DOCSTRING = /("""|''')[\s\S]*?\1/g;

/** The comments of a chunk (the natural-language part of code), joined; '' for prose files. */
export function commentText(text: string, language: string): string {
  if (PROSE_LANGUAGES.has(language)) return '';
  const parts: string[] = [];
  for (const m of text.matchAll(BLOCK_COMMENT)) parts.push(m[0]);
  for (const m of text.matchAll(LINE_COMMENT)) parts.push(m[2]!);
  if (HASH_COMMENT_LANGUAGES.has(language)) {
    for (const m of text.matchAll(HASH_COMMENT)) parts.push(m[1]!);
    if (language === 'python') for (const m of text.matchAll(DOCSTRING)) parts.push(m[0]);
  }
  return parts.join('\n');
}

/**
 * Term counts of a chunk over its fields (BM25F with one length normalisation): each field's
 * terms are counted with the field's weight, the length is the unweighted number of terms.
 * Identifiers are split (codeTokens.ts), so `LruCache` in the symbols field also counts `cache`.
 */
export function countChunkTerms(fields: ChunkFields, dict: TermDictionary): { counts: Map<number, number>; length: number } {
  const counts = new Map<number, number>();
  let length = 0;
  let weight = 1;
  let countLength = true;
  const add = (t: string): void => {
    const id = dict.id(t);
    counts.set(id, (counts.get(id) ?? 0) + weight);
    if (countLength) length++;
  };
  const sink = { part: add, compound: add };
  weight = LEXICAL_WEIGHT_PATH;
  if (fields.path !== '') forEachTerm(fields.path, sink);
  weight = LEXICAL_WEIGHT_SYMBOLS;
  if (fields.symbols) forEachTerm(fields.symbols, sink);
  weight = 1;
  forEachTerm(fields.text, sink);
  // Comments were counted once in the body; their extra weight does not make the chunk longer.
  countLength = false;
  weight = LEXICAL_WEIGHT_COMMENTS;
  if (weight > 0) {
    const comments = commentText(fields.text, fields.language);
    if (comments !== '') forEachTerm(comments, sink);
  }
  return { counts, length };
}

/** The postings of one term: documents docs[start..end) with their term frequencies. */
export interface PostingList {
  docs: ArrayLike<number>;
  tfs: ArrayLike<number>;
  start: number;
  end: number;
}

/** Read access to one segment's postings. */
export interface Postings {
  /**
   * True when the segment holds `term` but the dictionary may not know it yet (a shard maps its
   * vocabulary lazily); the caller then gives the term an id. Segments that intern as they grow say false.
   */
  holdsUnmapped(term: string): boolean;
  /** The term's list, read directly by the scoring loop (no call per posting). */
  list(termId: number): PostingList | undefined;
  /** Calls `visit(doc, tf)` for each document containing the term; returns the document frequency. */
  forEach(termId: number, visit: (doc: number, tf: number) => void): number;
  documentFrequency(termId: number): number;
}

/** Postings of the growing segment (the memtable). */
export class MutablePostings implements Postings {
  private readonly lists = new Map<number, { docs: number[]; tfs: number[] }>();

  holdsUnmapped(): boolean {
    return false; // every term was given an id when its document was counted
  }

  add(doc: number, counts: PackedCounts): void {
    for (let k = 0; k < counts.length; k += 2) {
      const term = counts[k]!;
      const tf = counts[k + 1]!;
      let list = this.lists.get(term);
      if (!list) {
        list = { docs: [], tfs: [] };
        this.lists.set(term, list);
      }
      list.docs.push(doc);
      list.tfs.push(Math.min(tf, 0xffff));
    }
  }

  list(termId: number): PostingList | undefined {
    const list = this.lists.get(termId);
    return list ? { docs: list.docs, tfs: list.tfs, start: 0, end: list.docs.length } : undefined;
  }

  forEach(termId: number, visit: (doc: number, tf: number) => void): number {
    const list = this.lists.get(termId);
    if (!list) return 0;
    for (let i = 0; i < list.docs.length; i++) visit(list.docs[i]!, list.tfs[i]!);
    return list.docs.length;
  }

  documentFrequency(termId: number): number {
    return this.lists.get(termId)?.docs.length ?? 0;
  }
}

/** Serialised postings: a shard's vocabulary and compressed-row lists. */
export interface StoredPostings {
  terms: string[];
  /** terms.length + 1 entries; postings of term i are [offsets[i], offsets[i+1]). */
  offsets: Uint32Array;
  docs: Uint32Array;
  tfs: Uint16Array;
}

/**
 * Builds the stored form from per-document counts (documents numbered in order),
 * in time slices when given one (a shard's 2048 documents take ~20 ms).
 */
export async function buildStoredPostings(
  perDoc: readonly PackedCounts[],
  dict: TermDictionary,
  slice?: TimeSlice,
): Promise<StoredPostings> {
  const df = new Map<number, number>();
  let total = 0;
  for (let d = 0; d < perDoc.length; d++) {
    const counts = perDoc[d]!;
    for (let k = 0; k < counts.length; k += 2) {
      const term = counts[k]!;
      df.set(term, (df.get(term) ?? 0) + 1);
      total++;
    }
    if (d % 64 === 63) await slice?.check();
  }
  const termIds = [...df.keys()].sort((a, b) => a - b);
  const slot = new Map<number, number>();
  const offsets = new Uint32Array(termIds.length + 1);
  termIds.forEach((t, i) => {
    slot.set(t, i);
    offsets[i + 1] = offsets[i]! + df.get(t)!;
  });
  const fill = offsets.slice(0, termIds.length);
  const docs = new Uint32Array(total);
  const tfs = new Uint16Array(total);
  for (let doc = 0; doc < perDoc.length; doc++) {
    const counts = perDoc[doc]!;
    for (let k = 0; k < counts.length; k += 2) {
      const at = fill[slot.get(counts[k]!)!]!++;
      docs[at] = doc;
      tfs[at] = Math.min(counts[k + 1]!, 0xffff);
    }
    if (doc % 64 === 63) await slice?.check();
  }
  return { terms: termIds.map((t) => dict.terms[t]!), offsets, docs, tfs };
}

/**
 * Lookups a shard answers by scanning its vocabulary before it builds a map of it: a one-shot
 * search asks each shard about a handful of words (a scan of a few thousand terms each), a long
 * session asks about many (then the map, built once, is cheaper).
 */
const VOCABULARY_SCANS_BEFORE_MAP = 32;

/** Postings of an immutable shard, looked up by the spelling of the dictionary's term. */
export class FrozenPostings implements Postings {
  /** The shard's vocabulary by spelling, once more than VOCABULARY_SCANS_BEFORE_MAP words were looked up. */
  private localByTerm: Map<string, number> | undefined;
  /** Words looked up by scanning so far, with where they are (-1: not in this shard). */
  private readonly scanned = new Map<string, number>();

  constructor(
    private readonly stored: StoredPostings,
    private readonly dict: TermDictionary,
  ) {}

  holdsUnmapped(term: string): boolean {
    return this.localOf(term) >= 0;
  }

  private localOf(term: string): number {
    if (this.localByTerm) return this.localByTerm.get(term) ?? -1;
    let l = this.scanned.get(term);
    if (l !== undefined) return l;
    if (this.scanned.size >= VOCABULARY_SCANS_BEFORE_MAP) {
      const terms = this.stored.terms;
      this.localByTerm = new Map();
      for (let i = 0; i < terms.length; i++) this.localByTerm.set(terms[i]!, i);
      this.scanned.clear();
      return this.localByTerm.get(term) ?? -1;
    }
    l = this.stored.terms.indexOf(term);
    this.scanned.set(term, l);
    return l;
  }

  get storedForm(): StoredPostings {
    return this.stored;
  }

  private local(termId: number): number {
    const term = this.dict.terms[termId];
    return term === undefined ? -1 : this.localOf(term);
  }

  list(termId: number): PostingList | undefined {
    const l = this.local(termId);
    if (l < 0) return undefined;
    const { offsets, docs, tfs } = this.stored;
    return { docs, tfs, start: offsets[l]!, end: offsets[l + 1]! };
  }

  forEach(termId: number, visit: (doc: number, tf: number) => void): number {
    const l = this.local(termId);
    if (l < 0) return 0;
    const { offsets, docs, tfs } = this.stored;
    const end = offsets[l + 1]!;
    for (let i = offsets[l]!; i < end; i++) visit(docs[i]!, tfs[i]!);
    return end - offsets[l]!;
  }

  documentFrequency(termId: number): number {
    const l = this.local(termId);
    return l < 0 ? 0 : this.stored.offsets[l + 1]! - this.stored.offsets[l]!;
  }
}

/** BM25 parameters (Robertson/Zaragoza defaults). */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export function bm25Idf(totalDocs: number, df: number): number {
  return Math.log(1 + (totalDocs - df + 0.5) / (df + 0.5));
}
