/**
 * Splits a file into chunks of about CHUNK_TARGET_TOKENS tokens, cut at a blank
 * line or before a top-level declaration when one is near, with a small overlap
 * so that code at a cut is seen whole by at least one chunk.
 *
 * Token counts are an estimate: exact BPE per line is far slower than indexing
 * can afford. `estimateTokens` counts letter runs (long identifiers in pieces of
 * 10 letters), digit runs (3 per token), pairs of punctuation characters and the
 * indentation run, divided by a ratio calibrated once against gpt-tokenizer's
 * cl100k; on JS/TS source it is within ~10% (test/unit/index/chunker.test.ts).
 */
import { createHash } from 'node:crypto';
import { CHUNK_MAX_TOKENS, CHUNK_MIN_TOKENS, CHUNK_OVERLAP_TOKENS, CHUNK_TARGET_TOKENS } from '../limits';
import { TimeSlice } from './slice';

export interface Chunk {
  /** Workspace-relative path. */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  language: string;
  text: string;
  /** sha1 of the text, 16 hex digits. */
  hash: string;
  /** Structure-aware chunks: the enclosing scope, then the names the chunk defines (syntax/structuredChunker.ts). */
  symbols?: string[];
}

export interface ChunkOptions {
  targetTokens?: number;
  maxTokens?: number;
  minTokens?: number;
  overlapTokens?: number;
}

const LANGUAGE_BY_EXTENSION: Readonly<Record<string, string>> = {
  ts: 'typescript',
  tsx: 'typescriptreact',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascriptreact',
  mjs: 'javascript',
  cjs: 'javascript',
  py: 'python',
  pyi: 'python',
  rb: 'ruby',
  go: 'go',
  rs: 'rust',
  java: 'java',
  kt: 'kotlin',
  kts: 'kotlin',
  scala: 'scala',
  swift: 'swift',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  cxx: 'cpp',
  hpp: 'cpp',
  hh: 'cpp',
  cs: 'csharp',
  fs: 'fsharp',
  php: 'php',
  lua: 'lua',
  pl: 'perl',
  r: 'r',
  dart: 'dart',
  ex: 'elixir',
  exs: 'elixir',
  erl: 'erlang',
  hs: 'haskell',
  ml: 'ocaml',
  clj: 'clojure',
  vue: 'vue',
  svelte: 'svelte',
  astro: 'astro',
  html: 'html',
  htm: 'html',
  css: 'css',
  scss: 'scss',
  sass: 'sass',
  less: 'less',
  json: 'json',
  jsonc: 'jsonc',
  yaml: 'yaml',
  yml: 'yaml',
  toml: 'toml',
  ini: 'ini',
  xml: 'xml',
  md: 'markdown',
  mdx: 'mdx',
  rst: 'restructuredtext',
  txt: 'plaintext',
  sh: 'shellscript',
  bash: 'shellscript',
  zsh: 'shellscript',
  ps1: 'powershell',
  sql: 'sql',
  graphql: 'graphql',
  gql: 'graphql',
  proto: 'proto',
  tf: 'terraform',
  dockerfile: 'dockerfile',
  makefile: 'makefile',
  cmake: 'cmake',
  gradle: 'groovy',
  groovy: 'groovy',
  zig: 'zig',
  nim: 'nim',
  jl: 'julia',
  sol: 'solidity',
};

/** VS Code language id guessed from the file name. */
export function languageOf(filePath: string): string {
  const base = filePath.slice(filePath.lastIndexOf('/') + 1).toLowerCase();
  if (base === 'dockerfile') return 'dockerfile';
  if (base === 'makefile' || base === 'gnumakefile') return 'makefile';
  const dot = base.lastIndexOf('.');
  if (dot < 0) return 'plaintext';
  return LANGUAGE_BY_EXTENSION[base.slice(dot + 1)] ?? 'plaintext';
}

const TOKEN_PIECES = /[A-Za-z]{1,10}|[0-9]{1,3}|[^\sA-Za-z0-9]{1,2}|^[ \t]+/g;
/** Pieces per cl100k token, measured once on JS/TS/Markdown from node_modules (see the chunker test). */
const PIECES_PER_TOKEN = 1.16;

/** Approximate cl100k token count of a text (see the module comment); fractional. */
export function estimateTokens(text: string): number {
  TOKEN_PIECES.lastIndex = 0;
  let n = 0;
  while (TOKEN_PIECES.exec(text) !== null) n++;
  return n / PIECES_PER_TOKEN;
}

