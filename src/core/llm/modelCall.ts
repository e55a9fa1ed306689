/**
 * The rules every chat client follows around one streamed model call, kept in one place so the
 * OpenAI-compatible and the Anthropic clients wait, retry and fail alike.
 *
 * Retries are ours (each client's own transport never retries), so back-off is testable through
 * the injectable `sleep`. A failed attempt is retried only if nothing of it reached the listener
 * yet: the listener contract has no way to take back text already shown, so restarting after
 * partial output would show the user the same words twice. A failure after output is reported
 * as is.
 *
 * Every wait is bounded. Each try waits `timeoutMs` for the first chunk (and as long again for
 * each next one); all tries, back-offs and Retry-After pauses before the reply starts fit in the
 * deadline (LLM_DEADLINE_TIMEOUTS time-outs); a streaming reply ends after LLM_STREAM_MAX_MS. A
 * pause longer than what is left fails at once with that cause. While nothing arrives the
 * listener hears `onWait`, so a front end can show that it is waiting and why.
 */
import { ChatModelError, type ChatRequest, type ChatResponse, type ChatStreamListener } from '../interfaces/chatModel';
import {
  LLM_RETRY_BASE_DELAY_MS,
  LLM_RETRY_MAX_DELAY_MS,
  LLM_STREAM_MAX_MS,
  LLM_WAIT_NOTICE_INTERVAL_MS,
  LLM_WAIT_NOTICE_MIN_INTERVAL_MS,
} from '../limits';
import { redactSecrets } from '../security/redact';
import { classifyError, seconds, waitBeyondDeadlineMessage, type ClassifiedError, type ErrorContext } from './chatModelErrors';
import { MemgptError } from '../base/errors';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Back-off before retry number `attempt` (0-based): exponential with jitter, or the server's Retry-After; capped. */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, random: () => number): number {
  if (retryAfterMs !== undefined) return Math.min(LLM_RETRY_MAX_DELAY_MS, Math.max(0, retryAfterMs));
  const exponential = Math.min(LLM_RETRY_MAX_DELAY_MS, LLM_RETRY_BASE_DELAY_MS * 2 ** attempt);
  // "Equal jitter": at least half the back-off, so retries never bunch up at zero.
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

/** How often to say "still waiting": a third of the time-out, between 1 and 10 s. */
export function waitNoticeIntervalMs(timeoutMs: number): number {
  return Math.min(LLM_WAIT_NOTICE_INTERVAL_MS, Math.max(LLM_WAIT_NOTICE_MIN_INTERVAL_MS, Math.round(timeoutMs / 3)));
}

export const abortableSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export function abortedError(): ChatModelError {
  return new ChatModelError('aborted', 'The request to the model was cancelled.');
}

/** Carries an already classified error through the retry loop. */
export class ClassifiedFailure extends MemgptError {
  constructor(readonly classified: ClassifiedError) {
    super('classified', classified.error.message);
  }
}

/** What one complete() call has seen so far, shared by its tries. */
export interface Progress {
  /** Something reached the listener: a retry would show it twice. */
  streamed: boolean;
  /** The current try has received a chunk: no more "waiting" notices. */
  answered: boolean;
  /** When the step must end, however steadily the reply streams. */
  stepEnd: number;
}

/** One try, as the client's streaming code sees it. */
export interface StreamTry {
  /** Aborted when the caller cancels or a timer fires; pass it to the transport. */
  signal: AbortSignal;
  /** Call on every chunk received: it restarts the idle timer. */
  onChunk(): void;
  /** Set `streamed` once anything reached the listener. */
  progress: Progress;
  /** Why `signal` was aborted by us (a timer), or null; a transport that ends quietly on abort throws this. */
  stopped(): ClassifiedFailure | ChatModelError | null;
}

export interface ModelCallSettings {
  baseUrl: string;
  model: string;
  api: 'openai' | 'anthropic';
  timeoutMs: number;
  deadlineMs: number;
  maxRetries: number;
  sleep: Sleep;
  random: () => number;
  /** Keys that must never appear in an error (servers and proxies sometimes echo them). */
  secrets: readonly (string | undefined)[];
}

export class ModelCall {
  constructor(private readonly settings: ModelCallSettings) {}

