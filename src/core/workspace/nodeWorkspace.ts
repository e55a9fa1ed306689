import { promises as fs, realpath as realpathCallback } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import picomatch from 'picomatch';
import type { FileSlice, TextMatch, Workspace } from '../interfaces/workspace';
import { discoverFiles, isSecretPath, statExclusion, WorkspaceFileFilter, type Exclusion, type WorkspaceRoot } from '../index/discovery';
import { escapeForDisplay, hasDisplayEscapes, unescapeDisplayText } from './displayText';
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
import { MemgptError } from '../base/errors';

/**
 * The agent's read-only view of the workspace on plain `fs`.
 *
 * Paths: workspace-relative, forward slashes; with several roots the first
 * segment is the root's name (the indexer's rule, so search results and
 * read_file agree). Refused, with a reason the model can act on: absolute
 * paths, `..`, anything whose real path (symlinks resolved) leaves its root,
 * whatever the indexer's rule leaves out (`WorkspaceFileFilter.pathExclusion`:
 * secrets, .git/, node_modules/ and other excluded folders, ignored files,
 * excluded globs), judged on the path given and on a link's target, hard-linked
 * files (`statExclusion`), binaries (a NUL byte), folders, and files over
 * READ_FILE_MAX_BYTES: read_file never reads what list_files and search_text
 * leave out. Reads are paged by lines and long lines are cut, with `truncated`
 * set whenever anything was left out. Names in messages are escaped
 * (`escapeForDisplay`), and a name given back in that escaped form is found.
 */

/** Workspace-relative paths of the files the agent may list, sorted. */
export type FileLister = (signal?: AbortSignal) => Promise<string[]>;

