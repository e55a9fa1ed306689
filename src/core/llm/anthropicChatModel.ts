/**
 * ChatModel on Anthropic's Messages API (POST {baseUrl}/v1/messages), with plain `fetch` and our
 * own SSE reader: the API surface we use is one endpoint and seven event types, which does not
 * justify a second SDK in the bundle.
 *
 * The core speaks OpenAI-shaped messages; they are translated here, once per request: leading
 * system messages become the top-level `system` blocks, assistant tool calls become `tool_use`
 * blocks, tool results become `tool_result` blocks in a user message, and consecutive messages of
 * one role are merged (the API wants user and assistant to alternate).
 *
 * Prompt caching: the prefix that changes only when memory changes (tools, system message,
 * summary) carries `cache_control` breakpoints, so each step of a turn re-reads it from the
 * provider's cache instead of paying for it again; one more breakpoint on the newest message
 * lets the next heartbeat step read the whole queue so far from the cache.
 *
 * Retries, time-outs, the deadline and error wording are ModelCall's and chatModelErrors', the
 * same as the OpenAI-compatible client. The key travels only in the `x-api-key` header and is
 * redacted from every error.
 */
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
  ANTHROPIC_CACHE_BREAKPOINTS_MAX,
  ANTHROPIC_MAX_OUTPUT_TOKENS,
  DEFAULT_TEMPERATURE,
  LLM_DEADLINE_TIMEOUTS,
  LLM_MAX_RETRIES,
  LLM_REQUEST_TIMEOUT_MS,
} from '../limits';
import { classifyError, HttpStatusError } from './chatModelErrors';
import { parseToolArguments } from './jsonRepair';
import { abortableSleep, ModelCall, type Sleep, type StreamTry } from './modelCall';
import { StreamingStringArgument } from './streamingArgument';

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicChatModelOptions {
  /** Empty or absent: api.anthropic.com. A trailing /v1 is accepted and dropped. */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  temperature?: number;
  /** Longest reply, in tokens (the API requires a bound); default ANTHROPIC_MAX_OUTPUT_TOKENS. */
  maxTokens?: number;
  /** How long one try waits for the first event, and then for each next one (memgpt.requestTimeoutSeconds). */
  requestTimeoutMs?: number;
  deadlineMs?: number;
  maxRetries?: number;
  sleep?: Sleep;
  random?: () => number;
}

// ─── Request shapes (the subset of the Messages API we send) ────────────────

export interface CacheControl {
  type: 'ephemeral';
}
export type AnthropicBlock =
  | { type: 'text'; text: string; cache_control?: CacheControl }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown>; cache_control?: CacheControl }
  | { type: 'tool_result'; tool_use_id: string; content: string; cache_control?: CacheControl };
export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}
export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: ToolSchema['function']['parameters'];
  cache_control?: CacheControl;
}
export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  system?: { type: 'text'; text: string; cache_control?: CacheControl }[];
  messages: AnthropicMessage[];
  tools?: AnthropicTool[];
  temperature?: number;
  stream: true;
}

const EPHEMERAL: CacheControl = { type: 'ephemeral' };

/** Tool ids must match ^[a-zA-Z0-9_-]+$; ids from other servers are mapped the same way on both sides of a call. */
function toolId(id: string): string {
  const clean = id.replace(/[^a-zA-Z0-9_-]/g, '_');
  return clean === '' ? 'call' : clean;
}

/**
 * Our messages and tools as one Messages API request body, with cache breakpoints on the last
 * system block, the last tool, the summary (message `stablePrefix - 1` when that is not a system
 * message) and the newest message, never more than ANTHROPIC_CACHE_BREAKPOINTS_MAX.
 */