  /** `once` streams one try; this runs tries under the time-out, deadline and retry rules. */
  async complete(request: ChatRequest, listener: ChatStreamListener, once: (t: StreamTry) => Promise<ChatResponse>): Promise<ChatResponse> {
    const { baseUrl, timeoutMs, deadlineMs, maxRetries } = this.settings;
    const signal = request.signal;
    const started = Date.now();
    const deadline = started + deadlineMs;
    const progress: Progress = { streamed: false, answered: false, stepEnd: started + LLM_STREAM_MAX_MS };
    // Silence looks like a hang; a notice every few seconds says what is being waited for.
    const notices = setInterval(() => {
      if (!progress.answered) listener.onWait?.({ kind: 'waiting', baseUrl, elapsedMs: Date.now() - started });
    }, waitNoticeIntervalMs(timeoutMs));
    notices.unref?.();
    try {
      for (let attempt = 0; ; attempt++) {
        if (signal?.aborted) throw abortedError();
        const left = deadline - Date.now();
        let classified: ClassifiedError;
        try {
          return await this.attempt(request, progress, Math.max(1, Math.min(timeoutMs, left)), once);
        } catch (err) {
          classified = err instanceof ClassifiedFailure ? err.classified : classifyError(err, this.context(signal));
        }
        const { error } = classified;
        if (error.kind === 'aborted' || !classified.retryable || attempt >= maxRetries) throw this.redacted(error);
        if (progress.streamed) {
          throw this.redacted(
            new ChatModelError(
              error.kind,
              `${error.message} The reply was cut off after it had started, so it was not retried.`,
              error.status,
            ),
          );
        }
        const remaining = deadline - Date.now();
        if (classified.retryAfterMs !== undefined && classified.retryAfterMs > remaining) {
          const what = `The model server at ${baseUrl}`;
          throw this.redacted(
            new ChatModelError(
              error.kind,
              waitBeyondDeadlineMessage(what, classified.retryAfterMs, error.status, deadlineMs),
              error.status,
            ),
          );
        }
        const delay = retryDelayMs(attempt, classified.retryAfterMs, this.settings.random);
        // A try that timed out is repeated only with a whole time-out left: a shorter one would likely time out too.
        const needed = delay + (error.kind === 'timeout' ? timeoutMs : 0);
        if (needed >= remaining) throw this.redacted(error);
        listener.onWait?.({ kind: 'retrying', baseUrl, retry: attempt + 1, delayMs: delay, reason: this.redacted(error).message });
        await this.settings.sleep(delay, signal);
      }
    } finally {
      clearInterval(notices);
    }
  }

  /** Servers and proxies sometimes echo the key in their errors; it must not reach the user, a log or a file. */
  redacted(error: ChatModelError): ChatModelError {
    const message = redactSecrets(error.message, [...this.settings.secrets]);
    return message === error.message ? error : new ChatModelError(error.kind, message, error.status);
  }

  context(signal: AbortSignal | undefined, timedOut = false, timeoutMs = this.settings.timeoutMs): ErrorContext {
    const { baseUrl, model, api } = this.settings;
    return { baseUrl, model, api, aborted: signal?.aborted ?? false, timedOut, timeoutMs };
  }

  /**
   * One try. `firstChunkMs` bounds the wait for the first chunk (the time-out, or less when the
   * deadline is nearer); then each next chunk gets a whole time-out, and the reply as a whole
   * ends by `progress.stepEnd`.
   */
  private async attempt(
    request: ChatRequest,
    progress: Progress,
    firstChunkMs: number,
    once: (t: StreamTry) => Promise<ChatResponse>,
  ): Promise<ChatResponse> {
    const controller = new AbortController();
    let timeout: ClassifiedFailure | null = null;
    const external = request.signal;
    let rejectEarly: (err: unknown) => void = () => undefined;
    // Rejects the moment the caller aborts or a timer fires, whatever the transport is awaiting.
    const early = new Promise<never>((_, reject) => {
      rejectEarly = reject;
    });
    const onAbort = () => {
      controller.abort();
      rejectEarly(abortedError());
    };
    external?.addEventListener('abort', onAbort, { once: true });
    const fire = (make: () => ClassifiedFailure) => () => {
      const failure = make();
      timeout = failure;
      controller.abort();
      rejectEarly(failure);
    };
    progress.answered = false;
    // Waiting for the first chunk: the whole attempt may be shorter than a time-out when the deadline is near.
    let idle = setTimeout(
      fire(() => this.timeoutFailure(firstChunkMs)),
      firstChunkMs,
    );
    const whole = setTimeout(
      fire(() => this.streamTooLong()),
      Math.max(0, progress.stepEnd - Date.now()),
    );
    const nextChunkTimeout = fire(() => this.timeoutFailure(this.settings.timeoutMs));
    const onChunk = () => {
      progress.answered = true;
      clearTimeout(idle);
      idle = setTimeout(nextChunkTimeout, this.settings.timeoutMs);
    };
    const stopped = (): ClassifiedFailure | ChatModelError | null => timeout ?? (controller.signal.aborted ? abortedError() : null);
    try {
      return await Promise.race([once({ signal: controller.signal, onChunk, progress, stopped }), early]);
    } catch (err) {
      if (external?.aborted) throw abortedError();
      if (err instanceof ClassifiedFailure || err instanceof ChatModelError) throw err;
      throw new ClassifiedFailure(classifyError(err, this.context(external)));
    } finally {
      clearTimeout(idle);
      clearTimeout(whole);
      external?.removeEventListener('abort', onAbort);
      if (!controller.signal.aborted) controller.abort();
      early.catch(() => undefined);
    }
  }

  private timeoutFailure(waitedMs: number): ClassifiedFailure {
    return new ClassifiedFailure(classifyError(new Error('timeout'), this.context(undefined, true, waitedMs)));
  }

  /** A reply that keeps streaming past LLM_STREAM_MAX_MS: cut off (never retried: text was shown). */
  private streamTooLong(): ClassifiedFailure {
    return new ClassifiedFailure({
      error: new ChatModelError(
        'timeout',
        `The reply from the model server at ${this.settings.baseUrl} was still streaming after ${seconds(LLM_STREAM_MAX_MS)}, the longest one step may take, so it was cut off. Ask for a shorter answer.`,
      ),
      retryable: false,
    });
  }
}
