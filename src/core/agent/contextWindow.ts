import type { ChatMessage, ToolSchema } from '../interfaces/chatModel';
import type { RecallKind } from '../interfaces/recallStore';
import type { TokenCounter } from '../tokens/tokenCounter';
import type { ContextUsage } from './events';
import type { AgentSummary } from './agentState';
import {
  DEFAULT_MEMORY_PRESSURE_FRACTION,
  FLUSH_EVICT_FRACTION,
  FLUSH_FRACTION,
  FLUSH_KEEP_NEWEST_MESSAGES,
  REPLY_RESERVE_TOKENS,
  TOKENIZER_HEADROOM_FRACTION,
  TURN_RESULT_STUB_MIN_CHARS,
} from '../limits';

/**
 * MemGPT's main context, assembled exactly as it is sent:
 *   [system: instructions + memory statistics + core memory]
 *   [user: summary of evicted messages]            (once there is one)
 *   [FIFO queue: user/assistant/tool/event messages, oldest first]
 * plus the tool schemas, which the server renders into the prompt too.
 *
 * Accounting: tokens are counted with the TokenCounter over that whole request.
 * When the tokenizer is not the model's own, counts are scaled up by
 * TOKENIZER_HEADROOM_FRACTION ("effective" tokens). The usable budget is the
 * window minus REPLY_RESERVE_TOKENS; the pressure alert fires at
 * `pressureFraction` of that budget, the flush at FLUSH_FRACTION of it.
 *
 * Eviction works on units: an assistant message with tool calls and the tool
 * results that answer it are one unit, so a flush never separates them. The
 * newest units holding at least FLUSH_KEEP_NEWEST_MESSAGES messages are kept,
 * and so is the running turn (`turnStart` and everything after it): a flush in
 * the middle of a turn must not take away the question being answered or the
 * results the model is about to read. When the turn alone does not fit, the
 * agent sheds instead (stubOldTurnResults, shedTools, collapseNewestUnit).
 * This module only plans and applies; asking the model for the summary is the
 * Summarizer's job and the order of operations is the Agent's.
 */

export interface QueueEntry {
  /** Recall id; '' for a message synthesised in memory (never persisted). */
  id: string;
  kind: RecallKind;
  message: ChatMessage;
  time: string;
}

export interface ContextWindowOptions {
  windowTokens: number;
  counter: TokenCounter;
  tools: ToolSchema[];
  instructions: string;
  pressureFraction?: number;
}

export interface SystemParts {
  /** Memory statistics and the rendered core memory. */
  memory: string;
}

export class ContextWindow {
  readonly windowTokens: number;
  readonly pressureFraction: number;
  entries: QueueEntry[] = [];
  summary: AgentSummary | null = null;
  /** Total recall messages evicted so far (the summary's coverage). */
  pressureWarned = false;
  flushing = false;
  /** The message that started the running turn (null between turns): never evicted. */
  turnStart: QueueEntry | null = null;
  private system: ChatMessage;
  private instructions: string;
  private memoryText = '';
  private summaryCache: { text: string; evicted: number; total: number; message: ChatMessage } | null = null;
  private readonly counter: TokenCounter;
  /** The tool schemas of the next request: all of them, unless some were shed to fit a turn. */
  tools: ToolSchema[];
  private allTools: ToolSchema[];

  constructor(options: ContextWindowOptions) {
    this.windowTokens = options.windowTokens;
    this.pressureFraction = options.pressureFraction ?? DEFAULT_MEMORY_PRESSURE_FRACTION;
    if (!(this.pressureFraction > 0 && this.pressureFraction <= 1)) {
      throw new Error(`The memory-pressure fraction must be between 0 and 1 (got ${this.pressureFraction}).`);
    }
    this.counter = options.counter;
    this.tools = options.tools;
    this.allTools = options.tools;
    this.instructions = options.instructions;
    this.system = { role: 'system', content: options.instructions };
  }

  /** Rebuilds the system message (instructions + statistics + core memory); cheap when unchanged. */
  setSystem(instructions: string, memory: string): void {
    if (instructions === this.instructions && memory === this.memoryText) return;
    this.instructions = instructions;
    this.memoryText = memory;
    this.system = { role: 'system', content: `${instructions}\n${memory}` };
  }

  systemMessage(): ChatMessage {
    return this.system;
  }

  /** MemGPT's summary message at the head of the queue, or null before the first flush. */
  summaryMessage(totalMessages: number): ChatMessage | null {
    if (!this.summary) return null;
    const evicted = this.summary.recallIdsCovered ?? 0;
    const c = this.summaryCache;
    if (c && c.text === this.summary.text && c.evicted === evicted && c.total === totalMessages) return c.message;
    const message: ChatMessage = {
      role: 'user',
      content:
        `Note: prior messages (${evicted} of ${totalMessages} total messages) have been hidden from view due to conversation memory constraints.\n` +
        `The following is a summary of the previous messages:\n${this.summary.text}`,
    };
    this.summaryCache = { text: this.summary.text, evicted, total: totalMessages, message };
    return message;
  }

