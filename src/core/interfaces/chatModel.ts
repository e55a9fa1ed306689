import { MemgptError } from '../base/errors';

/**
 * The model boundary. One OpenAI-shaped message format is used everywhere in the
 * core (context window, recall, requests), so nothing is translated twice.
 */

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; content: string; tool_call_id: string };

/** JSON schema of one callable function, as sent in `tools`. */
export interface ToolSchema {
  type: 'function';
  function: {
    name: string;
    description: string;
    parameters: {
      type: 'object';
      properties: Record<string, JsonSchema>;
      required: string[];
      additionalProperties?: boolean;
    };
  };
}

export interface JsonSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  description?: string;
  enum?: readonly (string | number)[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  /** The rest is used by functions that come from elsewhere (MCP tools), whose schemas nest. */
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  anyOf?: JsonSchema[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  default?: string | number | boolean | null;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools: ToolSchema[];
  signal?: AbortSignal;
  /**
   * How many leading messages change only when memory changes (the system message, then the
   * summary when there is one). A provider with prompt caching marks the end of that prefix;
   * absent: the system message alone.
   */
  stablePrefix?: number;
  /** The longest answer wanted, in tokens (background work bounds its cost with it); absent: the server's default. */
  maxOutputTokens?: number;
}

/** Streamed pieces of one model call, as they arrive. */
export interface ChatStreamListener {
  /** Plain assistant content: the private inner monologue. */
  onContentDelta?(text: string): void;
  /** The `message` argument of a `send_message` call, decoded incrementally. */
  onSendMessageDelta?(toolCallId: string, text: string): void;
  /** A tool call whose name is known (arguments may still be streaming). */
  onToolCallStart?(toolCallId: string, name: string): void;
  /** Nothing has arrived yet: a periodic "still waiting" notice, or a retry about to happen. */
  onWait?(wait: ModelWait): void;
}

/** Why the user is still waiting for the model, so a front end can say so instead of looking hung. */
export type ModelWait =
  | { kind: 'waiting'; baseUrl: string; /** Since the step began, retries included. */ elapsedMs: number }
  | {
      kind: 'retrying';
      baseUrl: string;
      /** 1 for the first retry. */
      retry: number;
      /** The pause before it. */
      delayMs: number;
      /** The failure being retried, in the words of the final error. */
      reason: string;
    };

export interface ChatResponse {
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: string | null;
  /** As the server counted them; prompt tokens include any read from or written to its prompt cache. */
  usage?: { promptTokens: number; completionTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number };
}

export interface ChatModel {
  /** The model name sent to the server. */
  readonly model: string;
  /**
   * One streamed chat completion. Rejects with a `ChatModelError` whose `kind`
   * tells the caller what to do (flush on `context_length`, stop on `aborted`).
   */
  complete(request: ChatRequest, listener?: ChatStreamListener): Promise<ChatResponse>;
  /** Model ids the server offers (for "Select model"). */
  listModels(signal?: AbortSignal): Promise<string[]>;
}

export type ChatModelErrorKind =
  'context_length' | 'auth' | 'not_found' | 'rate_limited' | 'server' | 'network' | 'timeout' | 'aborted' | 'bad_response';

export class ChatModelError extends MemgptError<ChatModelErrorKind> {
  constructor(
    readonly kind: ChatModelErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(kind, message);
  }
}