export function toAnthropicRequest(
  request: Pick<ChatRequest, 'messages' | 'tools' | 'stablePrefix'>,
  options: { model: string; maxTokens: number; temperature?: number },
): AnthropicRequestBody {
  const system: NonNullable<AnthropicRequestBody['system']> = [];
  const messages: AnthropicMessage[] = [];
  let summaryBlock: AnthropicBlock | undefined;
  let leading = true;
  const summaryIndex = (request.stablePrefix ?? 1) - 1;
  for (const [index, m] of request.messages.entries()) {
    if (m.role === 'system' && leading) {
      system.push({ type: 'text', text: m.content });
      continue;
    }
    leading = false;
    const { role, blocks } = toBlocks(m);
    if (blocks.length === 0) continue;
    if (index === summaryIndex && index > 0) summaryBlock = blocks[blocks.length - 1];
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  }
  // Results must open the user message that answers the tool calls; text (an event) comes after.
  for (const m of messages) {
    if (m.role === 'user')
      m.content = [...m.content.filter((b) => b.type === 'tool_result'), ...m.content.filter((b) => b.type !== 'tool_result')];
  }
  // The API wants the conversation to open with the user; after an eviction it may not.
  if (messages[0]?.role !== 'user')
    messages.unshift({ role: 'user', content: [{ type: 'text', text: '(earlier messages are in the summary or in recall memory)' }] });

  const tools: AnthropicTool[] = request.tools.map((t) => ({
    name: t.function.name,
    description: t.function.description,
    input_schema: t.function.parameters,
  }));
  let breakpoints = 0;
  const mark = (target: { cache_control?: CacheControl } | undefined) => {
    if (!target || target.cache_control || breakpoints >= ANTHROPIC_CACHE_BREAKPOINTS_MAX) return;
    target.cache_control = EPHEMERAL;
    breakpoints++;
  };
  // In the order the API builds its prefix: tools, system, messages.
  mark(tools[tools.length - 1]);
  mark(system[system.length - 1]);
  mark(summaryBlock);
  const newest = messages[messages.length - 1];
  mark(newest?.content[newest.content.length - 1]);

  const body: AnthropicRequestBody = { model: options.model, max_tokens: options.maxTokens, messages, stream: true };
  if (system.length > 0) body.system = system;
  if (tools.length > 0) body.tools = tools;
  if (options.temperature !== undefined) body.temperature = Math.min(1, Math.max(0, options.temperature));
  return body;
}

function toBlocks(m: ChatMessage): { role: 'user' | 'assistant'; blocks: AnthropicBlock[] } {
  switch (m.role) {
    case 'system':
    case 'user':
      // A system message after the first (an event) is shown to the model as user input: the API has no mid-conversation system role.
      return { role: 'user', blocks: m.content === '' ? [] : [{ type: 'text', text: m.content }] };
    case 'tool':
      return { role: 'user', blocks: [{ type: 'tool_result', tool_use_id: toolId(m.tool_call_id), content: m.content }] };
    case 'assistant': {
      const blocks: AnthropicBlock[] = [];
      if (m.content) blocks.push({ type: 'text', text: m.content });
      for (const call of m.tool_calls ?? []) {
        // Broken arguments were answered with a failed result already; the API needs an object here.
        const parsed = parseToolArguments(call.function.arguments);
        blocks.push({ type: 'tool_use', id: toolId(call.id), name: call.function.name, input: parsed.ok ? parsed.value : {} });
      }
      return { role: 'assistant', blocks };
    }
  }
}

/** Anthropic's stop reasons in the OpenAI words the core uses. */
function finishReasonOf(stop: string): string {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    default:
      return stop;
  }
}

/** An `error` event inside a 200 stream, as the HTTP status the same error would have had. */
function statusOfErrorType(type: unknown): number {
  switch (type) {
    case 'overloaded_error':
      return 529;
    case 'rate_limit_error':
      return 429;
    case 'authentication_error':
      return 401;
    case 'permission_error':
      return 403;
    case 'not_found_error':
      return 404;
    case 'invalid_request_error':
      return 400;
    default:
      return 500;
  }
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Server-sent events from a fetch body: yields each event's JSON data. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: Json }> {
  const decoder = new TextDecoder();
  let buffer = '';
  const parse = (raw: string): { event: string; data: Json } | null => {
    let event = '';
    const data: string[] = [];
    for (const line of raw.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length === 0) return null;
    // A SyntaxError here is classified as a malformed stream.
    const parsed: unknown = JSON.parse(data.join('\n'));
    if (!isRecord(parsed)) throw new SyntaxError(`event data is not an object: ${data.join('\n').slice(0, 80)}`);
    return { event: event || (typeof parsed.type === 'string' ? parsed.type : ''), data: parsed };
  };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.search(/\r?\n\r?\n/); end >= 0; end = buffer.search(/\r?\n\r?\n/)) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const parsed = parse(raw);
      if (parsed) yield parsed;
    }
  }
  const rest = parse(buffer + decoder.decode());
  if (rest) yield rest;
}

