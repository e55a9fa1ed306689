/**
 * Code-aware search terms, shared by the lexical index (BM25) and the local
 * embedder so that a query and the code it should find are cut the same way.
 *
 * `parseHTTPRequest_v2` gives the compound `parsehttprequestv2` (exact identifier
 * hits) and the parts `pars http request v 2` after abbreviation expansion and a
 * light stemmer; English function words are dropped because developer questions
 * are full of them ("how does it decide which ...").
 */

const WORD = /[\p{L}\p{N}_$]+/gu;

/** Abbreviations common in code, mapped to the word a question would use. */
const ABBREVIATIONS: ReadonlyMap<string, string> = new Map(
  Object.entries({
    req: 'request',
    res: 'response',
    resp: 'response',
    err: 'error',
    errs: 'errors',
    cb: 'callback',
    fn: 'function',
    func: 'function',
    cfg: 'config',
    conf: 'config',
    opts: 'options',
    opt: 'option',
    msg: 'message',
    msgs: 'messages',
    ctx: 'context',
    env: 'environment',
    dir: 'directory',
    dirs: 'directories',
    str: 'string',
    num: 'number',
    arr: 'array',
    obj: 'object',
    idx: 'index',
    len: 'length',
    src: 'source',
    dest: 'destination',
    dst: 'destination',
    args: 'arguments',
    arg: 'argument',
    param: 'parameter',
    params: 'parameters',
    init: 'initialize',
    auth: 'authentication',
    util: 'utility',
    utils: 'utilities',
    btn: 'button',
    impl: 'implementation',
    db: 'database',
    tmp: 'temporary',
    temp: 'temporary',
    doc: 'document',
    docs: 'documents',
    val: 'value',
    vals: 'values',
    prev: 'previous',
    cur: 'current',
    curr: 'current',
    pkg: 'package',
    deps: 'dependencies',
    dep: 'dependency',
    attr: 'attribute',
    attrs: 'attributes',
    elem: 'element',
    evt: 'event',
    ev: 'event',
    regexp: 'regex',
    cmd: 'command',
    cmds: 'commands',
    addr: 'address',
    buf: 'buffer',
    char: 'character',
    chars: 'characters',
    col: 'column',
    ln: 'line',
    pos: 'position',
    ref: 'reference',
    refs: 'references',
    spec: 'specification',
    sig: 'signal',
    stdin: 'input',
    stdout: 'output',
    stderr: 'error',
    async: 'asynchronous',
    sync: 'synchronous',
    max: 'maximum',
    min: 'minimum',
    cnt: 'count',
    proc: 'process',
    mgr: 'manager',
    svc: 'service',
    repo: 'repository',
    lang: 'language',
    ext: 'extension',
    exe: 'executable',
    cwd: 'directory',
    argv: 'arguments',
    ws: 'websocket',
  }),
);

/** Words that carry no meaning in a developer's question (and in comments). */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but if then else of to in on at by for from with without into onto over under ' +
    "is are was were be been being am do does did done doing has have had having it its it's this that " +
    'these those there here what which who whom whose when where why how can could should would will ' +
    'shall may might must i me my we our you your he she they them their us so as than too very just ' +
    'not no yes all any some each every other such only own same about also get gets got use uses used ' +
    'using s t'
  ).split(' '),
);

/**
 * Words of a query written as identifiers (camelCase, PascalCase, snake_case, with digits, or in
 * backticks), stop words left out. A plain English word ("send", "request") may also be a
 * function's name, but the question did not point at it; a chunk that defines one of these is
 * what the question names.
 */
