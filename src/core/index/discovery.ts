/**
 * Which workspace files are indexed, and the walk that finds them.
 *
 * Paths: every path this module hands out is workspace-relative with forward
 * slashes. With one workspace folder it is relative to that folder
 * (`src/app.ts`); with several, the folder's name comes first (`api/src/app.ts`),
 * the same rule the `Workspace` interface uses.
 *
 * A file is indexed when none of these exclude it, checked in this order:
 * secret-looking names (always, whatever the include globs say), default
 * excluded folders and files (VCS folders, dependencies, build output, lock files,
 * minified/generated files, binaries by extension), the caller's exclude globs
 * (VS Code's `files.exclude` and `search.exclude`), the caller's include globs
 * when given, nested `.gitignore` and `.memgptignore` files (git semantics,
 * negation included), then the size limit, hard links (`statExclusion`) and a
 * NUL byte in the first 8 KB. A symbolic link is judged by its own path and by
 * its target's. This is the one rule of what the agent may see: list_files and
 * search_text list through the walk, read_file asks `pathExclusion`.
 * Type declarations (`*.d.ts`) are kept: hand-written ones describe APIs well,
 * and generated ones live in excluded build folders.
 */
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { BINARY_SNIFF_BYTES, INDEX_MAX_FILE_BYTES } from '../limits';

export interface WorkspaceRoot {
  /** The folder's name as VS Code shows it; prefixes paths in multi-root workspaces. */
  name: string;
  /** Absolute path on disk. */
  path: string;
}

export interface DiscoveryOptions {
  roots: readonly WorkspaceRoot[];
  /** Globs relative to each root (e.g. `files.exclude` keys whose value is true). */
  excludeGlobs?: readonly string[];
  /** When non-empty, only files matching one of these are indexed. */
  includeGlobs?: readonly string[];
  maxFileBytes?: number;
}

export interface DiscoveredFile {
  /** Workspace-relative path (see the module comment). */
  path: string;
  absPath: string;
  size: number;
  mtimeMs: number;
}

export type SkipReason = 'secret' | 'excluded' | 'ignored' | 'binary' | 'too-large' | 'missing' | 'outside' | 'hard-link';

/**
 * Why a path is left out: the coarse reason the indexer reports, and the rule that decided, so
 * read_file can tell the model exactly why (inside .git/, ignored, a secret, a hard link).
 */
export interface Exclusion {
  reason: SkipReason;
  rule: 'secret' | 'vcs' | 'default-dir' | 'default-file' | 'exclude-setting' | 'include-setting' | 'ignore-file' | 'hard-link';
  /** The folder or file name a default rule matched (`.git`, `node_modules`), when there is one. */
  name?: string;
  /** For a hard link: how many names the file has. */
  links?: number;
}

/**
 * Version-control folders: they hold the whole history and a config that can carry credentials
 * (a token in a remote URL). In a worktree or submodule `.git` is a file pointing at one.
 */
const VCS_DIRS: ReadonlySet<string> = new Set(['.git', '.hg', '.svn', '.bzr', '_darcs']);

const DEFAULT_EXCLUDED_DIRS: ReadonlySet<string> = new Set([
  ...VCS_DIRS,
  'node_modules',
  'bower_components',
  'jspm_packages',
  'vendor',
  'dist',
  'build',
  'out',
  'target',
  'coverage',
  '.nyc_output',
  '.next',
  '.nuxt',
  '.svelte-kit',
  '.turbo',
  '.cache',
  '.parcel-cache',
  '.angular',
  '.expo',
  '__pycache__',
  '.pytest_cache',
  '.mypy_cache',
  '.ruff_cache',
  '.tox',
  '.venv',
  'venv',
  '.gradle',
  '.idea',
  '.dart_tool',
  '.terraform',
  'Pods',
  'DerivedData',
  '.vscode-test',
  '.vscode-host',
  '.bench-cache',
  '.memgpt',
]);

const LOCK_FILES: ReadonlySet<string> = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'bun.lock',
  'cargo.lock',
  'gemfile.lock',
  'poetry.lock',
  'pipfile.lock',
  'composer.lock',
  'go.sum',
  'mix.lock',
  'pubspec.lock',
  'packages.lock.json',
  'flake.lock',
  'uv.lock',
  'podfile.lock',
  '.ds_store',
  'thumbs.db',
]);