export class WorkspaceAccessError extends MemgptError {
  constructor(message: string) {
    super('access_denied', message);
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
  private readonly excludeGlobs: readonly string[];
  /** The indexer's rules, shared by the listing and read_file; its ignore-file cache ages like the listing. */
  private filter: { at: number; rules: WorkspaceFileFilter } | null = null;

  constructor(roots: readonly WorkspaceRoot[], options: NodeWorkspaceOptions = {}) {
    this.roots = roots.map((r) => ({ name: r.name, path: path.resolve(r.path) }));
    const names = new Set(this.roots.map((r) => r.name));
    if (names.size !== this.roots.length) throw new Error('Two workspace folders have the same name; multi-root paths would be ambiguous.');
    this.available = this.roots.length > 0 && options.trusted !== false;
    this.excludeGlobs = options.excludeGlobs ?? [];
    this.lister =
      options.listFiles ??
      (async (signal) => {
        const out: string[] = [];
        for await (const f of discoverFiles(this.rules(), signal)) out.push(f.path);
        return out.sort();
      });
  }

  /** Forget the cached listing and ignore files (call on file create/delete/rename). */
  invalidate(): void {
    this.listing = null;
    this.filter = null;
  }

  async readFile(relPath: string, startLine: number, endLine: number): Promise<FileSlice> {
    const { abs, display } = await this.resolve(relPath);
    const shown = escapeForDisplay(display);
    const stat = await fs.stat(abs);
    if (stat.isDirectory())
      throw new WorkspaceAccessError(`${shown} is a folder, not a file. Use list_files with glob "${shown}/**" to see what is in it.`);
    if (!stat.isFile()) throw new WorkspaceAccessError(`${shown} is not a regular file.`);
    const linked = statExclusion(stat);
    if (linked) throw new WorkspaceAccessError(refusal(shown, linked));
    if (stat.size > READ_FILE_MAX_BYTES) {
      throw new WorkspaceAccessError(
        `${shown} is too large to read (${stat.size} bytes, limit ${READ_FILE_MAX_BYTES}). Use search_text to find the lines you need.`,
      );
    }
    const bytes = await fs.readFile(abs);
    if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0))
      throw new WorkspaceAccessError(`${shown} is a binary file; it cannot be read as text.`);
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
        // The listing already left hard links out; a link made since then is not searched either.
        if (!st.isFile() || st.size > TEXT_SEARCH_MAX_FILE_BYTES || statExclusion(st)) continue;
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
    return {
      matches: matches.slice(page * TEXT_SEARCH_PAGE_SIZE, (page + 1) * TEXT_SEARCH_PAGE_SIZE),
      total: matches.length,
      page,
      pageCount,
      truncated,
    };
  }

  private requireAvailable(): void {
    if (!this.available) {
      throw new WorkspaceAccessError('No workspace is available (no folder is open, or the workspace is in restricted mode).');
    }
  }

  /** The rule set; ignore files are re-read once the cache is as old as a stale listing. */
  private rules(): WorkspaceFileFilter {
    const now = Date.now();
    if (!this.filter || now - this.filter.at > WORKSPACE_LISTING_CACHE_MS) {
      this.filter = { at: now, rules: new WorkspaceFileFilter({ roots: this.roots, excludeGlobs: this.excludeGlobs }) };
    }
    return this.filter.rules;
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
    if (typeof input !== 'string' || input.trim() === '')
      throw new WorkspaceAccessError('The path is empty. Give a workspace-relative path such as src/app.ts.');
    if (input.includes('\0')) throw new WorkspaceAccessError('The path contains a NUL character.');
    const literal = await this.locate(input, input.trim().replace(/\\/g, '/'));
    // Names are shown escaped (`evil\nname.ts`); a model handing one back means the real name.
    if (hasDisplayEscapes(input) && !(await exists(literal.lexical))) {
      const unescaped = unescapeDisplayText(input.trim());
      // On Windows a backslash is a separator, which the escaped form must not smuggle in.
      const usable = !unescaped.includes('\0') && !(process.platform === 'win32' && unescaped.includes('\\'));
      const named = usable ? await this.locate(input, unescaped).catch(() => undefined) : undefined;
      if (named && (await exists(named.lexical))) return this.admit(named);
    }
    return this.admit(literal);
  }

  /** Maps a normalised path to its root and folder-relative segments (no rules yet). */
  private async locate(
    input: string,
    relText: string,
  ): Promise<{ root: WorkspaceRoot; inRoot: string[]; display: string; lexical: string }> {
    const shownInput = escapeForDisplay(input);
    if (relText.startsWith('/') || /^[A-Za-z]:/.test(relText)) {
      throw new WorkspaceAccessError(
        `${shownInput} is an absolute path. Give a path relative to the workspace, e.g. src/app.ts (see list_files).`,
      );
    }
    const rel = relText
      .replace(/^(\.\/)+/, '')
      .replace(/\/+/g, '/')
      .replace(/\/$/, '');
    const segments = rel.split('/');
    if (segments.some((s) => s === '..')) throw new WorkspaceAccessError(`${shownInput} leaves the workspace ("..") and cannot be read.`);
    const clean = segments.filter((s) => s !== '.' && s !== '');

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
          `${shownInput} does not start with a workspace folder name. In this multi-root workspace paths start with one of: ${this.roots.map((r) => escapeForDisplay(r.name)).join(', ')}.`,
        );
      }
      root = found;
      inRoot = clean.slice(1);
    }
    const display = this.roots.length === 1 ? inRoot.join('/') : [root.name, ...inRoot].join('/');
    return { root, inRoot, display, lexical: path.join(root.path, ...inRoot) };
  }

  /** The indexer's rule on the path as given and, for a link, on where it leads; then the real path. */
  private async admit(at: {
    root: WorkspaceRoot;
    inRoot: string[];
    display: string;
    lexical: string;
  }): Promise<{ abs: string; display: string }> {
    const { root, inRoot, display, lexical } = at;
    const shown = escapeForDisplay(display === '' ? '.' : display);
    const rules = this.rules();
    const excluded = await rules.pathExclusion(root, inRoot.join('/'));
    if (excluded) throw new WorkspaceAccessError(refusal(shown, excluded));
    let real: string;
    let rootReal: string;
    try {
      // The native call returns the name as stored on disk on case-insensitive systems, so a
      // different spelling (SRC/.Env) is judged under its real name.
      rootReal = await realpathNative(root.path);
      real = await realpathNative(lexical);
    } catch {
      throw new WorkspaceAccessError(`${shown} does not exist. Use list_files or search_text to find the right path.`);
    }
    const back = path.relative(rootReal, real);
    if (back.startsWith('..') || path.isAbsolute(back)) {
      throw new WorkspaceAccessError(`${shown} is a link that points outside the workspace; it cannot be read.`);
    }
    // A link inside the workspace may lead where the rules say no (notes.txt -> .env, cfg -> .git/config).
    const target = back.split(path.sep).join('/');
    if (target !== inRoot.join('/')) {
      const targetExcluded = await rules.pathExclusion(root, target);
      if (targetExcluded) {
        const targetShown = escapeForDisplay(this.roots.length === 1 ? target : `${root.name}/${target}`);
        throw new WorkspaceAccessError(refusal(shown, targetExcluded, targetShown));
      }
    }
    return { abs: real, display: display === '' ? '.' : display };
  }
}

