import { promises as fs } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import type { FileSlice, TextMatch, Workspace } from '../interfaces/workspace';
import { discoverFiles, isSecretPath, WorkspaceFileFilter, type WorkspaceRoot } from '../index/discovery';
import { checkRegexSafety } from './regexSafety';
import {
  BINARY_SNIFF_BYTES,
  LIST_FILES_PAGE_SIZE,
  READ_FILE_MAX_BYTES,
  READ_FILE_MAX_LINE_CHARS,
  READ_FILE_PAGE_LINES,
  TEXT_SEARCH_MAX_FILE_BYTES,
  TEXT_SEARCH_MAX_MATCHES,
  TEXT_SEARCH_MAX_MS,
  TEXT_SEARCH_MAX_REGEX_CHARS,
  TEXT_SEARCH_SLICE_MS,
  TEXT_SEARCH_PAGE_SIZE,
  WORKSPACE_LISTING_CACHE_MS,
} from '../limits';

/**
 * The agent's read-only view of the workspace on plain `fs`.
 *
 * Paths: workspace-relative, forward slashes; with several roots the first
 * segment is the root's name (the indexer's rule, so search results and
 * read_file agree). Refused, with a reason the model can act on: absolute
 * paths, `..`, anything whose real path (symlinks resolved) leaves its root,
 * secret-looking files (the indexer's `isSecretPath`), binaries (a NUL byte),
 * folders, and files over READ_FILE_MAX_BYTES. Reads are paged by lines and
 * long lines are cut, with `truncated` set whenever anything was left out.
 */

/** Workspace-relative paths of the files the agent may list, sorted. */
export type FileLister = (signal?: AbortSignal) => Promise<string[]>;

export class WorkspaceAccessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkspaceAccessError';
  }
}

export interface NodeWorkspaceOptions {
  /** Defaults to the indexer's discovery walk (same ignore rules as the index). */
  listFiles?: FileLister;
  /** Globs excluded from the default listing (VS Code's files.exclude). */
  excludeGlobs?: readonly string[];
  /** False in restricted mode: every call is refused. Default: true when there is a root. */
  trusted?: boolean;
}

export class NodeWorkspace implements Workspace {
  readonly available: boolean;
  readonly roots: readonly WorkspaceRoot[];
  private readonly lister: FileLister;
  private listing: { at: number; paths: Promise<string[]> } | null = null;

  constructor(roots: readonly WorkspaceRoot[], options: NodeWorkspaceOptions = {}) {
    this.roots = roots.map((r) => ({ name: r.name, path: path.resolve(r.path) }));
    const names = new Set(this.roots.map((r) => r.name));
    if (names.size !== this.roots.length) throw new Error('Two workspace folders have the same name; multi-root paths would be ambiguous.');
    this.available = this.roots.length > 0 && options.trusted !== false;
    this.lister =
      options.listFiles ??
      (async (signal) => {
        const filter = new WorkspaceFileFilter({ roots: this.roots, ...(options.excludeGlobs ? { excludeGlobs: options.excludeGlobs } : {}) });
        const out: string[] = [];
        for await (const f of discoverFiles(filter, signal)) out.push(f.path);
        return out.sort();
      });
  }

  /** Forget the cached listing (call on file create/delete/rename). */
  invalidate(): void {
    this.listing = null;
  }

