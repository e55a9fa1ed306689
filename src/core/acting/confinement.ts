import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isSecretPath, type WorkspaceRoot } from '../index/discovery';
import { ACTING_MAX_PATH_CHARS } from '../limits';
import { ActingError } from './actingError';

/**
 * Where the agent may write and run: a model-given path is resolved against the workspace
 * folders, and refused unless it stays inside one of them for real. Paths are named as the read
 * functions name them (NodeWorkspace): workspace-relative with forward slashes, and with several
 * folders the first segment is the folder's name.
 *
 * Refused, with a reason the model can act on: absolute and home-relative paths, `..`, anything
 * under `.git/` (a write there can rewrite history or install hooks that run later), secret-looking
 * files (the indexer's isSecretPath, so reading and writing agree), symlinks whose target leaves the
 * folder or is itself refused, dangling links (a write would create their target wherever it
 * points), and hard links (a regular file with more than one name: writing it in place would also
 * change a file we cannot see, possibly outside the workspace). A new file in a new folder is fine.
 *
 * The checks run just before the write; a file swapped for a link in between is not caught (the
 * write itself goes to the resolved real path, which was checked).
 */

export type ConfinementErrorCode =
  | 'no-workspace'
  | 'empty'
  | 'invalid'
  | 'absolute'
  | 'escape'
  | 'unknown-folder'
  | 'git'
  | 'secret'
  | 'link-outside'
  | 'dangling-link'
  | 'hard-link'
  | 'not-a-file'
  | 'not-a-folder'
  | 'missing';

export class ConfinementError extends ActingError<ConfinementErrorCode> {
  constructor(code: ConfinementErrorCode, message: string) {
    super(code, message);
    this.name = 'ConfinementError';
  }
}

export interface ConfinedFile {
  /** Real absolute path to read and write (links resolved). */
  abs: string;
  /** The canonical workspace path, for messages, diffs, checkpoints and recall. */
  display: string;
  root: WorkspaceRoot;
  /** False for a file the write will create. */
  exists: boolean;
}

export interface ConfinedFolder {
  abs: string;
  /** "." for the only folder of a single-root workspace; the folder's name in a multi-root one. */
  display: string;
  root: WorkspaceRoot;
}

/** Resolves a file path for edit_file / write_file (or for restoring a checkpoint). */
export async function confineFile(roots: readonly WorkspaceRoot[], input: string): Promise<ConfinedFile> {
  const { root, inRoot, display } = await lexical(roots, input);
  if (inRoot.length === 0)
    throw new ConfinementError('not-a-file', `${input} names a workspace folder, not a file. Give a file path such as src/app.ts.`);
  const rootReal = await realRoot(root);
  // The deepest part of the path that exists decides where the rest would be created.
  let existing = inRoot.length;
  while (existing > 0 && !(await lexists(path.join(root.path, ...inRoot.slice(0, existing))))) existing--;
  const existingPath = path.join(root.path, ...inRoot.slice(0, existing));
  let real: string;
  try {
    real = await fs.realpath(existingPath);
  } catch {
    throw new ConfinementError(
      'dangling-link',
      `${display} goes through a link whose target does not exist; writing there would create a file wherever it points. Refused.`,
    );
  }
  const abs = path.join(real, ...inRoot.slice(existing));
  checkInside(rootReal, abs, display);
  if (existing < inRoot.length) {
    const st = await fs.stat(real);
    if (!st.isDirectory()) {
      const what = [root.name, ...inRoot.slice(0, existing)].slice(roots.length === 1 ? 1 : 0).join('/');
      throw new ConfinementError('not-a-folder', `${display} cannot be created: ${what} is a file, not a folder.`);
    }
    return { abs, display, root, exists: false };
  }
  const st = await fs.stat(abs);
  if (st.isDirectory()) throw new ConfinementError('not-a-file', `${display} is a folder, not a file.`);
  if (!st.isFile())
    throw new ConfinementError('not-a-file', `${display} is not a regular file (a device, socket or pipe); it is never written.`);
  if (st.nlink > 1) {
    throw new ConfinementError(
      'hard-link',
      `${display} is a hard link (the same file has ${st.nlink} names, possibly outside the workspace); changing it would change them all. Refused.`,
    );
  }
  return { abs, display, root, exists: true };
}

