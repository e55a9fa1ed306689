/**
 * The default embedder: no network, no weights. A text becomes a bag of
 * code-aware features (identifier parts, whole identifiers, part bigrams,
 * character trigrams, and a small table of developer concepts so that "remove"
 * meets `delete` and "settings" meets `config`), signed-hashed into a fixed
 * dimension with sub-linear term weights, then L2-normalised.
 *
 * Bump FEATURE_VERSION whenever the features change: the id names the index, so
 * a new version builds a new index instead of mixing incompatible vectors.
 */
import type { Embedder } from '../interfaces/embedder';
import { CODE_KEYWORDS, forEachTerm, normalizePart } from '../index/codeTokens';
import { TimeSlice } from '../index/slice';
import { LOCAL_EMBEDDER_DIMENSIONS } from '../limits';

const FEATURE_VERSION = 1;

const WEIGHT_PART = 1.0;
const WEIGHT_KEYWORD = 0.2;
const WEIGHT_COMPOUND = 0.6;
const WEIGHT_BIGRAM = 0.5;
const WEIGHT_TRIGRAM = 0.2;
const WEIGHT_CONCEPT = 0.8;

/** Words a developer uses interchangeably; each group becomes one extra feature. */
const CONCEPT_GROUPS: readonly string[] = [
  'delete remove unlink destroy drop erase purge clear evict',
  'create make build construct spawn instantiate generate',
  'error exception throw fail failure reject fault invalid',
  'config configuration setting settings option options preference preferences',
  'find search lookup query locate match',
  'start begin launch boot bootstrap',
  'stop end close finish terminate abort cancel shutdown kill',
  'send emit dispatch publish notify',
  'fetch download request load retrieve',
  'parse decode deserialize unmarshal tokenize lex',
  'serialize encode stringify marshal format print',
  'check validate verify assert ensure guard',
  'route router routing endpoint path url',
  'listen listener subscribe handler hook callback watch observer event',
  'log logger logging debug trace warn console',
  'cache memoize memo lru',
  'wait delay timeout sleep timer schedule defer',
  'retry attempt backoff',
  'authentication login password token credential session cookie auth',
  'file directory folder path filesystem fs',
  'test spec expect assert mock fixture',
  'compare equal equals diff same deep',
  'sort order rank compare',
  'convert transform map cast coerce normalize',
  'merge combine join concat extend assign mixin',
  'split separate chunk slice divide',
  'copy clone duplicate',
  'size length count total',
  'escape sanitize encode quote',
  'redirect forward location',
  'template view render layout',
  'middleware plugin extension hook',
  'asynchronous promise await callback then future',
  'default fallback preset',
  'argument arguments flag flags option parameter parameters argv',
  'command subcommand action cli',
  'help usage manual',
  'header headers',
  'status code statuscode',
  'stream pipe readable writable chunk',
  'lock mutex semaphore concurrent',
  'environment env variable',
  'version semver release',
  'install setup initialize init',
  'user account person member',
  'permission access allow deny authorize role',
  'upload attachment multipart',
  'response reply answer result',
  'network http https socket connection',
  'cookie session',
  'proxy agent tunnel',
  'compress gzip deflate zip',
  'encrypt decrypt cipher hash sign signature crypto',
  'date time timestamp clock',
  'text string message',
  'color colour style theme',
  'exit quit',
  'indent indentation tab tabs spaces whitespace',
  'throttle debounce ratelimit frequency often interval',
  'speed rate throughput bandwidth speedometer',
  'adapter transport driver backend provider',
  'progress percent percentage loaded',
  'origin domain host site',
  'json object body payload',
  'prefer preference like favorite favourite want',
];

const SEED_PART = 0x811c9dc5;
const SEED_COMPOUND = 0x01000193;
const SEED_BIGRAM = 0x5bd1e995;
const SEED_TRIGRAM = 0x27d4eb2f;
const SEED_CONCEPT = 0x165667b1;

/** Normalised word -> feature hash of its concept group. */
const CONCEPT_OF: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  CONCEPT_GROUPS.forEach((group, i) => {
    const h = hashString(`concept-${i}`, SEED_CONCEPT);
    for (const w of group.split(' ')) if (!m.has(normalizePart(w))) m.set(normalizePart(w), h);
  });
  return m;
})();