/** Minified, source maps, generated code, snapshots and other machine-written text. */
const GENERATED_FILE =
  /(\.min\.[a-z0-9]+|\.map|\.tsbuildinfo|\.pb\.go|_pb2\.py|\.generated\.[a-z0-9]+|\.g\.dart|\.snap|\.svg|\.log|-lock\.json|\.lock)$/i;

export const BINARY_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    'png jpg jpeg gif bmp ico icns webp tif tiff psd ai heic avif mp3 mp4 m4a wav ogg flac aac avi mov mkv webm ' +
    'zip gz tgz bz2 xz 7z rar tar jar war ear zst lz4 pdf doc docx xls xlsx ppt pptx odt ods exe dll so dylib ' +
    'a o obj lib class pyc pyo pyd wasm bin dat db sqlite sqlite3 mdb woff woff2 ttf otf eot node vsix iso dmg ' +
    'img npy npz pkl pickle h5 hdf5 onnx pt pth ckpt safetensors gguf tflite parquet avro lockb blend fbx glb'
  ).split(' '),
);

/** Names that usually hold keys, passwords or tokens. */
const SECRET_NAME_PATTERNS: readonly RegExp[] = [
  /^\.env($|[.\-_])/i, // .env, .env.local, .env.production, .envrc
  /\.(pem|key|p12|pfx|jks|keystore|ppk|crt|cer|der|p8|asc|gpg|kdbx|ovpn|tfstate|tfvars)$/i,
  /\.tfstate\.backup$/i,
  /^id_(rsa|dsa|ecdsa|ed25519)/i,
  /^\.(npmrc|pypirc|netrc|git-credentials|htpasswd|dockercfg|boto|s3cfg|pgpass|my\.cnf)$/i,
  /^_netrc$/i,
  /^credentials?(\.[a-z0-9]+)*$/i, // credentials, credentials.json (not credentials-guide.md)
  /credentials?([-_.][\w-]*)?\.(json|ya?ml|xml|ini|txt|csv|env)$/i, // gcp-credentials.json, credentials_prod.yaml
  /^secrets?(\.[a-z0-9]+)*$/i,
  /\.secrets?$/i,
  /^service[-_]?account.*\.json$/i,
  /^(known_hosts|authorized_keys)$/i,
];
const SECRET_DIRS: ReadonlySet<string> = new Set(['.ssh', '.gnupg', '.aws', '.azure', '.kube', '.docker']);

/** True for paths that look like they hold secrets: never indexed, never read for the agent. */
export function isSecretPath(filePath: string): boolean {
  const segments = filePath.split(/[\\/]+/).filter((s) => s.length > 0);
  const base = segments[segments.length - 1] ?? '';
  if (segments.slice(0, -1).some((s) => SECRET_DIRS.has(s.toLowerCase()))) return true;
  return SECRET_NAME_PATTERNS.some((re) => re.test(base));
}

/** True for files the default rules leave out (before any ignore file or setting). */
export function isDefaultExcludedFile(fileName: string): boolean {
  const lower = fileName.toLowerCase();
  if (LOCK_FILES.has(lower)) return true;
  if (GENERATED_FILE.test(lower)) return true;
  const dot = lower.lastIndexOf('.');
  return dot > 0 && BINARY_EXTENSIONS.has(lower.slice(dot + 1));
}

/** Any case: on macOS and Windows `.GIT/config` opens `.git/config`. */
function isVcsName(name: string): boolean {
  return VCS_DIRS.has(name.toLowerCase());
}

export function isDefaultExcludedDir(dirName: string): boolean {
  return DEFAULT_EXCLUDED_DIRS.has(dirName);
}

/**
 * The rule a path cannot show: a regular file with more than one hard link is left out. Every
 * name of a hard-linked file is equally real, so one of them may be outside the workspace (a
 * link to ~/.ssh/config made inside the project), and realpath cannot tell. Inside a working
 * tree hard links are rare (package stores and git object folders are excluded anyway).
 */
