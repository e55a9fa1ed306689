/**
 * What a UI scenario's window opens: copies of repo folders (one folder, or several as a multi-root
 * `.code-workspace`), extra files written into them first (hostile names, fixtures), or no folder at
 * all. Every window gets fresh copies, so its agent starts on fresh per-workspace memory (the memory
 * is keyed by the folder URIs) and nothing a test does reaches the repo.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkbenchTarget } from './browser';

export interface WindowFolder {
  /** The workspace folder's name (VS Code's, and the first segment of the agent's multi-root paths). */
  name: string;
  /** Repo-relative folder copied as this workspace folder, e.g. `sample-workspace`. */
  source: string;
}

export interface WorkspaceLayout {
  /** Default: one folder `workspace`, a copy of sample-workspace/. Two or more open as a multi-root workspace. */
  folders?: WindowFolder[];
  /**
   * Files written after the copy, path → content. With one folder the path is relative to it; with
   * several its first segment names the folder (the agent's own rule for multi-root paths).
   */
  files?: Record<string, string>;
}

/** A layout, or `'no-folder'` for a window with no workspace folder. */
export type WindowContents = WorkspaceLayout | 'no-folder';

export interface OpenedFolder {
  name: string;
  /** Absolute path of the copy. */
  path: string;
}

export interface PreparedWindow {
  target: Pick<WorkbenchTarget, 'folder' | 'workspaceFile'>;
  folders: OpenedFolder[];
}

const DEFAULT_FOLDERS: WindowFolder[] = [{ name: 'workspace', source: 'sample-workspace' }];

/** Lays out `contents` under `dir` (which must not exist yet) and says what the workbench should open. */
export function prepareWindow(repoRoot: string, dir: string, contents: WindowContents): PreparedWindow {
  mkdirSync(dir, { recursive: true });
  if (contents === 'no-folder') return { target: {}, folders: [] };
  const specs = contents.folders ?? DEFAULT_FOLDERS;
  if (specs.length === 0) throw new Error('A workspace layout needs at least one folder; use "no-folder" for a window without one.');
  const names = new Set(specs.map((f) => f.name));
  if (names.size !== specs.length) throw new Error(`Workspace folder names must differ: ${specs.map((f) => f.name).join(', ')}.`);
  const folders = specs.map((f) => {
    if (!/^[\w.-]+$/.test(f.name)) throw new Error(`Workspace folder name "${f.name}" must be a plain file name.`);
    const copy = path.join(dir, f.name);
    cpSync(path.join(repoRoot, f.source), copy, { recursive: true });
    return { name: f.name, path: copy };
  });
  for (const [rel, text] of Object.entries(contents.files ?? {})) {
    const parts = rel.split('/');
    const folder = folders.length > 1 ? folders.find((f) => f.name === parts[0]) : folders[0];
    if (!folder)
      throw new Error(`"${rel}" names no workspace folder; with several folders a path starts with one of: ${[...names].join(', ')}.`);
    const inside = folders.length > 1 ? parts.slice(1) : parts;
    if (inside.length === 0 || inside.some((p) => p === '' || p === '.' || p === '..'))
      throw new Error(`"${rel}" is not a plain relative file path.`);
    const file = path.join(folder.path, ...inside);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  if (folders.length === 1) return { target: { folder: folders[0]!.path }, folders };
  const workspaceFile = path.join(dir, 'window.code-workspace');
  writeFileSync(workspaceFile, JSON.stringify({ folders: folders.map((f) => ({ name: f.name, path: f.path })), settings: {} }, null, 2));
  return { target: { workspaceFile }, folders };
}