interface BlockSlot {
  kind: 'text' | 'tool_use' | 'other';
  id: string;
  name: string;
  args: string;
  decoder: StreamingStringArgument | null;
}

export class AnthropicChatModel implements ChatModel {
  readonly model: string;
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly temperature: number;
  private readonly maxTokens: number;
  private readonly timeoutMs: number;
  private readonly calls: ModelCall;

  constructor(options: AnthropicChatModelOptions) {
    if (!options.model || options.model.trim() === '') {
      throw new ChatModelError('not_found', 'No model is selected. Pick one with MemGPT: Select Model.');
    }
    this.model = options.model.trim();
    this.baseUrl = (options.baseUrl?.trim() || ANTHROPIC_BASE_URL).replace(/\/+$/, '').replace(/\/v1$/, '');
    try {
      new URL(this.baseUrl);
    } catch {
      throw new ChatModelError(
        'network',
        `MemGPT: Base URL '${this.baseUrl}' is not a valid URL. Use ${ANTHROPIC_BASE_URL} for Anthropic.`,
      );
    }
    this.apiKey = options.apiKey?.trim() || undefined;
    this.temperature = options.temperature ?? DEFAULT_TEMPERATURE;
    this.maxTokens = options.maxTokens ?? ANTHROPIC_MAX_OUTPUT_TOKENS;
    this.timeoutMs = options.requestTimeoutMs ?? LLM_REQUEST_TIMEOUT_MS;
    this.calls = new ModelCall({
      baseUrl: this.baseUrl,
      model: this.model,
      api: 'anthropic',
      timeoutMs: this.timeoutMs,
      deadlineMs: options.deadlineMs ?? this.timeoutMs * LLM_DEADLINE_TIMEOUTS,
      maxRetries: Math.max(0, options.maxRetries ?? LLM_MAX_RETRIES),
      sleep: options.sleep ?? abortableSleep,
      random: options.random ?? Math.random,
      secrets: [this.apiKey],
    });
  }

  complete(request: ChatRequest, listener: ChatStreamListener = {}): Promise<ChatResponse> {
    return this.calls.complete(request, listener, (t) => this.stream(request, listener, t));
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await fetch(`${this.baseUrl}/v1/models?limit=1000`, { headers: this.headers(), signal: controller.signal });
      if (!res.ok) throw new HttpStatusError(res.status, await errorBody(res), res.headers);
      const body: unknown = await res.json();
      const data = isRecord(body) && Array.isArray(body.data) ? body.data : [];
      const ids = data.map((m) => (isRecord(m) && typeof m.id === 'string' ? m.id : '')).filter((id) => id !== '');
      return ids.sort((a, b) => a.localeCompare(b));
    } catch (err) {
      const timedOut = controller.signal.aborted && !signal?.aborted;
      throw this.calls.redacted(classifyError(err, this.calls.context(signal, timedOut)).error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION };
    if (this.apiKey) headers['x-api-key'] = this.apiKey;
    return headers;
  }

