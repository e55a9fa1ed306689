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
import { INDEX_YIELD_EVERY_MS, LOCAL_EMBEDDER_DIMENSIONS } from '../limits';

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
    let sliceStart = performance.now();
    for (const text of texts) {
      signal?.throwIfAborted();
      out.push(this.embedOne(text));
      if (performance.now() - sliceStart > INDEX_YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    return out;
  }

  /** Synchronous form for callers that embed one short query. */
  embedOne(text: string): Float32Array {
    const counts = new Map<number, number>(); // feature hash -> weighted count
    const bump = (h: number, w: number): void => {
      counts.set(h, (counts.get(h) ?? 0) + w);
    };
    let previous: string | undefined;
    forEachTerm(text, {
      part: (term) => {
        bump(hashString(term, SEED_PART), CODE_KEYWORDS.has(term) ? WEIGHT_KEYWORD : WEIGHT_PART);
        if (previous !== undefined) bump(hashString(previous + ' ' + term, SEED_BIGRAM), WEIGHT_BIGRAM);
        previous = term;
        const concept = CONCEPT_OF.get(term);
        if (concept !== undefined) bump(concept, WEIGHT_CONCEPT);
        if (term.length >= 4) {
          const padded = `^${term}$`;
          for (let i = 0; i + 3 <= padded.length; i++) bump(hashString(padded.slice(i, i + 3), SEED_TRIGRAM), WEIGHT_TRIGRAM);
        }
      },
      compound: (term) => bump(hashString(term, SEED_COMPOUND), WEIGHT_COMPOUND),
    });
    const v = new Float32Array(this.dimensions);
    for (const [h, w] of counts) {
      // sub-linear: a word repeated 20 times is not 20 times as telling
      const weight = w >= 1 ? 1 + Math.log(w) : w;
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
