/**
 * ChatModel on the official `openai` package, for OpenAI and any
 * OpenAI-compatible server (Ollama, LM Studio, vLLM, llama.cpp).
 *
 * Retries are ours, not the SDK's (it runs with maxRetries: 0), so back-off is
 * testable through the injectable `sleep`. A failed attempt is retried only if
 * nothing of it reached the listener yet: the listener contract has no way to
 * take back text already shown, so restarting after partial output would show
 * the user the same words twice. A failure after output is reported as is.
 *
 * Every wait is bounded. Each try waits `requestTimeoutMs` for the first chunk
 * (and as long again for each next one); all tries, back-offs and Retry-After
 * pauses before the reply starts fit in the deadline (LLM_DEADLINE_TIMEOUTS
 * time-outs); a streaming reply ends after LLM_STREAM_MAX_MS. A pause longer
 * than what is left fails at once with that cause. While nothing arrives the
 * listener hears `onWait`, so a front end can show that it is waiting and why.
 * The SDK logs nothing (logLevel 'off'): our one error says what went wrong.
 */
import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import {
  ChatModelError,
  type ChatMessage,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamListener,
  type ToolCall,
  type ToolSchema,
} from '../interfaces/chatModel';
import {
  DEFAULT_TEMPERATURE,
  LLM_DEADLINE_TIMEOUTS,
  LLM_MAX_RETRIES,
  LLM_REQUEST_TIMEOUT_MS,
  LLM_RETRY_BASE_DELAY_MS,
  LLM_RETRY_MAX_DELAY_MS,
  LLM_STREAM_MAX_MS,
  LLM_WAIT_NOTICE_INTERVAL_MS,
  LLM_WAIT_NOTICE_MIN_INTERVAL_MS,
} from '../limits';
import { redactSecrets } from '../security/redact';
import { classifyError, seconds, waitBeyondDeadlineMessage, type ClassifiedError } from './chatModelErrors';
import { acceptsTemperature } from './knownModels';
import { StreamingStringArgument } from './streamingArgument';

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Sent when no key is configured: local servers ignore it, the SDK insists on one. */
export const PLACEHOLDER_API_KEY = 'no-key-needed';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface OpenAIChatModelOptions {
  /** OpenAI-compatible base URL; empty means api.openai.com. */
  baseUrl?: string;
  /** Empty or absent for local servers. */
  apiKey?: string;
  model: string;
  temperature?: number;
  /** How long one try waits for the first chunk, and then for each next one (memgpt.requestTimeoutSeconds). */
  requestTimeoutMs?: number;
  /** Tries, back-offs and pauses before the reply starts fit in this (default LLM_DEADLINE_TIMEOUTS × requestTimeoutMs). */
  deadlineMs?: number;
  /** Retries after the first attempt (default LLM_MAX_RETRIES). */
  maxRetries?: number;
  /** Waits between retries; injectable so tests record delays instead of waiting. */
  sleep?: Sleep;
  /** Source of jitter in [0, 1); injectable for reproducible tests. */
  random?: () => number;
}

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

function abortedError(): ChatModelError {
  return new ChatModelError('aborted', 'The request to the model was cancelled.');
}

interface ToolCallSlot {
  id: string;
  name: string;
  args: string;
  started: boolean;
  decoder: StreamingStringArgument | null;
}

export class OpenAIChatModel implements ChatModel {
  readonly model: string;
  readonly baseUrl: string;
  private readonly client: OpenAI;
  private readonly temperature: number;
  private readonly timeoutMs: number;
  private readonly deadlineMs: number;
  private readonly maxRetries: number;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly apiKey: string | undefined;
  private generatedIds = 0;

