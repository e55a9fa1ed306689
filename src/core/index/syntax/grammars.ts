/**
 * Loads tree-sitter (web-tree-sitter, pure WebAssembly: no native build) and the
 * grammar of a language on first use. Grammar files come from
 * @repomix/tree-sitter-wasms; the bundle carries copies in dist/tree-sitter/
 * (esbuild.mjs), a source checkout reads them from node_modules.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import { MemgptError } from '../../base/errors';

/** VS Code language id → grammar file (without `tree-sitter-` and `.wasm`). */
const GRAMMAR_OF: Readonly<Record<string, string>> = {
  typescript: 'typescript',
  typescriptreact: 'tsx',
  javascript: 'javascript',
  javascriptreact: 'javascript',
  python: 'python',
  go: 'go',
  rust: 'rust',
  java: 'java',
  csharp: 'c_sharp',
  c: 'c',
  cpp: 'cpp',
};

/** Grammar file names the bundle must carry (esbuild.mjs copies exactly these). */
export const GRAMMAR_FILES: readonly string[] = [...new Set(Object.values(GRAMMAR_OF))].map((g) => `tree-sitter-${g}.wasm`);

/** True when files of this VS Code language id are parsed into definitions. */
export function hasGrammar(language: string): boolean {
  return GRAMMAR_OF[language] !== undefined;
}

export class GrammarUnavailableError extends MemgptError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('GRAMMAR_UNAVAILABLE', message, options);
  }
}

/** Where the .wasm files are: beside the bundle, or in node_modules when run from source. */
function wasmLocations(): { runtime: string; grammars: string } {
  const bundled = path.join(__dirname, 'tree-sitter');
  if (existsSync(path.join(bundled, 'web-tree-sitter.wasm')))
    return { runtime: path.join(bundled, 'web-tree-sitter.wasm'), grammars: bundled };
  // Resolved through a parameter: the bundler must not try to bundle a .wasm file (it never runs this branch).
  const resolve = (id: string): string => require.resolve(id);
  const runtime = resolve('web-tree-sitter/web-tree-sitter.wasm');
  const grammars = path.join(path.dirname(resolve('@repomix/tree-sitter-wasms/package.json')), 'out');
  return { runtime, grammars };
}

let runtime: Promise<{ grammars: string }> | undefined;
const languages = new Map<string, Promise<Language>>();

function init(): Promise<{ grammars: string }> {
  runtime ??= (async () => {
    const where = wasmLocations();
    await Parser.init({ locateFile: () => where.runtime });
    return { grammars: where.grammars };
  })();
  return runtime;
}

/** A parser for `language`, or undefined when the language has no grammar. Throws GrammarUnavailableError when loading fails. */
export async function parserFor(language: string): Promise<Parser | undefined> {
  const grammar = GRAMMAR_OF[language];
  if (!grammar) return undefined;
  let lang = languages.get(grammar);
  if (!lang) {
    lang = (async () => {
      const { grammars } = await init();
      const language = await Language.load(await fs.readFile(path.join(grammars, `tree-sitter-${grammar}.wasm`)));
      // The first parse with a grammar pays for compiling its code (hundreds of ms on a busy machine):
      // paid here, once, on a line of text, so no file's parse budget is spent on it.
      const warm = new Parser();
      warm.setLanguage(language);
      warm.parse('x')?.delete();
      warm.delete();
      return language;
    })();
    languages.set(grammar, lang);
  }
  let loaded: Language;
  try {
    loaded = await lang;
  } catch (err) {
    languages.delete(grammar); // a later file may try again (a transient read error)
    throw new GrammarUnavailableError(`The ${language} grammar could not be loaded (${(err as Error).message}).`);
  }
  const parser = new Parser();
  parser.setLanguage(loaded);
  return parser;
}
