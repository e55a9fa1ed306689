/**
 * Archival memory: an unbounded store searched by meaning and by words. It holds
 * two sources: the indexed workspace (chunks of files) and what the agent chose to
 * remember (`archival_memory_insert`, "Remember selection").
 */

import type { SymbolLookup } from './symbols';

export type ArchivalSource = 'workspace' | 'memory';

export interface ArchivalHit {
  id: string;
  source: ArchivalSource;
  text: string;
  score: number;
  /** Workspace-relative path (forward slashes) for workspace chunks and remembered selections. */
  path?: string;
  startLine?: number;
  endLine?: number;
  /** ISO time the memory was inserted (memories only). */
  time?: string;
  /** Shown after the hit: e.g. that the code a memory cites changed since it was remembered. */
  note?: string;
}

/** One remembered item as an export carries it (and an import brings it back). */
export interface RememberedItem {
  text: string;
  /** ISO time it was remembered. */
  time: string;
  path?: string;
  startLine?: number;
  endLine?: number;
}

export interface ArchivalSearchOptions {
  /** Remembered items of this agent only (workspace code is everyone's); absent: every item. */
  agentId?: string;
  /** Zero-based page; page size is SEARCH_PAGE_SIZE unless `pageSize` is set. */
  page?: number;
  pageSize?: number;
  source?: ArchivalSource;
  /** Glob over workspace-relative paths, e.g. `src/**\/*.ts`. */
  pathGlob?: string;
  signal?: AbortSignal;
}

export interface ArchivalSearchResult {
  hits: ArchivalHit[];
  total: number;
  page: number;
  pageCount: number;
}

export interface ArchivalStore {
  /** Stores a memory the agent (or the user) chose to keep. Returns its id. */
  insertMemory(text: string, provenance?: { path?: string; startLine?: number; endLine?: number; agentId?: string }): Promise<string>;
  /** What storing memory `id` did beyond storing it (e.g. replacing a stale memory), for the result the agent reads. */
  insertNotice?(id: string): string | undefined;
  search(query: string, options?: ArchivalSearchOptions): Promise<ArchivalSearchResult>;
  /** With `agentId`, remembered items count only that agent's. */
  count(source?: ArchivalSource, agentId?: string): number;
  /** The remembered items of one agent, oldest first (export). */
  memoriesOf?(agentId: string): RememberedItem[];
  /** Stores items for an agent (import); returns how many. */
  importMemories?(items: readonly RememberedItem[], agentId: string): Promise<number>;
  /** Gives items stored before items had owners to `agentId`; returns how many. */
  claimUnowned?(agentId: string): Promise<number>;
  /** Definitions and references of the indexed code, where the store keeps them (find_symbol, file_outline). */
  readonly symbols?: SymbolLookup;
  close(): Promise<void>;
}
