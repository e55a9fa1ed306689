/**
 * How many messages the conversation holds, as a person counts them: what they said and what MemGPT
 * answered. Recall also keeps thoughts, function calls and results and system events, so its raw
 * size jumps by several per exchange (4 → 20 after two messages) in a way nobody can read.
 *
 * Counted once through the whole recall log, then only the records added since. Knows no `vscode`
 * API, so it is unit-tested in Node.
 */
import type { RecallRecord } from '../core/interfaces/recallStore';
import { CHAT_MESSAGE_COUNT_PAGE } from '../core/limits';

/** Recall records of one agent with seq < beforeSeq (undefined: the newest), oldest first, at most `limit`. */
export type RecallPager = (beforeSeq: number | undefined, limit: number) => Promise<RecallRecord[]>;

/** 1 for a user message (not an event), 1 per send_message of an assistant record, else 0. */
export function messagesIn(record: RecallRecord): number {
  const m = record.message;
  if (record.kind === 'user' && m.role === 'user' && typeof m.content === 'string') {
    const content = m.content.trim();
    if (!content.startsWith('{')) return 1;
    try {
      const v: unknown = JSON.parse(content);
      const type = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
      return type === undefined || type === 'user_message' ? 1 : 0;
    } catch {
      return 1;
    }
  }
  if (record.kind === 'assistant' && m.role === 'assistant')
    return (m.tool_calls ?? []).filter((c) => c.function.name === 'send_message').length;
  return 0;
}

export class MessageCounter {
  private agentId: string | undefined;
  /** Newest seq counted, and the count through it. */
  private throughSeq = 0;
  private total = 0;
  private counting: Promise<number> | undefined;

  /** The last count, for the agent it was made for. */
  current(agentId: string | undefined): number | undefined {
    return agentId !== undefined && agentId === this.agentId && this.throughSeq > 0 ? this.total : undefined;
  }

  /** Counts what was added since the last call (everything for a new agent); one count at a time. */
  refresh(agentId: string, page: RecallPager): Promise<number> {
    const run = (this.counting ?? Promise.resolve(0)).catch(() => 0).then(() => this.count(agentId, page));
    this.counting = run;
    return run;
  }

  private async count(agentId: string, page: RecallPager): Promise<number> {
    if (agentId !== this.agentId) {
      this.agentId = agentId;
      this.throughSeq = 0;
      this.total = 0;
    }
    const stopAt = this.throughSeq;
    let before: number | undefined;
    let added = 0;
    let newest = stopAt;
    // Newest pages first, back to the last record counted before.
    for (;;) {
      const records = await page(before, CHAT_MESSAGE_COUNT_PAGE);
      const fresh = records.filter((r) => r.seq > stopAt);
      for (const r of fresh) {
        added += messagesIn(r);
        newest = Math.max(newest, r.seq);
      }
      const oldest = records[0];
      if (!oldest || fresh.length < records.length || records.length < CHAT_MESSAGE_COUNT_PAGE) break;
      before = oldest.seq;
    }
    if (this.agentId === agentId) {
      this.total += added;
      this.throughSeq = newest;
    }
    return this.total;
  }
}
