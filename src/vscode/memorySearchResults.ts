/**
 * What Search Memory lists, decided without the editor: the conversation hits a person would call
 * messages (what they said, what MemGPT answered; never the agent's system events, thoughts or
 * function results), and the archival hits worth a look (every remembered item, and workspace
 * chunks close to the best one). Knows no `vscode` API, so it is unit-tested in Node.
 */
import { sendMessageText } from '../core/functions/messageText';
import type { ArchivalHit } from '../core/interfaces/archivalStore';
import type { RecallRecord } from '../core/interfaces/recallStore';
import { MEMORY_SEARCH_WORKSPACE_RELATIVE_SCORE, MEMORY_SEARCH_WORKSPACE_SEMANTIC_MAX } from '../core/limits';

export interface ConversationHit {
  record: RecallRecord;
  who: 'you' | 'MemGPT';
  text: string;
}

/** The text of a user message, unpacking the agent's `{"type": "user_message", …}` packets; undefined for events. */
function userText(content: string): string | undefined {
  const trimmed = content.trim();
  if (!trimmed.startsWith('{')) return content;
  try {
    const v: unknown = JSON.parse(trimmed);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return content;
    const o = v as Record<string, unknown>;
    if (typeof o.type !== 'string') return content;
    return o.type === 'user_message' && typeof o.message === 'string' ? o.message : undefined;
  } catch {
    return content;
  }
}

/** Conversation hits in the search's order, as the chat shows them; everything else is left out. */
export function conversationHits(records: readonly RecallRecord[]): ConversationHit[] {
  const hits: ConversationHit[] = [];
  for (const record of records) {
    const m = record.message;
    if (record.kind === 'user' && m.role === 'user' && typeof m.content === 'string') {
      const text = userText(m.content);
      if (text !== undefined && text.trim()) hits.push({ record, who: 'you', text });
    } else if (record.kind === 'assistant' && m.role === 'assistant') {
      const replies = (m.tool_calls ?? [])
        .filter((c) => c.function.name === 'send_message')
        .map((c) => sendMessageText(c.function.arguments));
      const text = replies.join('\n');
      if (text.trim()) hits.push({ record, who: 'MemGPT', text });
    }
  }
  return hits;
}

/** The query's words worth matching (three letters or more), lower-cased. */
function queryWords(query: string): string[] {
  return [...new Set(query.toLowerCase().match(/[\p{L}\p{N}_]{3,}/gu) ?? [])];
}

/**
 * True when a word of the chunk (or its path) starts with a word of the query ("session" finds
 * "sessions"); identifiers count word by word ("refreshSessions" has "sessions").
 */
function sharesAWord(hit: ArchivalHit, words: readonly string[]): boolean {
  const spaced = `${hit.path ?? ''} ${hit.text}`.replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2');
  const own = spaced.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return own.some((w) => words.some((q) => w.startsWith(q)));
}

/**
 * Remembered items first (the user put them there), then workspace chunks in the search's order:
 * every one that shares a word with the query, and a few close in meaning that do not (near the
 * best score only).
 */
export function relevantArchival(hits: readonly ArchivalHit[], query: string): ArchivalHit[] {
  const memories = hits.filter((h) => h.source !== 'workspace');
  const workspace = hits.filter((h) => h.source === 'workspace');
  const words = queryWords(query);
  const best = Math.max(...workspace.map((h) => h.score));
  // Scores at or below zero say nothing about closeness: then none is "close".
  const close = (h: ArchivalHit): boolean => best > 0 && h.score >= best * MEMORY_SEARCH_WORKSPACE_RELATIVE_SCORE;
  let semanticLeft = MEMORY_SEARCH_WORKSPACE_SEMANTIC_MAX;
  const kept = workspace.filter((h) => {
    if (sharesAWord(h, words)) return true;
    if (!close(h) || semanticLeft === 0) return false;
    semanticLeft -= 1;
    return true;
  });
  return [...memories, ...kept];
}
