/**
 * A token counter for models whose tokenizer we do not have, only an asynchronous way to ask the
 * model to count (VS Code's `LanguageModelChat.countTokens`).
 *
 * Why a calibrated synchronous estimate rather than an asynchronous counting port: the context
 * window plans synchronously and often (every append, every eviction candidate, every summary
 * size check, a few hundred counts per step); making each of those await an IPC round trip would
 * make the agent's planning slow and its code async throughout, for numbers that only need to be
 * close. So planning keeps gpt-tokenizer's estimate, multiplied by a ratio learned from real
 * samples: each request the model client sends is also counted by the model itself (off the
 * planning path), and `observe` folds that count into the ratio. Until the first sample, the
 * estimate carries the usual headroom for foreign tokenizers (`exact` is false); after it, the
 * calibrated count stands on its own. Where exactness matters, at the boundary, the model client
 * checks the real count before sending and reports an over-long request as `context_length`, so
 * the agent summarises and retries instead of the model failing.
 */
import type { ChatMessage, ToolSchema } from '../interfaces/chatModel';
import { LM_TOKEN_CALIBRATION_MIN_TOKENS, LM_TOKEN_CALIBRATION_WEIGHT, LM_TOKEN_RATIO_MAX, LM_TOKEN_RATIO_MIN } from '../limits';
import type { TokenCounter } from './tokenCounter';
import type { TokenizerEncoding } from '../llm/knownModels';

export class CalibratedTokenCounter implements TokenCounter {
  private currentRatio = 1;
  private sampleCount = 0;

  constructor(private readonly inner: TokenCounter) {}

  get encoding(): TokenizerEncoding {
    return this.inner.encoding;
  }

  /** The inner counter's own exactness until calibrated; calibrated counts need no further headroom. */
  get exact(): boolean {
    return this.inner.exact || this.sampleCount > 0;
  }

  /** Model tokens per estimated token, as learned so far (1 before any sample). */
  get ratio(): number {
    return this.currentRatio;
  }

  get samples(): number {
    return this.sampleCount;
  }

  /** The uncalibrated estimate of a request, to compare with the model's own count of it. */
  estimateRequest(messages: readonly ChatMessage[], tools: readonly ToolSchema[]): number {
    return this.inner.countRequest(messages, tools);
  }

  /**
   * One measurement: `estimated` (from estimateRequest) against what the model counted for the
   * same request. Returns false when the sample was too small or not a number to learn from.
   */
  observe(estimated: number, actual: number): boolean {
    if (!(estimated >= LM_TOKEN_CALIBRATION_MIN_TOKENS) || !(actual > 0) || !Number.isFinite(actual)) return false;
    const sample = clamp(actual / estimated);
    this.currentRatio =
      this.sampleCount === 0 ? sample : clamp(this.currentRatio * (1 - LM_TOKEN_CALIBRATION_WEIGHT) + sample * LM_TOKEN_CALIBRATION_WEIGHT);
    this.sampleCount++;
    return true;
  }

  private scale(tokens: number): number {
    return tokens === 0 ? 0 : Math.ceil(tokens * this.currentRatio);
  }

  countText(text: string): number {
    return this.scale(this.inner.countText(text));
  }

  countMessage(message: ChatMessage): number {
    return this.scale(this.inner.countMessage(message));
  }

  countMessages(messages: readonly ChatMessage[]): number {
    return this.scale(this.inner.countMessages(messages));
  }

  countTools(tools: readonly ToolSchema[]): number {
    return this.scale(this.inner.countTools(tools));
  }

  countRequest(messages: readonly ChatMessage[], tools: readonly ToolSchema[]): number {
    return this.scale(this.inner.countRequest(messages, tools));
  }

  cacheStats(): { tokenised: number; memoHits: number } {
    return this.inner.cacheStats();
  }
}

function clamp(ratio: number): number {
  return Math.min(LM_TOKEN_RATIO_MAX, Math.max(LM_TOKEN_RATIO_MIN, ratio));
}
