/**
 * Finds every place a source tree loads the `vscode` module: static imports and re-exports,
 * side-effect imports, `import x = require(...)`, `require(...)` and dynamic `import(...)`.
 * Comments are blanked first so prose about `vscode` does not count.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface EditorImport {
  file: string;
  line: number;
  text: string;
}

const SOURCE = /\.(c|m)?(t|j)sx?$/;
const VSCODE_SPECIFIER = String.raw`(['"\`])vscode\1`;
const PATTERNS = [
  new RegExp(String.raw`\bfrom\s*${VSCODE_SPECIFIER}`),
  new RegExp(String.raw`\bimport\s*${VSCODE_SPECIFIER}`),
  new RegExp(String.raw`\brequire\s*\(\s*${VSCODE_SPECIFIER}\s*\)`),
  new RegExp(String.raw`\bimport\s*\(\s*${VSCODE_SPECIFIER}\s*\)`),
];

/** Replaces comments by spaces, keeping line numbers (strings are left alone). */
function blankComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`\\])\/\/[^\n]*/g, (match, lead: string | undefined) => {
    const keep = lead ?? '';
    return keep + match.slice(keep.length).replace(/[^\n]/g, ' ');
  });
}

export function findEditorImports(dir: string): EditorImport[] {
  const found: EditorImport[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !SOURCE.test(entry.name)) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    const lines = blankComments(readFileSync(file, 'utf8')).split('\n');
    lines.forEach((text, i) => {
      if (PATTERNS.some((p) => p.test(text))) found.push({ file, line: i + 1, text: text.trim() });
    });
  }
  return found;
}
