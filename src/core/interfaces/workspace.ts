/**
 * The agent's read-only view of the workspace. Paths are workspace-relative with
 * forward slashes; in multi-root workspaces the first segment names the folder.
 * Implementations refuse paths that leave the workspace (`..`, absolute, symlinks out).
 */

export interface FileSlice {
  path: string;
  startLine: number;
  endLine: number;
  totalLines: number;
  text: string;
  truncated: boolean;
}

export interface TextMatch {
  path: string;
  line: number;
  text: string;
}

export interface Workspace {
  /** False in restricted mode or with no folder: file functions are not offered. */
  readonly available: boolean;
  readFile(path: string, startLine: number, endLine: number): Promise<FileSlice>;
  /** Files matching the glob (default all), sorted, respecting ignores; paged. */
  listFiles(glob: string | undefined, page: number): Promise<{ paths: string[]; total: number; page: number; pageCount: number }>;
  /** Literal (case-insensitive) or /regex/ search; paged. */
  searchText(
    query: string,
    glob: string | undefined,
    page: number,
  ): Promise<{ matches: TextMatch[]; total: number; page: number; pageCount: number; truncated: boolean }>;
}
