/**
 * The files a shared index (published from CI) already holds, as the local indexer sees them:
 * a file whose content hash equals the published one need not be chunked and embedded on this
 * machine, since searches answer it from the shared index. Implemented by the shared-index overlay.
 */
export interface PublishedFiles {
  /**
   * Content hash of every published file, or null while no shared index is usable (not
   * configured, unreachable, nothing published): then every file is indexed here. Waits at most
   * for a connection attempt already under way, which is bounded by its own time-out.
   */
  hashes(): Promise<ReadonlyMap<string, string> | null>;
  /**
   * Fired when the publish in use is lost (server unreachable) or replaced by another: files
   * that were left to it must be checked again, and indexed here where it no longer holds them.
   */
  onDidChange(listener: () => void): { dispose(): void };
}

/** The files the local indexer left to the shared index: on disk, catalogued, but with no chunks here. */
export interface FilesLeftToShared {
  /** Path → content hash of every such file (reads the catalog first if needed). */
  all(): Promise<ReadonlyMap<string, string>>;
  /** The content hash of one such file as catalogued now; undefined when it is not one (or not loaded yet). */
  hashOf(path: string): string | undefined;
  /** How many there are now. */
  count(): number;
}
