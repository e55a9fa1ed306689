/**
 * The parts of a Hugging Face `tokenizer.json` that static embedding models use, in plain
 * TypeScript: normalizers (BERT's, lowercase, accents, Unicode forms), pre-tokenizers (BERT's,
 * whitespace, metaspace, byte-level, punctuation) and the three subword models (WordPiece, BPE,
 * Unigram). Special tokens are never added: a static model averages the rows of the text's own
 * tokens. A component this file does not implement is refused with a coded error, so a model is
 * never run with a tokenizer that silently splits text differently from the one it was made with.
 */
import { TOKENIZER_WORD_CACHE_SIZE } from '../limits';
import { ModelFileError } from './safetensors';

/** Turns text into token ids of the model's vocabulary. */
export interface Tokenizer {
  /** Token ids of `text`, in order; words the vocabulary cannot spell come out as `unkId`. */
  encode(text: string): number[];
  /** Number of ids (highest id + 1). */
  readonly vocabSize: number;
  /** The unknown token's id, when the model has one. */
  readonly unkId: number | undefined;
}

type Json = Record<string, unknown>;
type Normalize = (s: string) => string;
type PreTokenize = (s: string) => string[];

function unsupported(what: string): ModelFileError {
  return new ModelFileError(
    'model_unsupported',
    `The tokenizer uses ${what}, which this tokenizer does not implement. Use a Model2Vec model with a WordPiece, BPE or Unigram tokenizer.`,
  );
}

function corrupt(why: string): ModelFileError {
  return new ModelFileError(
    'model_file_corrupt',
    `The tokenizer.json is not a valid tokenizer: ${why}. Download the model again, or pick another folder.`,
  );
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// ─── Character classes (the rules of the Rust `tokenizers` crate) ───────────

const PUNCT = /\p{P}/u;
const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || /\s/u.test(c);
/** BERT counts every non-alphanumeric ASCII symbol as punctuation, `$` and `^` included. */
function isBertPunctuation(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return PUNCT.test(c);
}
function isControl(c: string): boolean {
  if (c === '\t' || c === '\n' || c === '\r') return false;
  return /\p{Cc}|\p{Cf}|\p{Co}|\p{Cn}/u.test(c);
}
function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}
const stripAccents = (s: string): string => s.normalize('NFD').replace(/\p{Mn}/gu, '');
const PLAIN_ASCII = /^[\x20-\x7e\t\n\r]*$/;

// ─── Normalizers ────────────────────────────────────────────────────────────

function bertNormalizer(cfg: Json): Normalize {
  const clean = cfg.clean_text !== false;
  const chinese = cfg.handle_chinese_chars !== false;
  const lowercase = cfg.lowercase !== false;
  // BERT's rule: accents are stripped when not said otherwise and the text is lowercased.
  const strip = typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : lowercase;
  return (s) => {
    // Printable ASCII (most code) needs no per-character work: only whitespace and case change.
    if (PLAIN_ASCII.test(s)) {
      const t = clean ? s.replace(/[\t\n\r]/g, ' ') : s;
      return lowercase ? t.toLowerCase() : t;
    }
    let out = '';
    for (const c of s) {
      const cp = c.codePointAt(0)!;
      if (clean) {
        if (cp === 0 || cp === 0xfffd || isControl(c)) continue;
        if (isWhitespace(c)) {
          out += ' ';
          continue;
        }
      }
      out += chinese && isChineseChar(cp) ? ` ${c} ` : c;
    }
    if (strip) out = stripAccents(out);
    if (lowercase) out = out.toLowerCase();
    return out;
  };
}