  /** The messages of the next request, in order. */
  messages(totalMessages: number): ChatMessage[] {
    const summary = this.summaryMessage(totalMessages);
    const out: ChatMessage[] = [this.system];
    if (summary) out.push(summary);
    for (const e of this.entries) out.push(e.message);
    return out;
  }

  /** Usable tokens: the window minus the reply reserve. */
  get budgetTokens(): number {
    return this.windowTokens - REPLY_RESERVE_TOKENS;
  }

  effective(tokens: number): number {
    return this.counter.exact ? tokens : Math.ceil(tokens * (1 + TOKENIZER_HEADROOM_FRACTION));
  }

  /** Raw token count of the whole request. */
  requestTokens(totalMessages: number): number {
    return this.counter.countRequest(this.messages(totalMessages), this.tools);
  }

  effectiveTokens(totalMessages: number): number {
    return this.effective(this.requestTokens(totalMessages));
  }

  pressureThreshold(): number {
    return Math.floor(this.budgetTokens * this.pressureFraction);
  }

  flushThreshold(): number {
    return Math.floor(this.budgetTokens * FLUSH_FRACTION);
  }

  /** Tokens of everything but the queue (system, tools, summary): what no eviction can free. */
  fixedTokens(totalMessages: number): number {
    const summary = this.summaryMessage(totalMessages);
    return this.counter.countRequest(summary ? [this.system, summary] : [this.system], this.tools);
  }

  usage(extra: { totalMessages: number; recallCount: number; archivalCount: number }): ContextUsage {
    const c = this.counter;
    const systemAll = c.countMessage(this.system);
    const coreMemoryTokens = this.memoryText === '' ? 0 : c.countText(this.memoryText);
    const summary = this.summaryMessage(extra.totalMessages);
    const functionsTokens = c.countTools(this.tools);
    const summaryTokens = summary ? c.countMessage(summary) : 0;
    let messagesTokens = 0;
    for (const e of this.entries) messagesTokens += c.countMessage(e.message);
    const usedTokens = this.requestTokens(extra.totalMessages);
    return {
      windowTokens: this.windowTokens,
      systemTokens: Math.max(0, systemAll - coreMemoryTokens),
      coreMemoryTokens,
      functionsTokens,
      summaryTokens,
      messagesTokens,
      usedTokens,
      pressure: this.flushing ? 'flushing' : this.pressureWarned ? 'warned' : 'ok',
      recallCount: extra.recallCount,
      archivalCount: extra.archivalCount,
    };
  }

