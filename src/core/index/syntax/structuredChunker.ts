/**
 * Chunks that follow the code's structure: a function, class or method is one
 * chunk when it fits (doc comment and decorators included), small neighbours
 * are packed together up to the target size, a class too large for one chunk
 * is cut between its members (each carrying the class as its scope), and only
 * a single definition too large on its own falls back to the line chunker.
 *
 * Parsing is one synchronous call, so files above SYNTAX_MAX_FILE_BYTES keep the
 * line chunker and a parse running past SYNTAX_PARSE_MAX_MS is cancelled; the tree
 * walk and the packing pause through a TimeSlice. Any
 * failure (grammar not loadable, parser error) is the caller's cue to use the
 * line chunker for that file.
 */
import { CHUNK_MAX_TOKENS, CHUNK_TARGET_TOKENS, SYNTAX_MAX_FILE_BYTES, SYNTAX_PARSE_MAX_MS } from '../../limits';
import { chunkText, contentHash, estimateTokens, languageOf, type Chunk } from '../chunker';
import { TimeSlice } from '../slice';
import { hasGrammar, parserFor } from './grammars';
import { outlineSteps, type Definition, type Outline } from './outline';
import { MemgptError } from '../../base/errors';

export interface StructuredFile {
  chunks: Chunk[];
  outline: Outline;
}

export class ParseFailedError extends MemgptError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PARSE_FAILED', message, options);
  }
}

/** True when `filePath` is parsed into definitions (a grammar exists and the file is small enough). */
export function parsesAsCode(filePath: string, byteLength: number): boolean {
  return byteLength <= SYNTAX_MAX_FILE_BYTES && hasGrammar(languageOf(filePath));
}

/**
 * Parses `text` and returns its outline and structure-aware chunks, or
 * undefined when the file is not parsed (no grammar, too large). Throws when
 * parsing fails; the caller then chunks by lines.
 */
export async function chunkStructured(
  filePath: string,
  text: string,
  slice: TimeSlice = new TimeSlice(),
  parseBudgetMs = SYNTAX_PARSE_MAX_MS,
): Promise<StructuredFile | undefined> {
  const language = languageOf(filePath);
  if (!parsesAsCode(filePath, Buffer.byteLength(text))) return undefined;
  const parser = await parserFor(language);
  if (!parser) return undefined;
  let outline: Outline;
  try {
    const started = performance.now();
    // Returning true cancels the parse: the event loop is not held longer than the budget.
    const tree = parser.parse(text, null, { progressCallback: () => performance.now() - started > parseBudgetMs });
    if (!tree) throw new ParseFailedError(`${filePath}: parsing took longer than ${parseBudgetMs} ms and was stopped.`);
    try {
      const steps = outlineSteps(tree, text, language);
      for (;;) {
        const step = steps.next();
        if (step.done) {
          outline = step.value;
          break;
        }
        await slice.check();
      }
    } finally {
      tree.delete();
    }
  } finally {
    parser.delete();
  }
  await slice.check();
  return { chunks: await packChunks(filePath, language, text, outline.definitions, slice), outline };
}

interface Piece {
  /** 0-based, inclusive line range. */
  start: number;
  end: number;
  tokens: number;
  def?: Definition;
}

/** Names a chunk carries for the lexical index: its scope, then what it defines (nested ones too, up to a few dozen). */
function symbolNames(scope: readonly string[], defs: readonly Definition[]): string[] {
  const names = [...scope];
  const add = (list: readonly Definition[]): void => {
    for (const d of list) {
      if (names.length >= 40) return;
      if (!names.includes(d.name)) names.push(d.name);
      add(d.children);
    }
  };
  add(defs);
  return names;
}

async function packChunks(
  filePath: string,
  language: string,
  text: string,
  defs: readonly Definition[],
  slice: TimeSlice,
): Promise<Chunk[]> {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const prefix = new Float64Array(lines.length + 1);
  for (let i = 0; i < lines.length; i++) {
    prefix[i + 1] = prefix[i]! + estimateTokens(lines[i]!) + 1;
    if (i % 512 === 511) await slice.check();
  }
  const tokens = (a: number, b: number): number => prefix[b + 1]! - prefix[a]!;
  const chunks: Chunk[] = [];

  const emit = (start: number, end: number, symbols: string[]): void => {
    const body = lines.slice(start, end + 1).join('\n');
    if (body.trim() === '') return;
    const chunk: Chunk = { path: filePath, startLine: start + 1, endLine: end + 1, language, text: body, hash: contentHash(body) };
    if (symbols.length > 0) chunk.symbols = symbols;
    chunks.push(chunk);
  };
  /** A stretch too big for one chunk and without members to cut at: the line chunker, lines renumbered. */
  const byLines = (start: number, end: number, symbols: string[]): void => {
    for (const c of chunkText(filePath, lines.slice(start, end + 1).join('\n'))) {
      const chunk: Chunk = { ...c, startLine: c.startLine + start, endLine: c.endLine + start };
      if (symbols.length > 0) chunk.symbols = symbols;
      chunks.push(chunk);
    }
  };

  const range = async (lo: number, hi: number, members: readonly Definition[], scope: string[]): Promise<void> => {
    const pieces: Piece[] = [];
    let cursor = lo;
    for (const d of [...members].sort((a, b) => a.startLine - b.startLine)) {
      const s = Math.max(d.startLine - 1, cursor);
      const e = Math.min(d.endLine - 1, hi);
      if (s > e) continue;
      if (s > cursor) pieces.push({ start: cursor, end: s - 1, tokens: tokens(cursor, s - 1) });
      pieces.push({ start: s, end: e, tokens: tokens(s, e), def: d });
      cursor = e + 1;
    }
    if (cursor <= hi) pieces.push({ start: cursor, end: hi, tokens: tokens(cursor, hi) });

    let group: Piece[] = [];
    let groupTokens = 0;
    const flush = (): void => {
      if (group.length === 0) return;
      emit(
        group[0]!.start,
        group[group.length - 1]!.end,
        symbolNames(
          scope,
          group.flatMap((p) => (p.def ? [p.def] : [])),
        ),
      );
      group = [];
      groupTokens = 0;
    };
    for (const p of pieces) {
      if (p.tokens > CHUNK_MAX_TOKENS) {
        flush();
        if (p.def && p.def.children.length > 0) await range(p.start, p.end, p.def.children, [...scope, p.def.name]);
        else byLines(p.start, p.end, p.def ? symbolNames(scope, [p.def]) : [...scope]);
        await slice.check();
        continue;
      }
      if (group.length > 0 && groupTokens + p.tokens > CHUNK_TARGET_TOKENS) flush();
      group.push(p);
      groupTokens += p.tokens;
    }
    flush();
  };
  if (lines.length > 0) await range(0, lines.length - 1, defs, []);
  return chunks;
}