function normalizer(cfg: unknown): Normalize {
  if (cfg === null || cfg === undefined) return (s) => s;
  if (!isObject(cfg)) throw corrupt('the normalizer is not an object');
  switch (cfg.type) {
    case 'BertNormalizer':
      return bertNormalizer(cfg);
    case 'Lowercase':
      return (s) => s.toLowerCase();
    case 'StripAccents':
      return stripAccents;
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = cfg.type;
      return (s) => s.normalize(form);
    }
    // SentencePiece's compiled character map is, for the models that ship it, NFKC plus a few
    // whitespace rules; NFKC is what this reader applies.
    case 'Precompiled':
      return (s) => s.normalize('NFKC');
    case 'Strip': {
      const left = cfg.strip_left !== false;
      const right = cfg.strip_right !== false;
      return (s) => (left && right ? s.trim() : left ? s.trimStart() : right ? s.trimEnd() : s);
    }
    case 'Replace': {
      const pattern = isObject(cfg.pattern) ? cfg.pattern : {};
      const content = typeof cfg.content === 'string' ? cfg.content : '';
      if (typeof pattern.String === 'string') {
        const from = pattern.String;
        return (s) => s.split(from).join(content);
      }
      if (typeof pattern.Regex === 'string') {
        const re = new RegExp(pattern.Regex, 'gu');
        return (s) => s.replace(re, content);
      }
      throw corrupt('a Replace normalizer has no pattern');
    }
    case 'Prepend': {
      const prepend = typeof cfg.prepend === 'string' ? cfg.prepend : '';
      return (s) => (s === '' ? s : prepend + s);
    }
    case 'Sequence': {
      if (!Array.isArray(cfg.normalizers)) throw corrupt('a Sequence normalizer has no list');
      const steps = cfg.normalizers.map(normalizer);
      return (s) => steps.reduce((acc, f) => f(acc), s);
    }
    default:
      throw unsupported(`the normalizer ${JSON.stringify(cfg.type)}`);
  }
}

// ─── Pre-tokenizers ─────────────────────────────────────────────────────────

/** Splits on whitespace and makes each punctuation character a word of its own. */
function bertPreTokenize(s: string): string[] {
  if (PLAIN_ASCII.test(s)) return s.match(ASCII_BERT_WORDS) ?? [];
  const out: string[] = [];
  let word = '';
  for (const c of s) {
    if (isWhitespace(c)) {
      if (word) out.push(word);
      word = '';
    } else if (isBertPunctuation(c)) {
      if (word) out.push(word);
      out.push(c);
      word = '';
    } else {
      word += c;
    }
  }
  if (word) out.push(word);
  return out;
}

