import type { ChatMessage } from './chatModel';

/**
 * Recall memory: every message ever, in order, persisted per workspace
 * (append-only, crash-safe). Evicted messages stay here.
 */

export type RecallKind = 'user' | 'assistant' | 'tool' | 'system_event' | 'summary' | 'system_alert';

export interface RecallRecord {
  /** Unique, monotonically increasing within one store. */
  id: string;
  seq: number;
  /** ISO 8601 time of the message. */
  time: string;
  agentId: string;
  kind: RecallKind;
  message: ChatMessage;
  /**
   * Set on the records of a turn nobody asked for (the login at window open, a timer, a file
   * wake-up): its reply is not an answer to the user's last message. Absent in older logs.
   */
  automatic?: true;
}

export interface RecallSearchResult {
  records: RecallRecord[];
  total: number;
  page: number;
  pageCount: number;
  /**
   * Set when `total` (and so `pageCount`) is an upper bound, not a count: a text search checks
   * a phrase's candidates newest first only as far as the page needs; asking for later pages
   * checks further, and the bound comes down to the count.
   */
  totalIsUpperBound?: boolean;
}

export interface RecallStore {
  /** Appends and persists (durable before the promise resolves). */
  append(records: Omit<RecallRecord, 'id' | 'seq'>[]): Promise<RecallRecord[]>;
  get(ids: string[]): RecallRecord[];
  /** Case-insensitive, code-aware text search, newest first. */
  search(agentId: string, query: string, page: number, pageSize?: number): RecallSearchResult;
  /** Inclusive ISO dates (YYYY-MM-DD or full timestamps), oldest first. */
  searchDate(agentId: string, start: string, end: string, page: number, pageSize?: number): RecallSearchResult;
  /** Newest-last slice for history display: records with seq < beforeSeq. */
  page(agentId: string, beforeSeq: number | undefined, limit: number): RecallRecord[];
  count(agentId?: string): number;
  close(): Promise<void>;
}