  constructor(options: OpenAIChatModelOptions) {
    if (!options.model || options.model.trim() === '') {
      throw new ChatModelError('not_found', 'No model is selected. Pick one with MemGPT: Select Model.');
    }
    this.model = options.model.trim();
    this.baseUrl = (options.baseUrl?.trim() || DEFAULT_BASE_URL).replace(/\/+$/, '');
    try {
      new URL(this.baseUrl);
    } catch {
      throw new ChatModelError(
        'network',
        `MemGPT: Base URL '${this.baseUrl}' is not a valid URL. Use e.g. http://127.0.0.1:11434/v1 for Ollama.`,
      );
    }
    this.temperature = options.temperature ?? DEFAULT_TEMPERATURE;
    this.timeoutMs = options.requestTimeoutMs ?? LLM_REQUEST_TIMEOUT_MS;
    this.deadlineMs = options.deadlineMs ?? this.timeoutMs * LLM_DEADLINE_TIMEOUTS;
    this.maxRetries = Math.max(0, options.maxRetries ?? LLM_MAX_RETRIES);
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    this.apiKey = options.apiKey?.trim() || undefined;
    this.client = new OpenAI({
      baseURL: this.baseUrl,
      apiKey: options.apiKey?.trim() || PLACEHOLDER_API_KEY,
      maxRetries: 0,
      // Our own timers bound the call; the SDK's only backs them up, so it must never fire first.
      timeout: LLM_STREAM_MAX_MS + this.timeoutMs,
      // The SDK prints "Could not parse message into JSON" and the like to the console; the error we throw says it once.
      logLevel: 'off',
    });
  }