  /** Units of the queue: [start, end) index ranges; an assistant turn with its tool results is one unit. */
  units(): [number, number][] {
    const out: [number, number][] = [];
    let i = 0;
    while (i < this.entries.length) {
      const m = this.entries[i]!.message;
      let j = i + 1;
      if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
        const ids = new Set(m.tool_calls.map((t) => t.id));
        while (j < this.entries.length) {
          const n = this.entries[j]!.message;
          if (n.role !== 'tool' || !ids.has(n.tool_call_id)) break;
          j++;
        }
      }
      out.push([i, j]);
      i = j;
    }
    return out;
  }

  /**
   * How many leading entries to evict. `aggressive` evicts everything but the
   * kept newest units; otherwise at least FLUSH_EVICT_FRACTION of the queue's
   * tokens and enough to get under the pressure threshold, when possible.
   * Returns 0 when nothing can be evicted.
   */
  planEviction(totalMessages: number, aggressive: boolean): number {
    const units = this.units();
    // Keep the newest units holding at least FLUSH_KEEP_NEWEST_MESSAGES messages.
    let keepFrom = this.entries.length;
    for (let u = units.length - 1; u >= 0 && this.entries.length - keepFrom < FLUSH_KEEP_NEWEST_MESSAGES; u--) keepFrom = units[u]![0];
    // The running turn is never evicted; before it, an aggressive round may take everything
    // (a huge unit of an earlier turn must not be kept for ever by the keep-newest rule).
    const start = this.turnStartIndex();
    if (start >= 0) keepFrom = aggressive ? start : Math.min(keepFrom, start);
    const evictable = units.filter(([, end]) => end <= keepFrom);
    if (evictable.length === 0) return 0;
    if (aggressive) return evictable[evictable.length - 1]![1];

    const tokensOf = (from: number, to: number) => {
      let t = 0;
      for (let k = from; k < to; k++) t += this.counter.countMessage(this.entries[k]!.message);
      return t;
    };
    const queueTokens = tokensOf(0, this.entries.length);
    const target = Math.ceil(queueTokens * FLUSH_EVICT_FRACTION);
    // Evicting a message also frees its share once the summary replaces it; count effective tokens.
    const over = this.effectiveTokens(totalMessages) - this.pressureThreshold();
    let freed = 0;
    let end = 0;
    for (const [s, e] of evictable) {
      if (freed >= target && this.effective(freed) >= over) break;
      freed += tokensOf(s, e);
      end = e;
    }
    return end;
  }

  private turnStartIndex(): number {
    return this.turnStart ? this.entries.indexOf(this.turnStart) : -1;
  }

  /** Start of the newest unit with function calls (the results the model is about to read); alerts after it do not count. */
  private newestUnitStart(): number {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const m = this.entries[i]!.message;
      if (m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0) return i;
    }
    return this.entries.length;
  }

  /**
   * Cuts the in-context copies of the running turn's older function results (not the newest
   * unit's) to a pointer to recall, where they are kept whole. Returns true when any was cut.
   */
  stubOldTurnResults(): boolean {
    const start = Math.max(0, this.turnStartIndex());
    const newest = this.newestUnitStart();
    let changed = false;
    for (let i = start; i < newest; i++) {
      const e = this.entries[i]!;
      const m = e.message;
      if (m.role !== 'tool' || m.content.length <= TURN_RESULT_STUB_MIN_CHARS) continue;
      e.message = { role: 'tool', tool_call_id: m.tool_call_id, content: resultStub(m.content) };
      changed = true;
    }
    return changed;
  }

  /** Offers only the tools `keep` accepts until restoreTools(); returns true when any was left out. */
  shedTools(keep: (name: string) => boolean): boolean {
    const kept = this.allTools.filter((t) => keep(t.function.name));
    if (kept.length === this.tools.length) return false;
    this.tools = kept;
    return true;
  }

  restoreTools(): void {
    this.tools = this.allTools;
  }

  /** Replaces the offered tools (functions from MCP servers come and go between turns); nothing is shed after it. */
  setTools(tools: ToolSchema[]): void {
    this.allTools = tools;
    this.tools = tools;
  }

  get toolsShed(): boolean {
    return this.tools.length < this.allTools.length;
  }

  /**
   * When one response made more calls than fit: the in-context copy keeps the first half of
   * the newest unit's calls and their results, with a note on the last kept result (recall
   * keeps them all). Returns false when the newest unit has a single call.
   */
  collapseNewestUnit(): boolean {
    const from = this.newestUnitStart();
    const head = this.entries[from];
    if (!head || head.message.role !== 'assistant') return false;
    const calls = head.message.tool_calls ?? [];
    if (calls.length < 2) return false;
    const keep = Math.ceil(calls.length / 2);
    const kept = new Set(calls.slice(0, keep).map((c) => c.id));
    const left = calls.length - keep;
    head.message = { ...head.message, tool_calls: calls.slice(0, keep) };
    let end = from + 1;
    while (end < this.entries.length && this.entries[end]!.message.role === 'tool') end++;
    const results = this.entries.slice(from + 1, end).filter((e) => e.message.role === 'tool' && kept.has(e.message.tool_call_id));
    const last = results[results.length - 1];
    if (last && last.message.role === 'tool') {
      const note = `[${left} more call(s) of this response and their results are left out here to fit the context window; recall memory keeps them.]`;
      last.message = { role: 'tool', tool_call_id: last.message.tool_call_id, content: `${last.message.content}\n${note}` };
    }
    this.entries.splice(from + 1, end - from - 1, ...results);
    return true;
  }

  /** Drops the first `count` entries (they stay in recall) and installs the new summary. */
  evict(count: number, summary: AgentSummary): QueueEntry[] {
    const evicted = this.entries.splice(0, count);
    this.summary = summary;
    this.pressureWarned = false;
    return evicted;
  }

  /**
   * Last resort when the kept messages alone overflow the window: cuts the
   * in-context copy of the largest message (recall keeps it whole) to what
   * fits, measured with its own characters-per-token ratio. Tool-call
   * arguments stay valid JSON (their long strings are cut). Returns false
   * when nothing is left to cut.
   */
  cutLargest(totalMessages: number): boolean {
    let largest = -1;
    let largestTokens = 0;
    this.entries.forEach((e, i) => {
      const t = this.counter.countMessage(e.message);
      if (t > largestTokens) {
        largest = i;
        largestTokens = t;
      }
    });
    if (largest < 0 || largestTokens < MIN_CUTTABLE_TOKENS) return false;
    const overBy = this.effectiveTokens(totalMessages) - this.flushThreshold();
    const targetTokens = Math.max(MIN_CUTTABLE_TOKENS / 2, largestTokens - Math.ceil(overBy * 1.15) - 16);
    const e = this.entries[largest]!;
    const chars = messageChars(e.message);
    const keepChars = Math.max(20, Math.floor((targetTokens / largestTokens) * chars));
    e.message = shrinkMessage(e.message, keepChars);
    return this.counter.countMessage(e.message) < largestTokens;
  }

  /** Final resort: halves the summary, keeping its start (as Summarizer.clip does). Returns false when it is already short. */
  shrinkSummary(): boolean {
    if (!this.summary || this.summary.text.length < 80) return false;
    const text = this.summary.text;
    this.summary = { ...this.summary, text: `${text.slice(0, Math.ceil(text.length / 2))}...` };
    return true;
  }
}

