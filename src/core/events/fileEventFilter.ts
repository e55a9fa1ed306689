/**
 * Which editor documents may become file events for the agent. The editor reports every
 * document it opens: output and log channels, settings, git views, untitled buffers, files
 * outside the workspace, and our own storage (recall log, index shards) when a user peeks at
 * it. Only real workspace files that are not secrets and not excluded reach the agent.
 */
import path from 'node:path';
import picomatch from 'picomatch';
import { isDefaultExcludedDir, isSecretPath } from '../index/discovery';

/** A document as the editor describes it, reduced to what the rules need. */
export interface EditorDocumentRef {
  /** URI scheme: only `file` is a workspace file (`output`, `untitled`, `git`, `vscode-userdata`… are not). */
  scheme: string;
  /** Absolute path on disk (for `file` URIs). */
  fsPath: string;
  /** Workspace-relative path with forward slashes (first segment = folder name in multi-root), or undefined outside every folder. */
  relativePath: string | undefined;
}

export type FileEventSkipReason = 'scheme' | 'outside' | 'storage' | 'secret' | 'excluded' | 'log';

export interface FileEventFilterOptions {
  /** Globs over workspace-relative paths (the index excludes, `files.exclude`); matched with and without the folder prefix. */
  excludeGlobs?: readonly string[];
  /** Absolute folders whose files never become events (the extension's own storage, logs). */
  ignoredDirs?: readonly string[];
  /** More than one workspace folder: relative paths then start with the folder name. */
  multiRoot?: boolean;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export class FileEventFilter {
  private readonly excluded: ((p: string) => boolean) | undefined;
  private readonly ignoredDirs: readonly string[];
  private readonly multiRoot: boolean;

  constructor(options: FileEventFilterOptions = {}) {
    const globs = (options.excludeGlobs ?? []).filter((g) => g.trim().length > 0);
    this.excluded = globs.length > 0 ? picomatch(globs, { dot: true }) : undefined;
    this.ignoredDirs = (options.ignoredDirs ?? []).map((d) => path.resolve(d));
    this.multiRoot = options.multiRoot ?? false;
  }

  /** Why `doc` must not become a file event, or undefined when it may. */
  skipReason(doc: EditorDocumentRef): FileEventSkipReason | undefined {
    if (doc.scheme !== 'file') return 'scheme';
    const abs = path.resolve(doc.fsPath);
    if (this.ignoredDirs.some((dir) => isInside(abs, dir))) return 'storage';
    const rel = doc.relativePath;
    if (rel === undefined || rel === '' || rel.startsWith('../')) return 'outside';
    if (isSecretPath(rel)) return 'secret';
    const segments = rel.split('/');
    if (segments.slice(0, -1).some((s) => isDefaultExcludedDir(s))) return 'excluded';
    if (/\.log$/i.test(rel)) return 'log';
    if (this.excluded) {
      // In multi-root workspaces the first segment is the folder name; user globs are written per folder.
      const withoutFolder = this.multiRoot ? segments.slice(1).join('/') : '';
      if (this.excluded(rel) || (withoutFolder.length > 0 && this.excluded(withoutFolder))) return 'excluded';
    }
    return undefined;
  }

  accepts(doc: EditorDocumentRef): boolean {
    return this.skipReason(doc) === undefined;
  }
}
