/**
 * ChatModel on the official `openai` package, for OpenAI and any
 * OpenAI-compatible server (Ollama, LM Studio, vLLM, llama.cpp).
 *
 * Retries are ours, not the SDK's (it runs with maxRetries: 0), so back-off is
 * testable through the injectable `sleep`. A failed attempt is retried only if
 * nothing of it reached the listener yet: the listener contract has no way to
 * take back text already shown, so restarting after partial output would show
 * the user the same words twice. A failure after output is reported as is.
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
  LLM_MAX_RETRIES,
  LLM_REQUEST_TIMEOUT_MS,
  LLM_RETRY_BASE_DELAY_MS,
  LLM_RETRY_MAX_DELAY_MS,
} from '../limits';
import { redactSecrets } from '../security/redact';
import { classifyError, type ClassifiedError } from './chatModelErrors';
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
  requestTimeoutMs?: number;
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
    this.maxRetries = Math.max(0, options.maxRetries ?? LLM_MAX_RETRIES);
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    this.apiKey = options.apiKey?.trim() || undefined;
    this.client = new OpenAI({
      baseURL: this.baseUrl,
      apiKey: options.apiKey?.trim() || PLACEHOLDER_API_KEY,
      maxRetries: 0,
      // Our own timer bounds the whole call; the SDK's is only a backstop.
      timeout: this.timeoutMs * 2,
    });
  }

  async complete(request: ChatRequest, listener: ChatStreamListener = {}): Promise<ChatResponse> {
    const signal = request.signal;
    const progress = { streamed: false };
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortedError();
      let classified: ClassifiedError;
      try {
        return await this.attempt(request, listener, progress);
      } catch (err) {
        classified = err instanceof ClassifiedFailure ? err.classified : classifyError(err, this.context(signal));
      }
      const { error } = classified;
      if (error.kind === 'aborted' || !classified.retryable || attempt >= this.maxRetries) throw this.redacted(error);
      if (progress.streamed) {
        throw this.redacted(new ChatModelError(error.kind, `${error.message} The reply was cut off after it had started, so it was not retried.`, error.status));
      }
      await this.sleep(retryDelayMs(attempt, classified.retryAfterMs, this.random), signal);
    }
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      const page = await this.client.models.list(signal ? { signal } : {});
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

  private context(signal: AbortSignal | undefined, timedOut = false) {
    return { baseUrl: this.baseUrl, model: this.model, aborted: signal?.aborted ?? false, timedOut, timeoutMs: this.timeoutMs };
  }

  private async attempt(request: ChatRequest, listener: ChatStreamListener, progress: { streamed: boolean }): Promise<ChatResponse> {
    const controller = new AbortController();
    let timedOut = false;
    const external = request.signal;
    let rejectEarly: (err: unknown) => void = () => undefined;
    // Rejects the moment the caller aborts or the timer fires, whatever the SDK is awaiting.
    const early = new Promise<never>((_, reject) => {
      rejectEarly = reject;
    });
    const onAbort = () => {
      controller.abort();
      rejectEarly(abortedError());
    };
    external?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      rejectEarly(new ClassifiedFailure(classifyError(new Error('timeout'), this.context(external, true))));
    }, this.timeoutMs);
    try {
      return await Promise.race([this.stream(request, listener, progress, controller.signal, () => timedOut), early]);
    } catch (err) {
      if (external?.aborted) throw abortedError();
      if (err instanceof ClassifiedFailure || err instanceof ChatModelError) throw err;
      throw new ClassifiedFailure(classifyError(err, this.context(external, timedOut)));
    } finally {
      clearTimeout(timer);
      external?.removeEventListener('abort', onAbort);
      if (!controller.signal.aborted) controller.abort();
      early.catch(() => undefined);
    }
  }

  private async stream(
    request: ChatRequest,
    listener: ChatStreamListener,
    progress: { streamed: boolean },
    signal: AbortSignal,
    timedOut: () => boolean,
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
      if (timedOut()) throw new ClassifiedFailure(classifyError(new Error('timeout'), this.context(undefined, true)));
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