  private async stream(
    request: ChatRequest,
    listener: ChatStreamListener,
    { signal, onChunk, progress, stopped }: StreamTry,
  ): Promise<ChatResponse> {
    const body = toAnthropicRequest(request, {
      model: this.model,
      maxTokens: Math.min(this.maxTokens, request.maxOutputTokens ?? this.maxTokens),
      temperature: this.temperature,
    });
    const res = await fetch(`${this.baseUrl}/v1/messages`, { method: 'POST', headers: this.headers(), body: JSON.stringify(body), signal });
    if (!res.ok) throw new HttpStatusError(res.status, await errorBody(res), res.headers);
    if (!res.body)
      throw new ChatModelError(
        'bad_response',
        `The model server at ${this.baseUrl} answered without a body. Check that MemGPT: Base URL points at ${ANTHROPIC_BASE_URL}.`,
      );

    let content = '';
    let sawContent = false;
    let stopReason: string | null = null;
    let events = 0;
    const usage = { input: 0, cacheWrite: 0, cacheRead: 0, output: 0, seen: false };
    const slots: BlockSlot[] = [];
    const calls: BlockSlot[] = [];

    for await (const { event, data } of sseEvents(res.body)) {
      events++;
      onChunk();
      switch (event) {
        case 'message_start': {
          const u = isRecord(data.message) && isRecord(data.message.usage) ? data.message.usage : null;
          if (u) {
            usage.seen = true;
            usage.input = num(u.input_tokens);
            usage.cacheWrite = num(u.cache_creation_input_tokens);
            usage.cacheRead = num(u.cache_read_input_tokens);
            usage.output = num(u.output_tokens);
          }
          break;
        }
        case 'content_block_start': {
          const block = isRecord(data.content_block) ? data.content_block : {};
          const index = num(data.index);
          if (block.type === 'tool_use') {
            const slot: BlockSlot = {
              kind: 'tool_use',
              id: String(block.id ?? ''),
              name: String(block.name ?? ''),
              args: '',
              decoder: null,
            };
            if (slot.name === 'send_message') slot.decoder = new StreamingStringArgument('message');
            slots[index] = slot;
            calls.push(slot);
            progress.streamed = true;
            listener.onToolCallStart?.(slot.id, slot.name);
          } else if (block.type === 'text') {
            slots[index] = { kind: 'text', id: '', name: '', args: '', decoder: null };
            if (typeof block.text === 'string' && block.text !== '')
              this.text(block.text, listener, progress, (t) => ((content += t), (sawContent = true)));
          } else {
            // Thinking and other blocks are not part of our message format.
            slots[index] = { kind: 'other', id: '', name: '', args: '', decoder: null };
          }
          break;
        }
        case 'content_block_delta': {
          const delta = isRecord(data.delta) ? data.delta : {};
          const slot = slots[num(data.index)];
          if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '') {
            this.text(delta.text, listener, progress, (t) => ((content += t), (sawContent = true)));
          } else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && slot?.kind === 'tool_use') {
            slot.args += delta.partial_json;
            const text = slot.decoder?.push(delta.partial_json);
            if (text) listener.onSendMessageDelta?.(slot.id, text);
          }
          break;
        }
        case 'message_delta': {
          const delta = isRecord(data.delta) ? data.delta : {};
          if (typeof delta.stop_reason === 'string') stopReason = delta.stop_reason;
          // The output count here is cumulative for the whole message.
          if (isRecord(data.usage) && typeof data.usage.output_tokens === 'number') {
            usage.seen = true;
            usage.output = data.usage.output_tokens;
          }
          break;
        }
        case 'error': {
          const error = isRecord(data.error) ? data.error : {};
          throw new HttpStatusError(statusOfErrorType(error.type), data, new Headers());
        }
        // ping, content_block_stop, message_stop: nothing to take from them but that the server is alive.
      }
    }
    const stop = stopped();
    if (stop) throw stop;
    const toolCalls: ToolCall[] = calls
      .filter((c) => c.name !== '')
      // A tool with no parameters streams no input at all.
      .map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args === '' ? '{}' : c.args } }));
    if (events === 0 || (!sawContent && toolCalls.length === 0 && stopReason === null)) {
      throw new ChatModelError(
        'bad_response',
        `The model server at ${this.baseUrl} ended the response without any content, tool call or stop reason. Try again, or check that '${this.model}' works on that server.`,
      );
    }
    const response: ChatResponse = {
      content: sawContent ? content : null,
      toolCalls,
      finishReason: stopReason === null ? null : finishReasonOf(stopReason),
    };
    if (usage.seen) {
      // Cached and freshly cached tokens are part of the prompt too; the split is kept for whoever shows cost.
      response.usage = {
        promptTokens: usage.input + usage.cacheWrite + usage.cacheRead,
        completionTokens: usage.output,
        cacheReadTokens: usage.cacheRead,
        cacheWriteTokens: usage.cacheWrite,
      };
    }
    return response;
  }

  private text(text: string, listener: ChatStreamListener, progress: StreamTry['progress'], add: (t: string) => void): void {
    add(text);
    progress.streamed = true;
    listener.onContentDelta?.(text);
  }
}

/** The error body as JSON when it is JSON, else its text (what the classifier quotes). */
async function errorBody(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