export function identifierWordsOf(query: string): Set<string> {
  const words = new Set<string>();
  for (const m of query.matchAll(/(`?)([\p{L}\p{N}_$]{3,})\1/gu)) {
    const word = m[2]!;
    const identifierLike = m[1] === '`' || /[_$\d]/.test(word) || /\p{Ll}\p{Lu}/u.test(word) || /^\p{Lu}\p{Ll}+\p{Lu}/u.test(word);
    if (identifierLike && !STOP_WORDS.has(word.toLowerCase())) words.add(word);
  }
  return words;
}

/** Keywords every file of a language repeats; they say little about what the code does. */
export const CODE_KEYWORDS: ReadonlySet<string> = new Set(
  (
    'const let var function return new this self true false null undefined void typeof instanceof ' +
    'export import require module exports default public private protected static readonly class ' +
    'interface type extends implements def elif pass none lambda package func fn pub mut impl struct ' +
    'enum match case break continue while for switch try catch finally throw await async yield ' +
    'int string number boolean bool object any unknown never float double char long short byte ' +
    'include define ifdef endif end begin nil local'
  ).split(' '),
);

/** Splits an identifier at `_`, `$`, camelCase humps, acronym ends and letter/digit changes. */
export function splitIdentifier(word: string): string[] {
  const parts: string[] = [];
  for (const piece of word.split(/[_$]+/)) {
    if (piece.length === 0) continue;
    const spaced = piece
      .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
      .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, '$1 $2')
      .replace(/(\p{L})(\p{N})/gu, '$1 $2')
      .replace(/(\p{N})(\p{L})/gu, '$1 $2');
    for (const p of spaced.split(' ')) if (p.length > 0) parts.push(p.toLowerCase());
  }
  return parts;
}

/** A light suffix stemmer: `handler`, `handled`, `handling`, `handles` all become `handl`. */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = w.slice(0, -3) + 'y';
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  let stripped = false;
  if (w.endsWith('ing') && w.length >= 6) {
    w = w.slice(0, -3);
    stripped = true;
  } else if (w.endsWith('ed') && w.length >= 5) {
    w = w.slice(0, -2);
    stripped = true;
  } else if (w.endsWith('ation') && w.length >= 8) w = w.slice(0, -5);
  else if (w.endsWith('ate') && w.length >= 7) w = w.slice(0, -3);
  else if (w.endsWith('er') && w.length >= 6) w = w.slice(0, -2);
  if (stripped && /([b-df-hj-np-tv-z])\1$/.test(w) && !/(ll|ss|zz)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  return w;
}

/** The normalised form of one identifier part: abbreviation expanded, then stemmed. */
export function normalizePart(part: string): string {
  return stem(ABBREVIATIONS.get(part) ?? part);
}

export interface TermSink {
  /** A part of a word (normalised), e.g. `request` from `reqHandler`. */
  part(term: string): void;
  /** A whole compound identifier, lower-cased, e.g. `reqhandler`. */
  compound?(term: string): void;
}

interface AnalyzedWord {
  compound: string | undefined;
  parts: readonly string[];
}

/** Identifiers repeat endlessly in code: analyse each spelling once. */
const wordCache = new Map<string, AnalyzedWord>();
const WORD_CACHE_MAX = 200_000;

function analyzeWord(word: string): AnalyzedWord {
  let a = wordCache.get(word);
  if (a) return a;
  const raw = splitIdentifier(word);
  const parts: string[] = [];
  for (const p of raw) {
    if (STOP_WORDS.has(p)) continue;
    if (p.length === 1 && !(p >= '0' && p <= '9')) continue;
    parts.push(normalizePart(p));
  }
  a = { compound: raw.length > 1 ? raw.join('') : undefined, parts };
  if (wordCache.size >= WORD_CACHE_MAX) wordCache.clear();
  wordCache.set(word, a);
  return a;
}

/** Feeds the terms of `text` to `sink` without building intermediate arrays. */
export function forEachTerm(text: string, sink: TermSink): void {
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
    const word = m[0];
    if (word.length > 64) continue; // base64 blobs and hashes are noise
    const a = analyzeWord(word);
    if (a.compound !== undefined && sink.compound) sink.compound(a.compound);
    for (const p of a.parts) sink.part(p);
  }
}

/** All terms of `text` (parts and compounds), in order, for the lexical index and queries. */
export function searchTerms(text: string): string[] {
  const out: string[] = [];
  forEachTerm(text, { part: (t) => out.push(t), compound: (t) => out.push(t) });
  return out;
}

/**
 * How a question is asked, not what it is about: "where is", "how does … work", "find the code
 * that …". Dropped from lexical queries only (a comment saying "find" is still content).
 */
const QUESTION_WORDS: readonly string[] =
  'where how what which why when explain tell implemented implementation defined located somewhere'.split(' ');
let questionTerms: ReadonlySet<string> | undefined;

/** The terms of a search query: `searchTerms` without the words that only phrase the question. */
export function queryTerms(query: string): string[] {
  questionTerms ??= new Set(QUESTION_WORDS.map(normalizePart));
  const terms = searchTerms(query).filter((t) => !questionTerms!.has(t));
  // A query made only of such words ("how does it work") keeps them rather than match nothing.
  return terms.length > 0 ? terms : searchTerms(query);
}