/** A line a chunk may start with: a declaration at column 0, or a heading. */
const DECLARATION_START =
  /^(export\s|import\s|function[\s*]|async\s|class\s|interface\s|type\s|enum\s|const\s|let\s|var\s|def\s|module\.exports|exports\.|fn\s|pub\s|impl[\s<]|struct\s|trait\s|func\s|package\s|public\s|private\s|protected\s|static\s|abstract\s|@|#{1,3}\s|describe\(|it\(|test\()/;

export function contentHash(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

/**
 * Chunks `text` (the whole file). Lines are kept whole, except a single line
 * longer than the maximum, which is cut into pieces sharing its line number.
 */
export function chunkText(filePath: string, text: string, options: ChunkOptions = {}): Chunk[] {
  const steps = chunkSteps(filePath, text, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same chunks as `chunkText`, computed in slices that yield to the event loop
 * (a 1 MB file takes ~40 ms to chunk: too long to hold the extension host).
 */
export async function chunkTextSliced(
  filePath: string,
  text: string,
  options: ChunkOptions = {},
  slice: TimeSlice = new TimeSlice(),
): Promise<Chunk[]> {
  const steps = chunkSteps(filePath, text, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await slice.check();
  }
}

/** Lines whose tokens are estimated between two pause points of `chunkSteps`. */
const LINES_PER_STEP = 256;

/** The chunker as a generator: it pauses (yields) every few hundred lines and after each chunk. */
function* chunkSteps(filePath: string, text: string, options: ChunkOptions): Generator<void, Chunk[], void> {
  const target = options.targetTokens ?? CHUNK_TARGET_TOKENS;
  const max = Math.max(target, options.maxTokens ?? CHUNK_MAX_TOKENS);
  const min = Math.min(target, options.minTokens ?? CHUNK_MIN_TOKENS);
  const overlap = Math.min(Math.floor(target / 2), options.overlapTokens ?? CHUNK_OVERLAP_TOKENS);
  const language = languageOf(filePath);
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop(); // final newline ends a line, adds none
  const chunks: Chunk[] = [];
  if (lines.length === 0 || text.trim() === '') return chunks;

  const tokens = new Float64Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    tokens[i] = estimateTokens(lines[i]!) + 1; // +1: the newline
    if (i % LINES_PER_STEP === LINES_PER_STEP - 1) yield;
  }
  const emit = (start: number, end: number): void => {
    const body = lines.slice(start, end + 1).join('\n');
    if (body.trim() === '') return;
    chunks.push({ path: filePath, startLine: start + 1, endLine: end + 1, language, text: body, hash: contentHash(body) });
  };

  let start = 0;
  while (start < lines.length) {
    // A line too long for any chunk (minified code, data): cut it by characters.
    if (tokens[start]! > max) {
      const line = lines[start]!;
      const charsPerPiece = Math.max(200, Math.floor((line.length / tokens[start]!) * target));
      for (let at = 0; at < line.length; at += charsPerPiece) {
        const piece = line.slice(at, at + charsPerPiece);
        if (piece.trim() !== '') {
          chunks.push({ path: filePath, startLine: start + 1, endLine: start + 1, language, text: piece, hash: contentHash(piece) });
        }
        yield;
      }
      start++;
      continue;
    }
    let sum = 0;
    let end = start;
    let best = -1; // last line of the chunk at the best-scoring cut
    let bestScore = -Infinity;
    let bestStrength = 0;
    while (end < lines.length) {
      const t = tokens[end]!;
      if (end > start && sum + t > max) break;
      sum += t;
      if (sum >= min && end + 1 < lines.length) {
        const next = lines[end + 1]!;
        const strength = DECLARATION_START.test(next) ? 2 : lines[end]!.trim() === '' || next.trim() === '' ? 1 : 0;
        // a good boundary may move the cut up to half a target away from the target size
        const score = strength * (target / 2) - Math.abs(sum - target);
        if (score > bestScore) {
          bestScore = score;
          best = end;
          bestStrength = strength;
        }
      }
      end++;
    }
    if (end >= lines.length) {
      emit(start, lines.length - 1);
      break;
    }
    const last = best >= start ? best : Math.max(start, end - 1);
    emit(start, last);
    yield;
    // Overlap: none before a top-level declaration (nothing is cut there); otherwise
    // step back whole lines worth about `overlap` tokens, always moving forward.
    let next = last + 1;
    if (bestStrength < 2 || best !== last) {
      let back = 0;
      while (next - 1 > start && back + tokens[next - 1]! <= overlap) {
        next--;
        back += tokens[next]!;
      }
    }
    start = next;
  }
  return chunks;
}