  async complete(request: ChatRequest, listener: ChatStreamListener = {}): Promise<ChatResponse> {
    const signal = request.signal;
    const started = Date.now();
    const deadline = started + this.deadlineMs;
    const progress: Progress = { streamed: false, answered: false, stepEnd: started + LLM_STREAM_MAX_MS };
    // Silence looks like a hang; a notice every few seconds says what is being waited for.
    const notices = setInterval(() => {
      if (!progress.answered) listener.onWait?.({ kind: 'waiting', baseUrl: this.baseUrl, elapsedMs: Date.now() - started });
    }, waitNoticeIntervalMs(this.timeoutMs));
    notices.unref?.();
    try {
      for (let attempt = 0; ; attempt++) {
        if (signal?.aborted) throw abortedError();
        const left = deadline - Date.now();
        let classified: ClassifiedError;
        try {
          return await this.attempt(request, listener, progress, Math.max(1, Math.min(this.timeoutMs, left)));
        } catch (err) {
          classified = err instanceof ClassifiedFailure ? err.classified : classifyError(err, this.context(signal));
        }
        const { error } = classified;
        if (error.kind === 'aborted' || !classified.retryable || attempt >= this.maxRetries) throw this.redacted(error);
        if (progress.streamed) {
          throw this.redacted(new ChatModelError(error.kind, `${error.message} The reply was cut off after it had started, so it was not retried.`, error.status));
        }
        const remaining = deadline - Date.now();
        if (classified.retryAfterMs !== undefined && classified.retryAfterMs > remaining) {
          const what = `The model server at ${this.baseUrl}`;
          throw this.redacted(new ChatModelError(error.kind, waitBeyondDeadlineMessage(what, classified.retryAfterMs, error.status, this.deadlineMs), error.status));
        }
        const delay = retryDelayMs(attempt, classified.retryAfterMs, this.random);
        // A try that timed out is repeated only with a whole time-out left: a shorter one would likely time out too.
        const needed = delay + (error.kind === 'timeout' ? this.timeoutMs : 0);
        if (needed >= remaining) throw this.redacted(error);
        listener.onWait?.({ kind: 'retrying', baseUrl: this.baseUrl, retry: attempt + 1, delayMs: delay, reason: this.redacted(error).message });
        await this.sleep(delay, signal);
      }
    } finally {
      clearInterval(notices);
    }
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      const page = await this.client.models.list({ timeout: this.timeoutMs, ...(signal ? { signal } : {}) });
      for (const m of page.data) if (typeof m.id === 'string') ids.push(m.id);
      return ids.sort((a, b) => a.localeCompare(b));
    } catch (err) {
      throw this.redacted(classifyError(err, this.context(signal)).error);
    }
  }

  /** Servers and proxies sometimes echo the key in their errors; it must not reach the user, a log or a file. */
  private redacted(error: ChatModelError): ChatModelError {
    const message = redactSecrets(error.message, [this.apiKey]);
    return message === error.message ? error : new ChatModelError(error.kind, message, error.status);
  }

  private context(signal: AbortSignal | undefined, timedOut = false, timeoutMs = this.timeoutMs) {
    return { baseUrl: this.baseUrl, model: this.model, aborted: signal?.aborted ?? false, timedOut, timeoutMs };
  }

  /**
   * One try. `firstChunkMs` bounds the wait for the first chunk (the time-out, or less when the
   * deadline is nearer); then each next chunk gets a whole time-out, and the reply as a whole
   * ends by `progress.stepEnd`.
   */
  private async attempt(request: ChatRequest, listener: ChatStreamListener, progress: Progress, firstChunkMs: number): Promise<ChatResponse> {
    const controller = new AbortController();
    let timeout: TimeoutFailure | null = null;
    const external = request.signal;
    let rejectEarly: (err: unknown) => void = () => undefined;
    // Rejects the moment the caller aborts or a timer fires, whatever the SDK is awaiting.
    const early = new Promise<never>((_, reject) => {
      rejectEarly = reject;
    });
    const onAbort = () => {
      controller.abort();
      rejectEarly(abortedError());
    };
    external?.addEventListener('abort', onAbort, { once: true });
    const fire = (make: () => TimeoutFailure) => () => {
      const failure = make();
      timeout = failure;
      controller.abort();
      rejectEarly(failure);
    };
    progress.answered = false;
    // Waiting for the first chunk: the whole attempt may be shorter than a time-out when the deadline is near.
    let idle = setTimeout(fire(() => this.timeoutFailure(firstChunkMs)), firstChunkMs);
    const whole = setTimeout(fire(() => this.streamTooLong()), Math.max(0, progress.stepEnd - Date.now()));
    const nextChunkTimeout = fire(() => this.timeoutFailure(this.timeoutMs));
    const onChunk = () => {
      progress.answered = true;
      clearTimeout(idle);
      idle = setTimeout(nextChunkTimeout, this.timeoutMs);
    };
    try {
      return await Promise.race([this.stream(request, listener, progress, controller.signal, onChunk, () => timeout), early]);
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

  private timeoutFailure(waitedMs: number): TimeoutFailure {
    return new ClassifiedFailure(classifyError(new Error('timeout'), this.context(undefined, true, waitedMs)));
  }

  /** A reply that keeps streaming past LLM_STREAM_MAX_MS: cut off (never retried: text was shown). */
  private streamTooLong(): TimeoutFailure {
    return new ClassifiedFailure({
      error: new ChatModelError(
        'timeout',
        `The reply from the model server at ${this.baseUrl} was still streaming after ${seconds(LLM_STREAM_MAX_MS)}, the longest one step may take, so it was cut off. Ask for a shorter answer.`,
      ),
      retryable: false,
    });
  }

  private async stream(
    request: ChatRequest,
    listener: ChatStreamListener,
    progress: Progress,
    signal: AbortSignal,
    onChunk: () => void,
    timedOut: () => TimeoutFailure | null,
  ): Promise<ChatResponse> {
    const body: ChatCompletionCreateParamsStreaming = {
      model: this.model,
      messages: request.messages.map(toOpenAIMessage),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (request.tools.length > 0) body.tools = request.tools.map(toOpenAITool);
    if (acceptsTemperature(this.model)) body.temperature = this.temperature;

    const stream = await this.client.chat.completions.create(body, { signal });
    let content = '';
    let sawContent = false;
    let finishReason: string | null = null;
    let usage: ChatResponse['usage'];
    let chunks = 0;
    const slots: ToolCallSlot[] = [];

    for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
      chunks++;
      onChunk();
      if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        content += delta.content;
        sawContent = true;
        progress.streamed = true;
        listener.onContentDelta?.(delta.content);
      }
      for (const [position, tc] of (delta.tool_calls ?? []).entries()) {
        const index = typeof tc.index === 'number' ? tc.index : position;
        const slot = (slots[index] ??= { id: '', name: '', args: '', started: false, decoder: null });
        if (tc.id && !slot.id) slot.id = tc.id;
        if (tc.function?.name && !slot.name) slot.name = tc.function.name;
        if (!slot.started && slot.name) {
          // Some local servers send no id; the agent still needs one to pair the result with the call.
          if (!slot.id) slot.id = this.generateId();
          slot.started = true;
          if (slot.name === 'send_message') slot.decoder = new StreamingStringArgument('message');
          progress.streamed = true;
          listener.onToolCallStart?.(slot.id, slot.name);
        }
        const fragment = tc.function?.arguments;
        if (typeof fragment === 'string' && fragment.length > 0) {
          slot.args += fragment;
          const text = slot.decoder?.push(fragment);
          if (text) listener.onSendMessageDelta?.(slot.id, text);
        }
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    // The SDK ends the iteration quietly when its request is aborted; tell why.
    if (signal.aborted) {
      const timeout = timedOut();
      if (timeout) throw timeout;
      throw abortedError();
    }
    const toolCalls: ToolCall[] = slots
      .filter((s): s is ToolCallSlot => s !== undefined && s.name !== '')
      .map((s) => ({ id: s.id || this.generateId(), type: 'function', function: { name: s.name, arguments: s.args } }));
    if (chunks === 0 || (!sawContent && toolCalls.length === 0 && finishReason === null)) {
      throw new ChatModelError(
        'bad_response',
        `The model server at ${this.baseUrl} ended the response without any content, tool call or finish reason. Try again, or check that '${this.model}' works on that server.`,
      );
    }
    const response: ChatResponse = { content: sawContent ? content : null, toolCalls, finishReason };
    if (usage) response.usage = usage;
    return response;
  }

  private generateId(): string {
    this.generatedIds++;
    return `call_memgpt_${Date.now().toString(36)}_${this.generatedIds}`;
  }
}

/** Carries an already classified error through the retry loop. */
class ClassifiedFailure extends Error {
  constructor(readonly classified: ClassifiedError) {
    super(classified.error.message);
  }
}

/** A timer's verdict: the first chunk or the next one did not come in time, or the reply ran too long. */
type TimeoutFailure = ClassifiedFailure;

/** What one complete() call has seen so far, shared by its tries. */
interface Progress {
  /** Something reached the listener: a retry would show it twice. */
  streamed: boolean;
  /** The current try has received a chunk: no more "waiting" notices. */
  answered: boolean;
  /** When the step must end, however steadily the reply streams. */
  stepEnd: number;
}

function toOpenAIMessage(m: ChatMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: m.content };
    case 'user':
      return { role: 'user', content: m.content };
    case 'tool':
      return { role: 'tool', content: m.content, tool_call_id: m.tool_call_id };
    case 'assistant': {
      const out: ChatCompletionMessageParam = { role: 'assistant', content: m.content };
      if (m.tool_calls && m.tool_calls.length > 0) {
        out.tool_calls = m.tool_calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.function.name, arguments: c.function.arguments },
        }));
      }
      return out;
    }
  }
}

function toOpenAITool(t: ToolSchema): ChatCompletionTool {
  return {
    type: 'function',
    function: {
      name: t.function.name,
      description: t.function.description,
      parameters: t.function.parameters as unknown as Record<string, unknown>,
    },
  };
}