  async readFile(relPath: string, startLine: number, endLine: number): Promise<FileSlice> {
    const { abs, display } = await this.resolve(relPath);
    const stat = await fs.stat(abs);
    if (stat.isDirectory()) throw new WorkspaceAccessError(`${display} is a folder, not a file. Use list_files with glob "${display}/**" to see what is in it.`);
    if (!stat.isFile()) throw new WorkspaceAccessError(`${display} is not a regular file.`);
    if (stat.size > READ_FILE_MAX_BYTES) {
      throw new WorkspaceAccessError(`${display} is too large to read (${stat.size} bytes, limit ${READ_FILE_MAX_BYTES}). Use search_text to find the lines you need.`);
    }
    const bytes = await fs.readFile(abs);
    if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) throw new WorkspaceAccessError(`${display} is a binary file; it cannot be read as text.`);
    const lines = splitLines(bytes.toString('utf8'));
    const totalLines = lines.length;
    if (!Number.isInteger(startLine) || startLine < 1) throw new WorkspaceAccessError(`start_line must be 1 or more (got ${startLine}).`);
    const first = startLine;
    let last = Math.min(Math.max(endLine, first), totalLines);
    let truncated = false;
    if (last - first + 1 > READ_FILE_PAGE_LINES) {
      last = first + READ_FILE_PAGE_LINES - 1;
      truncated = true;
    }
    if (endLine > last) truncated = truncated || last < totalLines;
    const picked = first > totalLines ? [] : lines.slice(first - 1, last);
    const text = picked
      .map((l) => {
        if (l.length <= READ_FILE_MAX_LINE_CHARS) return l;
        truncated = true;
        return `${l.slice(0, READ_FILE_MAX_LINE_CHARS)} [line cut: ${l.length} chars]`;
      })
      .join('\n');
    return { path: display, startLine: first, endLine: first > totalLines ? first - 1 : last, totalLines, text, truncated };
  }

  async listFiles(glob: string | undefined, page: number): Promise<{ paths: string[]; total: number; page: number; pageCount: number }> {
    this.requireAvailable();
    checkPage(page);
    const all = await this.allFiles();
    const matcher = glob ? globMatcher(glob) : null;
    const paths = matcher ? all.filter((p) => matcher(p)) : all;
    const pageCount = Math.ceil(paths.length / LIST_FILES_PAGE_SIZE);
    return { paths: paths.slice(page * LIST_FILES_PAGE_SIZE, (page + 1) * LIST_FILES_PAGE_SIZE), total: paths.length, page, pageCount };
  }

  async searchText(
    query: string,
    glob: string | undefined,
    page: number,
  ): Promise<{ matches: TextMatch[]; total: number; page: number; pageCount: number; truncated: boolean }> {
    this.requireAvailable();
    checkPage(page);
    const test = lineTester(query);
    const matcher = glob ? globMatcher(glob) : null;
    const matches: TextMatch[] = [];
    let truncated = false;
    const started = Date.now();
    let sliceStart = started;
    outer: for (const rel of await this.allFiles()) {
      if (matcher && !matcher(rel)) continue;
      // The extension host's event loop is shared with the editor: yield between files, and stop
      // (saying so) when a search over a huge tree runs too long.
      if (Date.now() - sliceStart > TEXT_SEARCH_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = Date.now();
      }
      if (Date.now() - started > TEXT_SEARCH_MAX_MS) {
        truncated = true;
        break;
      }
      if (isSecretPath(rel)) continue;
      const abs = this.absoluteOf(rel);
      if (!abs) continue;
      let bytes: Buffer;
      try {
        const st = await fs.stat(abs);
        if (!st.isFile() || st.size > TEXT_SEARCH_MAX_FILE_BYTES) continue;
        bytes = await fs.readFile(abs);
      } catch {
        continue; // vanished since the listing
      }
      if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) continue;
      const lines = splitLines(bytes.toString('utf8'));
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!.length > READ_FILE_MAX_LINE_CHARS ? lines[i]!.slice(0, READ_FILE_MAX_LINE_CHARS) : lines[i]!;
        if (!test(line)) continue;
        if (matches.length >= TEXT_SEARCH_MAX_MATCHES) {
          truncated = true;
          break outer;
        }
        matches.push({ path: rel, line: i + 1, text: line.trim() });
      }
    }
    const pageCount = Math.ceil(matches.length / TEXT_SEARCH_PAGE_SIZE);
    return { matches: matches.slice(page * TEXT_SEARCH_PAGE_SIZE, (page + 1) * TEXT_SEARCH_PAGE_SIZE), total: matches.length, page, pageCount, truncated };
  }

  private requireAvailable(): void {
    if (!this.available) {
      throw new WorkspaceAccessError('No workspace is available (no folder is open, or the workspace is in restricted mode).');
    }
  }

  private allFiles(): Promise<string[]> {
    const now = Date.now();
    if (!this.listing || now - this.listing.at > WORKSPACE_LISTING_CACHE_MS) {
      const paths = this.lister();
      paths.catch(() => {
        if (this.listing?.paths === paths) this.listing = null;
      });
      this.listing = { at: now, paths };
    }
    return this.listing.paths;
  }

  /** Lexical mapping of a workspace path to an absolute one (no fs access); undefined when it names no root. */
  private absoluteOf(rel: string): string | undefined {
    if (this.roots.length === 1) return path.join(this.roots[0]!.path, rel);
    const slash = rel.indexOf('/');
    const root = this.roots.find((r) => r.name === (slash < 0 ? rel : rel.slice(0, slash)));
    return root ? path.join(root.path, slash < 0 ? '' : rel.slice(slash + 1)) : undefined;
  }

  /** Checks a model-given path and returns its real absolute path and its canonical display form. */
  private async resolve(input: string): Promise<{ abs: string; display: string }> {
    this.requireAvailable();
    if (typeof input !== 'string' || input.trim() === '') throw new WorkspaceAccessError('The path is empty. Give a workspace-relative path such as src/app.ts.');
    if (input.includes('\0')) throw new WorkspaceAccessError('The path contains a NUL character.');
    let rel = input.trim().replace(/\\/g, '/');
    if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) {
      throw new WorkspaceAccessError(`${input} is an absolute path. Give a path relative to the workspace, e.g. src/app.ts (see list_files).`);
    }
    rel = rel.replace(/^(\.\/)+/, '').replace(/\/+/g, '/').replace(/\/$/, '');
    const segments = rel.split('/');
    if (segments.some((s) => s === '..')) throw new WorkspaceAccessError(`${input} leaves the workspace ("..") and cannot be read.`);
    const clean = segments.filter((s) => s !== '.');

    let root: WorkspaceRoot;
    let inRoot: string[];
    if (this.roots.length === 1) {
      root = this.roots[0]!;
      inRoot = clean;
      // Models often prefix the folder's name; accept it when the unprefixed path does not exist.
      if (clean.length > 1 && clean[0] === root.name && !(await exists(path.join(root.path, ...clean)))) inRoot = clean.slice(1);
    } else {
      const found = this.roots.find((r) => r.name === clean[0]);
      if (!found) {
        throw new WorkspaceAccessError(
          `${input} does not start with a workspace folder name. In this multi-root workspace paths start with one of: ${this.roots.map((r) => r.name).join(', ')}.`,
        );
      }
      root = found;
      inRoot = clean.slice(1);
    }
    const display = this.roots.length === 1 ? inRoot.join('/') : [root.name, ...inRoot].join('/');
    if (isSecretPath(inRoot.join('/'))) {
      throw new WorkspaceAccessError(`${display} looks like it holds secrets (keys, passwords, tokens); it is never read for the agent.`);
    }
    const lexical = path.join(root.path, ...inRoot);
    let real: string;
    let rootReal: string;
    try {
      rootReal = await fs.realpath(root.path);
      real = await fs.realpath(lexical);
    } catch {
      throw new WorkspaceAccessError(`${display} does not exist. Use list_files or search_text to find the right path.`);
    }
    const back = path.relative(rootReal, real);
    if (back.startsWith('..') || path.isAbsolute(back)) {
      throw new WorkspaceAccessError(`${display} is a link that points outside the workspace; it cannot be read.`);
    }
    // A link inside the workspace may still point at a secret under another name.
    if (isSecretPath(back.split(path.sep).join('/'))) {
      throw new WorkspaceAccessError(`${display} points to a file that looks like it holds secrets; it is never read for the agent.`);
    }
    return { abs: real, display: display === '' ? '.' : display };
  }
}

