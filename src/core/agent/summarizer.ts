import { ChatModelError, type ChatMessage, type ChatModel } from '../interfaces/chatModel';
import type { TokenCounter } from '../tokens/tokenCounter';
import { messageText } from '../functions/messageText';
import {
  CHARS_PER_TOKEN_ESTIMATE,
  REPLY_RESERVE_TOKENS,
  SUMMARY_MAX_TOKENS,
  SUMMARY_MAX_WINDOW_FRACTION,
  TOKENIZER_HEADROOM_FRACTION,
} from '../limits';

/**
 * Writes the recursive summary of evicted messages: the model gets the
 * previous summary and the messages being evicted, and returns one new
 * summary covering both. It can never loop, whatever the window:
 *   1. the request is built to fit (each message clipped to a fair share of
 *      the room left, the previous summary clipped last);
 *   2. one model call; on a context-length error, one more with half the room;
 *   3. otherwise (or on any other error) a mechanical summary: the previous
 *      summary plus a dated note of what was evicted, cut to size.
 * Cancellation (an aborted signal) is passed through, not papered over.
 */

export interface SummaryInput {
  previous: string | null;
  /** The evicted messages, oldest first, with their times. */
  messages: { time: string; message: ChatMessage }[];
  signal?: AbortSignal;
}

export interface SummaryResult {
  text: string;
  method: 'model' | 'mechanical';
  /** Why the mechanical fallback was used (for logs and tests). */
  reason?: string;
}

const INSTRUCTIONS = (maxWords: number) =>
  `You maintain the long-term summary of a conversation between a coding assistant (MemGPT, in VS Code) and a user. ` +
  `Older messages are leaving the assistant's context window; your summary replaces them. ` +
  `Write one new summary that merges the previous summary (if any) with the new messages: keep names, decisions, facts about the user and the codebase, file paths, open questions and what the user asked for. ` +
  `Leave out greetings and chit-chat. Plain text, at most ${maxWords} words, written as notes, from the assistant's point of view ("I", "the user").`;

export class Summarizer {
  readonly maxSummaryTokens: number;

  constructor(
    private readonly model: ChatModel,
    private readonly counter: TokenCounter,
    private readonly windowTokens: number,
  ) {
    this.maxSummaryTokens = Math.max(32, Math.min(SUMMARY_MAX_TOKENS, Math.floor(windowTokens * SUMMARY_MAX_WINDOW_FRACTION)));
  }

  async summarize(input: SummaryInput): Promise<SummaryResult> {
    const budget = Math.floor(
      (this.windowTokens - Math.max(REPLY_RESERVE_TOKENS, this.maxSummaryTokens)) / (1 + TOKENIZER_HEADROOM_FRACTION),
    );
    let reason = '';
    for (const share of [1, 0.5]) {
      const request = this.buildRequest(input, Math.floor(budget * share));
      if (!request) {
        reason = 'the summary request cannot fit the context window';
        break;
      }
      try {
        const response = await this.model.complete({ messages: request, tools: [], ...(input.signal ? { signal: input.signal } : {}) });
        const text = (response.content ?? '').trim();
        if (text === '') {
          reason = 'the model returned an empty summary';
          break;
        }
        return { text: this.clip(text), method: 'model' };
      } catch (err) {
        if (err instanceof ChatModelError && err.kind === 'aborted') throw err;
        if (input.signal?.aborted) throw err;
        reason = `the summary request failed: ${(err as Error).message}`;
        if (!(err instanceof ChatModelError && err.kind === 'context_length')) break;
      }
    }
    return { text: this.mechanical(input), method: 'mechanical', reason };
  }

  /** The summary request within `budget` tokens, or null when even the bare instructions do not fit. */
  buildRequest(input: SummaryInput, budget: number): ChatMessage[] | null {
    const maxWords = Math.max(20, Math.floor(this.maxSummaryTokens * 0.7));
    const system: ChatMessage = { role: 'system', content: INSTRUCTIONS(maxWords) };
    const lines = input.messages.map((m) => `[${m.time}] ${messageText(m.message)}`);
    const previous = input.previous ?? '';
    const compose = (prev: string, ls: string[]): ChatMessage[] => [
      system,
      {
        role: 'user',
        content: `${prev ? `Previous summary:\n${prev}\n\n` : ''}New messages to merge into the summary (oldest first):\n${ls.join('\n')}`,
      },
    ];
    const fits = (ms: ChatMessage[]) => this.counter.countMessages(ms) <= budget;
    let request = compose(previous, lines);
    if (fits(request)) return request;

    const fixed = this.counter.countMessages(compose('', []));
    if (fixed >= budget) return null;
    // Share the room fairly: the previous summary is already condensed, so it gets up to half.
    let roomChars = (budget - fixed) * CHARS_PER_TOKEN_ESTIMATE;
    for (let attempt = 0; attempt < 6 && roomChars > 40; attempt++) {
      const prevChars = Math.min(previous.length, Math.floor(roomChars / 2));
      const perLine = Math.max(40, Math.floor((roomChars - prevChars) / Math.max(1, lines.length)));
      const clipped = lines.map((l) => (l.length > perLine ? `${l.slice(0, perLine - 3)}...` : l));
      // Too many lines for even 40 characters each: keep the newest, say how many were left out.
      let kept = clipped;
      const maxLines = Math.max(1, Math.floor((roomChars - prevChars) / 41));
      if (kept.length > maxLines)
        kept = [`(${kept.length - maxLines + 1} older messages left out)`, ...kept.slice(kept.length - maxLines + 1)];
      request = compose(previous.length > prevChars ? `${previous.slice(0, Math.max(0, prevChars - 3))}...` : previous, kept);
      if (fits(request)) return request;
      roomChars = Math.floor(roomChars * 0.7);
    }
    return null;
  }

  /** A summary written without the model: never fails, never grows past the summary size. */
  mechanical(input: SummaryInput): string {
    const n = input.messages.length;
    const first = input.messages[0]?.time ?? '';
    const last = input.messages[n - 1]?.time ?? '';
    const maxChars = this.maxSummaryTokens * CHARS_PER_TOKEN_ESTIMATE;
    const note = `[${n} messages from ${first} to ${last} were evicted without a model-written summary; search recall memory (conversation_search, conversation_search_date) for details.]`;
    const previous = input.previous ? `${input.previous}\n` : '';
    const room = maxChars - note.length - previous.length;
    const excerpts: string[] = [];
    if (room > 80) {
      const per = Math.max(40, Math.floor(room / Math.max(1, Math.min(n, 8))));
      for (const m of input.messages.filter((x) => x.message.role === 'user' || x.message.role === 'assistant').slice(-8)) {
        const line = messageText(m.message).split('\n')[0] ?? '';
        excerpts.push(line.length > per ? `${line.slice(0, per - 3)}...` : line);
      }
    }
    const text = `${previous}${note}${excerpts.length ? `\nRecent lines: ${excerpts.join(' | ')}` : ''}`;
    return this.clip(text);
  }

  /**
   * Cuts a summary to maxSummaryTokens, keeping its start: the summary is recursive, so facts
   * cut from its start (the oldest) are lost for good, while its end is rewritten next flush.
   */
  clip(text: string): string {
    if (this.counter.countText(text) <= this.maxSummaryTokens) return text;
    let chars = this.maxSummaryTokens * CHARS_PER_TOKEN_ESTIMATE;
    let out = text;
    for (let i = 0; i < 8; i++) {
      out = `${text.slice(0, chars)}...`;
      if (this.counter.countText(out) <= this.maxSummaryTokens) return out;
      chars = Math.floor(chars * 0.8);
    }
    return out;
  }
}