export function statExclusion(stat: { isFile(): boolean; nlink: number }): Exclusion | undefined {
  return stat.isFile() && stat.nlink > 1 ? { reason: 'hard-link', rule: 'hard-link', links: stat.nlink } : undefined;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/**
 * The rules of one workspace, with `.gitignore`/`.memgptignore` files cached per folder.
 * The walker and single-file checks (save, create, rename) share it so they agree.
 */
export class WorkspaceFileFilter {
  readonly roots: readonly WorkspaceRoot[];
  private readonly ignoreCache = new Map<string, Ignore | null>();
  private readonly excludeMatchers: ((p: string) => boolean)[];
  private readonly includeMatcher: ((p: string) => boolean) | undefined;
  readonly maxFileBytes: number;

  constructor(options: DiscoveryOptions) {
    if (options.roots.length === 0) throw new Error('Discovery needs at least one workspace folder.');
    this.roots = options.roots.map((r) => ({ name: r.name, path: path.resolve(r.path) }));
    const names = new Set<string>();
    for (const r of this.roots) {
      if (names.has(r.name))
        throw new Error(
          `Two workspace folders are both named "${r.name}"; paths would be ambiguous. Rename one in the .code-workspace file.`,
        );
      names.add(r.name);
    }
    const globOptions = { dot: true };
    this.excludeMatchers = (options.excludeGlobs ?? []).map((g) => picomatch(g, globOptions));
    const include = (options.includeGlobs ?? []).filter((g) => g.trim() !== '');
    this.includeMatcher = include.length > 0 ? picomatch(include, globOptions) : undefined;
    this.maxFileBytes = options.maxFileBytes ?? INDEX_MAX_FILE_BYTES;
  }

  /** Forget cached ignore files (call when a `.gitignore` or `.memgptignore` changes). */
  invalidate(): void {
    this.ignoreCache.clear();
  }

  /** Workspace-relative path of an absolute one, or undefined when it is outside every root. */
  relativePath(absPath: string): string | undefined {
    const resolved = path.resolve(absPath);
    for (const root of this.roots) {
      const rel = path.relative(root.path, resolved);
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
      return this.roots.length > 1 ? `${root.name}/${toPosix(rel)}` : toPosix(rel);
    }
    return undefined;
  }

  /** Absolute path of a workspace-relative one, or undefined if it names no root or leaves it. */
  absolutePath(relPath: string): string | undefined {
    let root: WorkspaceRoot | undefined;
    let rest = relPath;
    if (this.roots.length === 1) root = this.roots[0];
    else {
      const slash = relPath.indexOf('/');
      const name = slash < 0 ? relPath : relPath.slice(0, slash);
      root = this.roots.find((r) => r.name === name);
      rest = slash < 0 ? '' : relPath.slice(slash + 1);
    }
    if (!root) return undefined;
    const abs = path.resolve(root.path, rest);
    const back = path.relative(root.path, abs);
    if (back.startsWith('..') || path.isAbsolute(back)) return undefined;
    return abs;
  }

  /** Why a directory is not descended into, or undefined when it is walked. */
  async dirExclusion(root: WorkspaceRoot, relInRoot: string): Promise<Exclusion | undefined> {
    const name = relInRoot.slice(relInRoot.lastIndexOf('/') + 1);
    if (isVcsName(name)) return { reason: 'excluded', rule: 'vcs', name };
    if (isDefaultExcludedDir(name)) return { reason: 'excluded', rule: 'default-dir', name };
    if (SECRET_DIRS.has(name.toLowerCase())) return { reason: 'secret', rule: 'secret' };
    if (this.excludeMatchers.some((m) => m(relInRoot) || m(relInRoot + '/'))) return { reason: 'excluded', rule: 'exclude-setting' };
    if (await this.ignoredByFiles(root, relInRoot, true)) return { reason: 'ignored', rule: 'ignore-file' };
    return undefined;
  }

  /** Why a file is left out judging by its own name and path (its folders are checked by the walk), or undefined. */
  async fileExclusion(root: WorkspaceRoot, relInRoot: string): Promise<Exclusion | undefined> {
    const segments = relInRoot.split('/');
    const name = segments[segments.length - 1]!;
    if (isSecretPath(relInRoot)) return { reason: 'secret', rule: 'secret' };
    const vcs = segments.find((s) => isVcsName(s));
    if (vcs) return { reason: 'excluded', rule: 'vcs', name: vcs };
    const dir = segments.slice(0, -1).find((s) => isDefaultExcludedDir(s));
    if (dir) return { reason: 'excluded', rule: 'default-dir', name: dir };
    if (isDefaultExcludedFile(name)) return { reason: 'excluded', rule: 'default-file', name };
    if (this.excludeMatchers.some((m) => m(relInRoot))) return { reason: 'excluded', rule: 'exclude-setting' };
    if (this.includeMatcher && !this.includeMatcher(relInRoot)) return { reason: 'excluded', rule: 'include-setting' };
    if (await this.ignoredByFiles(root, relInRoot, false)) return { reason: 'ignored', rule: 'ignore-file' };
    return undefined;
  }

  /**
   * The whole path rule for one file (or folder, with `isDir`): every folder on the way, as the walk
   * judges it, then the file. Single-file checks, link targets and read_file decide through here.
   */
  async pathExclusion(root: WorkspaceRoot, relInRoot: string, isDir = false): Promise<Exclusion | undefined> {
    if (relInRoot === '') return undefined; // the root itself
    const segments = relInRoot.split('/');
    for (let i = 1; i < segments.length + (isDir ? 1 : 0); i++) {
      const excluded = await this.dirExclusion(root, segments.slice(0, i).join('/'));
      if (excluded) return excluded;
    }
    return isDir ? undefined : this.fileExclusion(root, relInRoot);
  }

  /** Why a directory is not descended into, or undefined when it is walked. */
  async dirSkipReason(root: WorkspaceRoot, relInRoot: string): Promise<SkipReason | undefined> {
    return (await this.dirExclusion(root, relInRoot))?.reason;
  }

  /** Why a file is not indexed judging by its path alone, or undefined. */
  async fileSkipReason(root: WorkspaceRoot, relInRoot: string): Promise<SkipReason | undefined> {
    return (await this.fileExclusion(root, relInRoot))?.reason;
  }

  /**
   * Full check of one file by absolute path (for save/create/rename events):
   * path rules, ignore files of every parent folder, size, and binary content.
   */
  async check(absPath: string): Promise<{ ok: true; file: DiscoveredFile } | { ok: false; reason: SkipReason }> {
    const located = this.locate(absPath);
    if (!located) return { ok: false, reason: 'outside' };
    const { root, relInRoot, relPath } = located;
    const excluded = await this.pathExclusion(root, relInRoot);
    if (excluded) return { ok: false, reason: excluded.reason };
    let stat;
    try {
      stat = await fs.stat(absPath);
    } catch {
      return { ok: false, reason: 'missing' };
    }
    if (!stat.isFile()) return { ok: false, reason: 'missing' };
    if (stat.size > this.maxFileBytes) return { ok: false, reason: 'too-large' };
    const linked = statExclusion(stat);
    if (linked) return { ok: false, reason: linked.reason };
    // The walker follows no link out of the workspace and none to a path the rules leave out; a single-file check must not either.
    let inside: string;
    try {
      inside = path.relative(await fs.realpath(root.path), await fs.realpath(absPath));
    } catch {
      return { ok: false, reason: 'missing' };
    }
    if (inside.startsWith('..') || path.isAbsolute(inside)) return { ok: false, reason: 'outside' };
    if (toPosix(inside) !== relInRoot) {
      const target = await this.pathExclusion(root, toPosix(inside));
      if (target) return { ok: false, reason: target.reason };
    }
    return { ok: true, file: { path: relPath, absPath: path.resolve(absPath), size: stat.size, mtimeMs: stat.mtimeMs } };
  }

  private locate(absPath: string): { root: WorkspaceRoot; relInRoot: string; relPath: string } | undefined {
    const resolved = path.resolve(absPath);
    for (const root of this.roots) {
      const rel = path.relative(root.path, resolved);
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
      const relInRoot = toPosix(rel);
      return { root, relInRoot, relPath: this.roots.length > 1 ? `${root.name}/${relInRoot}` : relInRoot };
    }
    return undefined;
  }

  /** Git semantics across nested files: the deepest file that has an opinion wins. */
  private async ignoredByFiles(root: WorkspaceRoot, relInRoot: string, isDir: boolean): Promise<boolean> {
    const segments = relInRoot.split('/');
    let ignored = false;
    for (let depth = 0; depth < segments.length; depth++) {
      const dirRel = segments.slice(0, depth).join('/');
      const ig = await this.ignoreFor(path.join(root.path, dirRel));
      if (!ig) continue;
      const sub = segments.slice(depth).join('/') + (isDir ? '/' : '');
      const r = ig.test(sub);
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    return ignored;
  }

  private async ignoreFor(dirAbs: string): Promise<Ignore | null> {
    const cached = this.ignoreCache.get(dirAbs);
    if (cached !== undefined) return cached;
    let ig: Ignore | null = null;
    for (const file of ['.gitignore', '.memgptignore']) {
      try {
        const text = await fs.readFile(path.join(dirAbs, file), 'utf8');
        ig = (ig ?? ignore()).add(text);
      } catch {
        // no such file (or unreadable): no rules from it
      }
    }
    this.ignoreCache.set(dirAbs, ig);
    return ig;
  }
}

/**
 * Walks every root and yields the files to index, in a stable (sorted) order.
 * Symbolic links are followed inside their root only; a folder reached twice
 * (a link loop) is walked once. Entries that vanish mid-walk are skipped.
 */
export async function* discoverFiles(filter: WorkspaceFileFilter, signal?: AbortSignal): AsyncGenerator<DiscoveredFile> {
  for (const root of filter.roots) {
    let rootReal: string;
    try {
      rootReal = await fs.realpath(root.path);
    } catch {
      continue; // the folder was removed: nothing to index in it
    }
    const visited = new Set<string>([rootReal]);
    const stack: string[] = ['']; // root-relative folders still to read
    while (stack.length > 0) {
      signal?.throwIfAborted();
      const dirRel = stack.pop()!;
      let entries: Dirent[];
      try {
        entries = await fs.readdir(path.join(root.path, dirRel), { withFileTypes: true });
      } catch {
        continue;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const subdirs: string[] = [];
      for (const entry of entries) {
        const rel = dirRel === '' ? entry.name : `${dirRel}/${entry.name}`;
        const abs = path.join(root.path, rel);
        let isDir = entry.isDirectory();
        let isFile = entry.isFile();
        if (entry.isSymbolicLink()) {
          try {
            const real = await fs.realpath(abs);
            const inside = path.relative(rootReal, real);
            if (inside.startsWith('..') || path.isAbsolute(inside)) continue; // links out of the workspace are not followed
            const st = await fs.stat(real);
            // A harmless name may point at a path the rules leave out (notes.txt -> .env, cfg -> .git/config):
            // the target's path decides too, by the same rule.
            if (await filter.pathExclusion(root, toPosix(inside), st.isDirectory())) continue;
            isDir = st.isDirectory();
            isFile = st.isFile();
            if (isDir) {
              if (visited.has(real)) continue;
              visited.add(real);
            }
          } catch {
            continue; // dangling link
          }
        } else if (isDir) {
          try {
            const real = await fs.realpath(abs);
            if (visited.has(real)) continue;
            visited.add(real);
          } catch {
            continue;
          }
        }
        if (isDir) {
          if ((await filter.dirSkipReason(root, rel)) === undefined) subdirs.push(rel);
        } else if (isFile) {
          if ((await filter.fileSkipReason(root, rel)) !== undefined) continue;
          let st;
          try {
            st = await fs.stat(abs);
          } catch {
            continue; // vanished
          }
          if (st.size > filter.maxFileBytes || statExclusion(st)) continue;
          yield { path: filter.roots.length > 1 ? `${root.name}/${rel}` : rel, absPath: abs, size: st.size, mtimeMs: st.mtimeMs };
        }
      }
      // reverse so that pop() visits folders in sorted order
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
    }
  }
}

export type ReadResult = { ok: true; text: string; bytes: Buffer } | { ok: false; reason: SkipReason };

/**
 * Reads a file for indexing: refuses binaries (a NUL byte in the first 8 KB) and
 * files over the size limit; decodes invalid UTF-8 with replacement characters.
 */
export async function readIndexableFile(absPath: string, maxBytes: number = INDEX_MAX_FILE_BYTES): Promise<ReadResult> {
  let bytes: Buffer;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(absPath, 'r');
    // Size first: a file that grew past the limit since discovery (a log being written) is not read into memory.
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, reason: 'missing' };
    if (stat.size > maxBytes) return { ok: false, reason: 'too-large' };
    // A link made since discovery is refused here too (the open handle is the file that would be read).
    if (statExclusion(stat)) return { ok: false, reason: 'hard-link' };
    bytes = await handle.readFile();
  } catch {
    return { ok: false, reason: 'missing' };
  } finally {
    await handle?.close().catch(() => undefined);
  }
  if (bytes.length > maxBytes) return { ok: false, reason: 'too-large' };
  const sniff = bytes.subarray(0, BINARY_SNIFF_BYTES);
  if (sniff.includes(0)) return { ok: false, reason: 'binary' };
  let text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { ok: true, text, bytes };
}
