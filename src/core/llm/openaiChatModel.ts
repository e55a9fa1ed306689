/**
 * ChatModel on the official `openai` package, for OpenAI and any
 * OpenAI-compatible server (Ollama, LM Studio, vLLM, llama.cpp).
 *
 * Retries, time-outs and the deadline are ModelCall's (shared with the Anthropic
 * client); the SDK runs with maxRetries: 0. The SDK logs nothing (logLevel
 * 'off'): our one error says what went wrong.
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
import { DEFAULT_TEMPERATURE, LLM_DEADLINE_TIMEOUTS, LLM_MAX_RETRIES, LLM_REQUEST_TIMEOUT_MS, LLM_STREAM_MAX_MS } from '../limits';
import { classifyError } from './chatModelErrors';
import { abortableSleep, ModelCall, type Sleep, type StreamTry } from './modelCall';
import { acceptsTemperature } from './knownModels';
import { StreamingStringArgument } from './streamingArgument';

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** Sent when no key is configured: local servers ignore it, the SDK insists on one. */
export const PLACEHOLDER_API_KEY = 'no-key-needed';

// Re-exported: embedders and tests import the shared retry rules from here.
export { abortableSleep, retryDelayMs, waitNoticeIntervalMs, type Sleep } from './modelCall';

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
  private readonly calls: ModelCall;
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
    this.calls = new ModelCall({
      baseUrl: this.baseUrl,
      model: this.model,
      api: 'openai',
      timeoutMs: this.timeoutMs,
      deadlineMs: options.deadlineMs ?? this.timeoutMs * LLM_DEADLINE_TIMEOUTS,
      maxRetries: Math.max(0, options.maxRetries ?? LLM_MAX_RETRIES),
      sleep: options.sleep ?? abortableSleep,
      random: options.random ?? Math.random,
      secrets: [options.apiKey?.trim() || undefined],
    });
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

  complete(request: ChatRequest, listener: ChatStreamListener = {}): Promise<ChatResponse> {
    return this.calls.complete(request, listener, (t) => this.stream(request, listener, t));
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      const page = await this.client.models.list({ timeout: this.timeoutMs, ...(signal ? { signal } : {}) });
      for (const m of page.data) if (typeof m.id === 'string') ids.push(m.id);
      return ids.sort((a, b) => a.localeCompare(b));
    } catch (err) {
      throw this.calls.redacted(classifyError(err, this.calls.context(signal)).error);
    }
  }

  private async stream(
    request: ChatRequest,
    listener: ChatStreamListener,
    { signal, onChunk, progress, stopped }: StreamTry,
  ): Promise<ChatResponse> {
    const body: ChatCompletionCreateParamsStreaming = {
      model: this.model,
      messages: request.messages.map(toOpenAIMessage),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (request.tools.length > 0) body.tools = request.tools.map(toOpenAITool);
    if (acceptsTemperature(this.model)) body.temperature = this.temperature;
    // Reasoning models refuse max_tokens (they also refuse a temperature); the rest know only max_tokens.
    if (request.maxOutputTokens !== undefined) {
      if (acceptsTemperature(this.model)) body.max_tokens = request.maxOutputTokens;
      else body.max_completion_tokens = request.maxOutputTokens;
    }

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
    const stop = stopped();
    if (stop) throw stop;
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