/**
 * Why read_file will not read a path, in words for the model (and the user it tells): the rule,
 * and what can be done. Never any of the file's text. `target`: the link's destination, when
 * the rule matched there rather than on the name asked for.
 */
function refusal(shown: string, ex: Exclusion, target?: string): string {
  const subject = target ? `${shown} points to ${target}, which` : shown;
  switch (ex.rule) {
    case 'secret':
      return target
        ? `${shown} points to a file that looks like it holds secrets; it is never read for the agent.`
        : `${shown} looks like it holds secrets (keys, passwords, tokens); it is never read for the agent.`;
    case 'vcs':
      return `${subject} is inside ${ex.name}/, the version-control folder (its config can hold credentials, such as a token in a remote URL); it is never read for the agent.`;
    case 'default-dir':
      return `${subject} is inside ${ex.name}/, a folder the agent never reads (dependencies, build output, caches). Read the project's own files instead (see list_files).`;
    case 'default-file':
      return `${subject} is a lock file, a generated or minified file, or a binary file; the agent does not read these.`;
    case 'exclude-setting':
      return `${subject} is excluded by the settings (files.exclude, search.exclude or memgpt.index.exclude); excluded files are not read for the agent.`;
    case 'include-setting':
      return `${subject} is not among the files memgpt.index.include names; other files are not read for the agent.`;
    case 'ignore-file':
      return `${subject} is ignored by a .gitignore or .memgptignore file; ignored files are never read for the agent. The user can allow it with a line "!<path>" in .memgptignore.`;
    case 'hard-link':
      return (
        `${subject} has ${ex.links ?? 2} hard links (several names for the same data), and one of them may be outside the workspace, so it is never read for the agent. ` +
        'If the file belongs to the project, the user can give it its own copy (copy it to a new name, then rename the copy over it).'
      );
  }
}

const realpathNative = promisify(realpathCallback.native);

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
    throw new WorkspaceAccessError(`The glob ${escapeForDisplay(glob)} is invalid: ${(err as Error).message}.`);
  }
}

/** `/regex/flags` → regex test; anything else → case-insensitive literal. */
function lineTester(query: string): (line: string) => boolean {
  if (typeof query !== 'string' || query === '') throw new WorkspaceAccessError('The search query is empty.');
  const m = /^\/(.+)\/([a-z]*)$/s.exec(query);
  if (m) {
    if (m[1]!.length > TEXT_SEARCH_MAX_REGEX_CHARS) {
      throw new WorkspaceAccessError(
        `The regular expression is too long (${m[1]!.length} characters, limit ${TEXT_SEARCH_MAX_REGEX_CHARS}).`,
      );
    }
    const verdict = checkRegexSafety(m[1]!);
    if (!verdict.safe) {
      throw new WorkspaceAccessError(
        `The regular expression ${query} was refused: ${verdict.reason}. Simplify it, or search for literal text.`,
      );
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