/** FNV-1a over the UTF-16 code units, with a seed per feature kind. */
function hashString(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche so that nearby strings spread over the dimensions
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

interface TermFeatures {
  hash: number;
  weight: number;
  concept: number | undefined;
  trigrams: readonly number[];
}

const featureCache = new Map<string, TermFeatures>();
const FEATURE_CACHE_MAX = 200_000;

/** The features of one normalised term, computed once per spelling. */
function featuresOf(term: string): TermFeatures {
  let f = featureCache.get(term);
  if (f) return f;
  const trigrams: number[] = [];
  if (term.length >= 4) {
    const padded = `^${term}$`;
    for (let i = 0; i + 3 <= padded.length; i++) trigrams.push(hashString(padded.slice(i, i + 3), SEED_TRIGRAM));
  }
  f = {
    hash: hashString(term, SEED_PART),
    weight: CODE_KEYWORDS.has(term) ? WEIGHT_KEYWORD : WEIGHT_PART,
    concept: CONCEPT_OF.get(term),
    trigrams,
  };
  if (featureCache.size >= FEATURE_CACHE_MAX) featureCache.clear();
  featureCache.set(term, f);
  return f;
}

function mixHashes(a: number, b: number): number {
  let h = Math.imul(a ^ SEED_BIGRAM, 0x9e3779b1) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

export interface LocalHashEmbedderOptions {
  dimensions?: number;
}

export class LocalHashEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;

  constructor(options: LocalHashEmbedderOptions = {}) {
    const dims = options.dimensions ?? LOCAL_EMBEDDER_DIMENSIONS;
    if (!Number.isInteger(dims) || dims < 16 || dims > 8192) {
      throw new Error(`LocalHashEmbedder: dimensions must be an integer between 16 and 8192, got ${dims}.`);
    }
    this.dimensions = dims;
    this.id = `local-hash-v${FEATURE_VERSION}-${dims}`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const slice = new TimeSlice();
    for (const text of texts) {
      signal?.throwIfAborted();
      out.push(this.embedOne(text));
      await slice.check();
    }
    return out;
  }

  /** Synchronous form for callers that embed one short query. */
  embedOne(text: string): Float32Array {
    // count first, weigh after: sub-linear tf needs the counts
    const parts = new Map<string, number>();
    const compounds = new Map<string, number>();
    const bigrams = new Map<number, number>();
    let previous = -1;
    forEachTerm(text, {
      part: (term) => {
        parts.set(term, (parts.get(term) ?? 0) + 1);
        const h = featuresOf(term).hash;
        if (previous >= 0) {
          const b = mixHashes(previous, h);
          bigrams.set(b, (bigrams.get(b) ?? 0) + 1);
        }
        previous = h;
      },
      compound: (term) => compounds.set(term, (compounds.get(term) ?? 0) + 1),
    });
    const counts = new Map<number, number>(); // feature hash -> weight
    const bump = (h: number, w: number): void => {
      counts.set(h, (counts.get(h) ?? 0) + w);
    };
    const sublinear = (tf: number): number => 1 + Math.log(tf);
    for (const [term, tf] of parts) {
      const f = featuresOf(term);
      const w = sublinear(tf);
      bump(f.hash, w * f.weight);
      if (f.concept !== undefined) bump(f.concept, w * WEIGHT_CONCEPT);
      for (const t of f.trigrams) bump(t, w * WEIGHT_TRIGRAM);
    }
    for (const [term, tf] of compounds) bump(hashString(term, SEED_COMPOUND), sublinear(tf) * WEIGHT_COMPOUND);
    for (const [h, tf] of bigrams) bump(h, sublinear(tf) * WEIGHT_BIGRAM);
    const v = new Float32Array(this.dimensions);
    for (const [h, weight] of counts) {
      const dim = h % this.dimensions;
      v[dim]! += (h & 0x80000000) !== 0 ? -weight : weight;
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < v.length; i++) v[i]! *= inv;
    }
    return v;
  }
}