/** Resolves the folder a command runs in: the (first) workspace folder when none is given. */
export async function confineFolder(roots: readonly WorkspaceRoot[], input?: string): Promise<ConfinedFolder> {
  if (roots.length === 0) throw noWorkspace();
  const blank = input === undefined || input.trim() === '' || input.trim() === '.' || input.trim() === './';
  const { root, inRoot, display } = blank
    ? { root: roots[0]!, inRoot: [], display: roots.length === 1 ? '.' : roots[0]!.name }
    : await lexical(roots, input);
  const rootReal = await realRoot(root);
  const lexicalPath = path.join(root.path, ...inRoot);
  let real: string;
  try {
    real = await fs.realpath(lexicalPath);
  } catch {
    throw new ConfinementError(
      'missing',
      `The folder ${display} does not exist. Give an existing folder inside the workspace (or none for the workspace folder).`,
    );
  }
  checkInside(rootReal, real, display);
  if (!(await fs.stat(real)).isDirectory())
    throw new ConfinementError('not-a-folder', `${display} is a file, not a folder; cwd must be a folder.`);
  return { abs: real, display: display === '' ? '.' : display, root };
}

async function lexical(
  roots: readonly WorkspaceRoot[],
  input: string,
): Promise<{ root: WorkspaceRoot; inRoot: string[]; display: string }> {
  if (roots.length === 0) throw noWorkspace();
  if (typeof input !== 'string' || input.trim() === '')
    throw new ConfinementError('empty', 'The path is empty. Give a workspace-relative path such as src/app.ts.');
  if (input.includes('\0')) throw new ConfinementError('invalid', 'The path contains a NUL character.');
  if (input.length > ACTING_MAX_PATH_CHARS)
    throw new ConfinementError('invalid', `The path is longer than ${ACTING_MAX_PATH_CHARS} characters.`);
  let rel = input.trim().replace(/\\/g, '/');
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) {
    throw new ConfinementError('absolute', `${input} is an absolute path. Give a path relative to the workspace, e.g. src/app.ts.`);
  }
  if (rel === '~' || rel.startsWith('~/')) {
    throw new ConfinementError('absolute', `${input} points into the home folder; only paths inside the workspace can be changed.`);
  }
  rel = rel
    .replace(/^(\.\/)+/, '')
    .replace(/\/+/g, '/')
    .replace(/\/$/, '');
  const segments = rel.split('/').filter((s) => s !== '.' && s !== '');
  if (segments.includes('..'))
    throw new ConfinementError('escape', `${input} uses ".." to leave its folder; give a path inside the workspace without "..".`);

  let root: WorkspaceRoot;
  let inRoot: string[];
  if (roots.length === 1) {
    root = roots[0]!;
    inRoot = segments;
    // Models often prefix the folder's name, as the read functions accept; a real folder of that name wins.
    if (segments.length > 1 && segments[0] === root.name && !(await lexists(path.join(root.path, root.name)))) inRoot = segments.slice(1);
  } else {
    const found = roots.find((r) => r.name === segments[0]);
    if (!found) {
      throw new ConfinementError(
        'unknown-folder',
        `${input} does not start with a workspace folder name. In this multi-root workspace paths start with one of: ${roots.map((r) => r.name).join(', ')}.`,
      );
    }
    root = found;
    inRoot = segments.slice(1);
  }
  const display = roots.length === 1 ? inRoot.join('/') : [root.name, ...inRoot].join('/');
  checkName(inRoot.join('/'), display);
  return { root, inRoot, display };
}

/** Refuses .git and secret-looking names; run on the given path and again on where links lead. */
function checkName(relInRoot: string, display: string): void {
  if (relInRoot.split('/').some((s) => s.toLowerCase() === '.git')) {
    throw new ConfinementError(
      'git',
      `${display} is inside .git; the repository's own files are never changed by the agent (use git commands, with approval).`,
    );
  }
  if (relInRoot !== '' && isSecretPath(relInRoot)) {
    throw new ConfinementError(
      'secret',
      `${display} looks like it holds secrets (keys, passwords, tokens); the agent never reads or writes such files.`,
    );
  }
}

function checkInside(rootReal: string, real: string, display: string): void {
  const back = path.relative(rootReal, real);
  if (back === '..' || back.startsWith(`..${path.sep}`) || path.isAbsolute(back)) {
    throw new ConfinementError('link-outside', `${display} is (or goes through) a link that points outside its workspace folder. Refused.`);
  }
  // A harmless name may lead to .git or to a secret under another name.
  try {
    checkName(back.split(path.sep).join('/'), display);
  } catch (err) {
    if (err instanceof ConfinementError)
      throw new ConfinementError(err.code, `${display} is a link to a file the agent may not change: ${err.message}`);
    throw err;
  }
}

async function realRoot(root: WorkspaceRoot): Promise<string> {
  try {
    return await fs.realpath(root.path);
  } catch {
    throw new ConfinementError('missing', `The workspace folder ${root.name} (${root.path}) no longer exists.`);
  }
}

async function lexists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

function noWorkspace(): ConfinementError {
  return new ConfinementError('no-workspace', 'No workspace folder is open, so there is nowhere to change files or run commands.');
}