/** In ASCII text, BERT's words are runs of letters and digits, and each other visible character alone. */
const ASCII_BERT_WORDS = /[A-Za-z0-9]+|[!-/:-@[-`{-~]/g;

/** GPT-2's byte-to-character table: printable bytes map to themselves, the rest above 255. */
const BYTE_TO_CHAR: readonly string[] = (() => {
  const table: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return table;
})();
const BYTE_LEVEL_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const utf8 = new TextEncoder();

function preTokenizer(cfg: unknown): PreTokenize {
  if (cfg === null || cfg === undefined) return (s) => (s === '' ? [] : [s]);
  if (!isObject(cfg)) throw corrupt('the pre-tokenizer is not an object');
  switch (cfg.type) {
    case 'BertPreTokenizer':
      return bertPreTokenize;
    case 'WhitespaceSplit':
      return (s) => s.split(/\s+/u).filter((w) => w !== '');
    case 'Whitespace':
      return (s) => s.match(/\w+|[^\w\s]+/gu) ?? [];
    case 'Punctuation':
      return (s) => s.split(/(\p{P})/u).filter((w) => w !== '');
    case 'Digits':
      return cfg.individual_digits === true
        ? (s) => s.split(/(\p{N})/u).filter((w) => w !== '')
        : (s) => s.split(/(\p{N}+)/u).filter((w) => w !== '');
    case 'Metaspace': {
      const replacement = typeof cfg.replacement === 'string' ? cfg.replacement : '▁';
      const prepend = cfg.prepend_scheme === 'never' ? false : cfg.add_prefix_space !== false;
      const split = cfg.split !== false;
      return (s) => {
        let t = s.replace(/ /g, replacement);
        if (prepend && !t.startsWith(replacement)) t = replacement + t;
        if (!split) return t === '' ? [] : [t];
        // Each word keeps the marker in front of it.
        return t.split(new RegExp(`(?=${replacement.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`, 'u')).filter((w) => w !== '');
      };
    }
    case 'ByteLevel': {
      const prefix = cfg.add_prefix_space === true;
      const useRegex = cfg.use_regex !== false;
      return (s) => {
        const t = prefix && !s.startsWith(' ') ? ` ${s}` : s;
        const words = useRegex ? (t.match(BYTE_LEVEL_SPLIT) ?? []) : [t];
        return words.map((w) => Array.from(utf8.encode(w), (b) => BYTE_TO_CHAR[b]!).join(''));
      };
    }
    case 'Sequence': {
      if (!Array.isArray(cfg.pretokenizers)) throw corrupt('a Sequence pre-tokenizer has no list');
      const steps = cfg.pretokenizers.map(preTokenizer);
      return (s) => steps.reduce<string[]>((words, f) => words.flatMap(f), [s]);
    }
    default:
      throw unsupported(`the pre-tokenizer ${JSON.stringify(cfg.type)}`);
  }
}

// ─── Models ─────────────────────────────────────────────────────────────────

interface SubwordModel {
  tokenize(word: string): number[];
  vocabSize: number;
  unkId: number | undefined;
}

function vocabMap(v: unknown): Map<string, number> {
  if (!isObject(v)) throw corrupt('the model has no vocabulary');
  const m = new Map<string, number>();
  for (const [token, id] of Object.entries(v)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw corrupt(`the token ${JSON.stringify(token)} has no whole-number id`);
    m.set(token, id as number);
  }
  return m;
}

const maxId = (m: Map<string, number>): number => {
  let max = -1;
  for (const id of m.values()) if (id > max) max = id;
  return max;
};

function wordPiece(cfg: Json): SubwordModel {
  const vocab = vocabMap(cfg.vocab);
  const unkToken = typeof cfg.unk_token === 'string' ? cfg.unk_token : '[UNK]';
  const unkId = vocab.get(unkToken);
  const prefix = typeof cfg.continuing_subword_prefix === 'string' ? cfg.continuing_subword_prefix : '##';
  const maxChars = Number.isInteger(cfg.max_input_chars_per_word) ? (cfg.max_input_chars_per_word as number) : 100;
  const unk = (): number[] => (unkId === undefined ? [] : [unkId]);
  // No piece is longer than the longest vocabulary entry: candidates beyond it are never tried.
  let longest = 1;
  for (const token of vocab.keys())
    longest = Math.max(longest, Array.from(token.startsWith(prefix) && prefix ? token.slice(prefix.length) : token).length);
  return {
    vocabSize: maxId(vocab) + 1,
    unkId,
    tokenize(word) {
      // Code-unit offsets of each character, so slices never split a surrogate pair.
      const offsets: number[] = [];
      for (let i = 0; i < word.length; i++) {
        const code = word.charCodeAt(i);
        if (code >= 0xdc00 && code <= 0xdfff && i > 0) continue;
        offsets.push(i);
      }
      const n = offsets.length;
      offsets.push(word.length);
      if (n > maxChars) return unk();
      const ids: number[] = [];
      let start = 0;
      // Greedy longest match first; any piece that cannot be spelled makes the whole word unknown.
      while (start < n) {
        let end = Math.min(n, start + longest);
        let found: number | undefined;
        while (start < end) {
          const piece = word.slice(offsets[start], offsets[end]);
          found = vocab.get(start > 0 ? prefix + piece : piece);
          if (found !== undefined) break;
          end--;
        }
        if (found === undefined) return unk();
        ids.push(found);
        start = end;
      }
      return ids;
    },
  };
}

function bpe(cfg: Json): SubwordModel {
  const vocab = vocabMap(cfg.vocab);
  const unkToken = typeof cfg.unk_token === 'string' ? cfg.unk_token : undefined;
  const unkId = unkToken !== undefined ? vocab.get(unkToken) : undefined;
  const prefix = typeof cfg.continuing_subword_prefix === 'string' ? cfg.continuing_subword_prefix : '';
  const suffix = typeof cfg.end_of_word_suffix === 'string' ? cfg.end_of_word_suffix : '';
  const ranks = new Map<string, number>();
  if (!Array.isArray(cfg.merges)) throw corrupt('the BPE model has no merges');
  cfg.merges.forEach((m: unknown, rank) => {
    const pair = typeof m === 'string' ? m.split(' ') : Array.isArray(m) ? m : [];
    if (pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string')
      throw corrupt(`merge ${rank} is not a pair of tokens`);
    ranks.set(`${pair[0]} ${pair[1]}`, rank);
  });
  return {
    vocabSize: maxId(vocab) + 1,
    unkId,
    tokenize(word) {
      const chars = Array.from(word);
      let parts = chars.map((c, i) => (i > 0 ? prefix : '') + c + (i === chars.length - 1 ? suffix : ''));
      // Apply the lowest-ranked merge present until none applies.
      for (;;) {
        let best = -1;
        let bestRank = Infinity;
        for (let i = 0; i + 1 < parts.length; i++) {
          const right = prefix && parts[i + 1]!.startsWith(prefix) ? parts[i + 1]!.slice(prefix.length) : parts[i + 1]!;
          const rank = ranks.get(`${parts[i]} ${parts[i + 1]}`) ?? (prefix ? ranks.get(`${parts[i]} ${right}`) : undefined);
          if (rank !== undefined && rank < bestRank) {
            bestRank = rank;
            best = i;
          }
        }
        if (best < 0) break;
        const right = parts[best + 1]!;
        const merged = parts[best]! + (prefix && right.startsWith(prefix) ? right.slice(prefix.length) : right);
        parts = [...parts.slice(0, best), merged, ...parts.slice(best + 2)];
      }
      const ids: number[] = [];
      for (const p of parts) {
        const id = vocab.get(p);
        if (id !== undefined) ids.push(id);
        else if (unkId !== undefined) ids.push(unkId);
      }
      return ids;
    },
  };
}

function unigram(cfg: Json): SubwordModel {
  if (!Array.isArray(cfg.vocab)) throw corrupt('the Unigram model has no vocabulary list');
  const pieces = new Map<string, { id: number; score: number }>();
  let minScore = 0;
  let maxLen = 1;
  cfg.vocab.forEach((entry: unknown, id) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number')
      throw corrupt(`vocabulary entry ${id} is not [piece, score]`);
    pieces.set(entry[0], { id, score: entry[1] });
    minScore = Math.min(minScore, entry[1]);
    maxLen = Math.max(maxLen, Array.from(entry[0]).length);
  });
  const unkId = Number.isInteger(cfg.unk_id) ? (cfg.unk_id as number) : undefined;
  // The Rust crate's penalty for a character no piece covers.
  const unkScore = minScore - 10;
  return {
    vocabSize: cfg.vocab.length,
    unkId,
    tokenize(word) {
      const chars = Array.from(word);
      const n = chars.length;
      // Viterbi: best[i] is the best score of a segmentation of the first i characters.
      const best = new Float64Array(n + 1).fill(-Infinity);
      const from = new Int32Array(n + 1).fill(-1);
      const idAt = new Int32Array(n + 1).fill(-1);
      best[0] = 0;
      for (let i = 0; i < n; i++) {
        if (best[i] === -Infinity) continue;
        let covered = false;
        for (let len = 1; len <= maxLen && i + len <= n; len++) {
          const p = pieces.get(chars.slice(i, i + len).join(''));
          if (!p) continue;
          if (len === 1) covered = true;
          const s = best[i]! + p.score;
          if (s > best[i + len]!) {
            best[i + len] = s;
            from[i + len] = i;
            idAt[i + len] = p.id;
          }
        }
        if (!covered && best[i]! + unkScore > best[i + 1]!) {
          best[i + 1] = best[i]! + unkScore;
          from[i + 1] = i;
          idAt[i + 1] = unkId ?? -1;
        }
      }
      const ids: number[] = [];
      for (let i = n; i > 0; i = from[i]!) {
        if (idAt[i]! >= 0) ids.push(idAt[i]!);
        if (from[i]! < 0) break;
      }
      return ids.reverse();
    },
  };
}

function model(cfg: unknown): SubwordModel {
  if (!isObject(cfg)) throw corrupt('it has no "model"');
  // Older files omit the type; the vocabulary's shape tells which model it is.
  const type =
    typeof cfg.type === 'string' ? cfg.type : Array.isArray(cfg.vocab) ? 'Unigram' : Array.isArray(cfg.merges) ? 'BPE' : 'WordPiece';
  switch (type) {
    case 'WordPiece':
      return wordPiece(cfg);
    case 'BPE':
      return bpe(cfg);
    case 'Unigram':
      return unigram(cfg);
    default:
      throw unsupported(`the model ${JSON.stringify(type)}`);
  }
}

/** Builds a tokenizer from the parsed JSON of a `tokenizer.json`. */
export function tokenizerFromJson(json: unknown): Tokenizer {
  if (!isObject(json)) throw corrupt('it is not a JSON object');
  const normalize = normalizer(json.normalizer);
  const preTokenize = preTokenizer(json.pre_tokenizer);
  const m = model(json.model);
  // Added tokens ([CLS], <pad>, …) are whole words in the text only in chat formats; a static
  // model's input is plain text, so they are looked up like any other word.
  // Code repeats its words: each spelling is split into pieces once.
  const cache = new Map<string, number[]>();
  return {
    vocabSize: m.vocabSize,
    unkId: m.unkId,
    encode(text) {
      const ids: number[] = [];
      for (const word of preTokenize(normalize(text))) {
        let pieces = cache.get(word);
        if (!pieces) {
          pieces = m.tokenize(word);
          if (cache.size >= TOKENIZER_WORD_CACHE_SIZE) cache.clear();
          cache.set(word, pieces);
        }
        for (const id of pieces) ids.push(id);
      }
      return ids;
    },
  };
}