/** Messages whose in-context copy is never cut: too small to matter. */
const MIN_CUTTABLE_TOKENS = 40;

/** A function result reduced to its status and a pointer to where the whole text is. */
function resultStub(content: string): string {
  let status = 'OK';
  try {
    const parsed = JSON.parse(content) as { status?: unknown };
    if (parsed.status === 'Failed') status = 'Failed';
  } catch {
    // Not a packaged result: the stub says OK, as the function returned.
  }
  return JSON.stringify({
    status,
    message: `[result cut to fit the context window (${content.length} chars); recall memory keeps it whole: conversation_search with include ["tool_results"], or call the function again]`,
  });
}

function cutNote(n: number): string {
  return ` [...cut to fit the context window (${n} chars); full text in recall memory]`;
}

function cutText(text: string, keep: number): string {
  return text.length <= keep ? text : `${text.slice(0, Math.max(0, keep))}${cutNote(text.length)}`;
}

function messageChars(m: ChatMessage): number {
  let n = (m.content ?? '').length;
  if (m.role === 'assistant') for (const c of m.tool_calls ?? []) n += c.function.arguments.length;
  return n;
}

/** A copy of `m` with roughly `keepChars` characters of text, the cuts marked. */
function shrinkMessage(m: ChatMessage, keepChars: number): ChatMessage {
  const total = Math.max(1, messageChars(m));
  const share = (len: number) => Math.max(10, Math.floor((len / total) * keepChars));
  if (m.role !== 'assistant') {
    const content = cutText(m.content, share(m.content.length));
    return m.role === 'tool' ? { role: 'tool', tool_call_id: m.tool_call_id, content } : { role: m.role, content };
  }
  const calls = (m.tool_calls ?? []).map((c) => {
    const args = c.function.arguments;
    const room = share(args.length);
    if (args.length <= room) return c;
    let cut: string;
    try {
      const parsed = JSON.parse(args) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      const entries = Object.entries(parsed as Record<string, unknown>);
      const stringChars = entries.reduce((n, [, v]) => n + (typeof v === 'string' ? v.length : 0), 0) || 1;
      cut = JSON.stringify(
        Object.fromEntries(
          entries.map(([k, v]) => [
            k,
            typeof v === 'string' ? cutText(v, Math.max(10, Math.floor((v.length / stringChars) * room) - 60)) : v,
          ]),
        ),
      );
    } catch {
      cut = JSON.stringify({ note: cutNote(args.length).trim() });
    }
    return { ...c, function: { name: c.function.name, arguments: cut } };
  });
  const content = m.content === null ? null : cutText(m.content, share(m.content.length));
  return { role: 'assistant', content, ...(calls.length > 0 ? { tool_calls: calls } : {}) };
}

/**
 * Makes a restored queue valid for the API: drops tool results whose call is
 * not in the queue and answers calls whose results are missing (a crash
 * between the two writes) with a Failed result kept only in memory.
 */
export function repairToolPairs(entries: QueueEntry[], now: string): QueueEntry[] {
  const out: QueueEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const m = e.message;
    if (m.role === 'tool') continue; // results are re-attached below, right after their call
    out.push(e);
    if (m.role === 'assistant' && m.tool_calls && m.tool_calls.length > 0) {
      let j = i + 1;
      const results = new Map<string, QueueEntry>();
      while (j < entries.length && entries[j]!.message.role === 'tool') {
        const t = entries[j]!.message as Extract<ChatMessage, { role: 'tool' }>;
        results.set(t.tool_call_id, entries[j]!);
        j++;
      }
      for (const call of m.tool_calls) {
        const r = results.get(call.id);
        out.push(
          r ?? {
            id: '',
            kind: 'tool',
            time: now,
            message: {
              role: 'tool',
              tool_call_id: call.id,
              content: JSON.stringify({
                status: 'Failed',
                message: 'This call was interrupted before it finished (the editor closed or the request was cancelled).',
                time: now,
              }),
            },
          },
        );
      }
      i = j - 1;
    }
  }
  return out;
}