function splitLines(text: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop(); // a final newline ends the last line, it does not start one
  return lines;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

function checkPage(page: number): void {
  if (!Number.isInteger(page) || page < 0) throw new WorkspaceAccessError(`page must be a whole number from 0 (got ${page}).`);
}

function globMatcher(glob: string): (p: string) => boolean {
  const g = glob.trim().replace(/\\/g, '/').replace(/^\.\//, '');
  try {
    // A glob without a slash matches at any depth, as in .gitignore and VS Code's search.
    return picomatch(g, { dot: true, nocase: true, basename: !g.includes('/') });
  } catch (err) {
    throw new WorkspaceAccessError(`The glob ${glob} is invalid: ${(err as Error).message}.`);
  }
}

/** `/regex/flags` → regex test; anything else → case-insensitive literal. */
function lineTester(query: string): (line: string) => boolean {
  if (typeof query !== 'string' || query === '') throw new WorkspaceAccessError('The search query is empty.');
  const m = /^\/(.+)\/([a-z]*)$/s.exec(query);
  if (m) {
    if (m[1]!.length > TEXT_SEARCH_MAX_REGEX_CHARS) {
      throw new WorkspaceAccessError(`The regular expression is too long (${m[1]!.length} characters, limit ${TEXT_SEARCH_MAX_REGEX_CHARS}).`);
    }
    const verdict = checkRegexSafety(m[1]!);
    if (!verdict.safe) {
      throw new WorkspaceAccessError(`The regular expression ${query} was refused: ${verdict.reason}. Simplify it, or search for literal text.`);
    }
    let re: RegExp;
    try {
      re = new RegExp(m[1]!, m[2]!.replace(/[gy]/g, ''));
    } catch (err) {
      throw new WorkspaceAccessError(`Invalid regular expression ${query}: ${(err as Error).message}. Fix it or search for literal text.`);
    }
    return (line) => re.test(line);
  }
  const needle = query.toLowerCase();
  return (line) => line.toLowerCase().includes(needle);
}
