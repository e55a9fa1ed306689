/**
 * Our OpenAI-shaped messages and VS Code's Language Model API, mapped both ways, as plain data:
 * no `vscode` import here, so the rules are unit-tested in plain Node and lmChatModel.ts only turns
 * the data into `LanguageModelChatMessage`s and back.
 *
 * The API has two roles. Leading system text (instructions, core memory) and later system events
 * become user text; an assistant's function calls become LanguageModelToolCallPart; function
 * results become LanguageModelToolResultPart in the user message that follows the calls (results
 * first, then any event text), and consecutive messages of one role are merged, as the providers
 * expect calls and results to pair up turn by turn.
 */
import {
  ChatModelError,
  type ChatMessage,
  type ChatResponse,
  type ChatStreamListener,
  type ToolCall,
  type ToolSchema,
} from '../core/interfaces/chatModel';
import { isContextLengthMessage } from '../core/llm/chatModelErrors';
import { parseToolArguments } from '../core/llm/jsonRepair';

export type LmTextPart = { kind: 'text'; value: string };
export type LmToolCallPart = { kind: 'toolCall'; callId: string; name: string; input: Record<string, unknown> };
export type LmToolResultPart = { kind: 'toolResult'; callId: string; text: string };

/** As the API allows them: results only from the user, calls only from the assistant. */
export type LmMessage =
  { role: 'user'; parts: (LmTextPart | LmToolResultPart)[] } | { role: 'assistant'; parts: (LmTextPart | LmToolCallPart)[] };

/** What `LanguageModelChatTool` carries: our JSON schema as the tool's input schema. */
export interface LmTool {
  name: string;
  description: string;
  inputSchema: ToolSchema['function']['parameters'];
}

/** One of our messages as the parts of one LM message (no parts: nothing to send). */
export function toLmMessage(m: ChatMessage): LmMessage {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: 'user', parts: m.content === '' ? [] : [{ kind: 'text', value: m.content }] };
    case 'tool':
      return { role: 'user', parts: [{ kind: 'toolResult', callId: m.tool_call_id, text: m.content }] };
    case 'assistant': {
      const parts: (LmTextPart | LmToolCallPart)[] = [];
      if (m.content) parts.push({ kind: 'text', value: m.content });
      for (const call of m.tool_calls ?? []) {
        // Broken arguments were answered with a failed result already; the API wants an object here.
        const parsed = parseToolArguments(call.function.arguments);
        parts.push({ kind: 'toolCall', callId: call.id, name: call.function.name, input: parsed.ok ? parsed.value : {} });
      }
      return { role: 'assistant', parts };
    }
  }
}

/** The whole request's messages, merged by role, results before text in each user message. */
export function toLmMessages(messages: readonly ChatMessage[]): LmMessage[] {
  const out: LmMessage[] = [];
  for (const m of messages) {
    const next = toLmMessage(m);
    if (next.parts.length === 0) continue;
    const last = out[out.length - 1];
    if (last?.role === 'user' && next.role === 'user') last.parts.push(...next.parts);
    else if (last?.role === 'assistant' && next.role === 'assistant') last.parts.push(...next.parts);
    else out.push(next);
  }
  for (const m of out) {
    if (m.role === 'user') m.parts = [...m.parts.filter((p) => p.kind === 'toolResult'), ...m.parts.filter((p) => p.kind !== 'toolResult')];
  }
  return out;
}

export function toLmTools(tools: readonly ToolSchema[]): LmTool[] {
  return tools.map((t) => ({ name: t.function.name, description: t.function.description, inputSchema: t.function.parameters }));
}

/**
 * Builds one ChatResponse from the parts a LanguageModelChatResponse streams, telling the listener
 * as they arrive. A tool call arrives whole in this API, so a `send_message` is shown in one piece.
 */
export class LmReplyAssembler {
  private content = '';
  private sawContent = false;
  private readonly calls: ToolCall[] = [];

  constructor(private readonly listener: ChatStreamListener) {}

  /** True once anything reached the listener (a retry would show it twice). */
  get streamed(): boolean {
    return this.sawContent || this.calls.length > 0;
  }

  text(value: string): void {
    if (value === '') return;
    this.content += value;
    this.sawContent = true;
    this.listener.onContentDelta?.(value);
  }

  toolCall(callId: string, name: string, input: unknown): void {
    // Ids must pair calls with results; a provider that sends none still gets a unique one.
    const id = callId.trim() || `call_${this.calls.length + 1}`;
    const args = input === undefined ? '{}' : JSON.stringify(input);
    this.calls.push({ id, type: 'function', function: { name, arguments: args } });
    this.listener.onToolCallStart?.(id, name);
    if (name === 'send_message' && input && typeof input === 'object' && typeof (input as { message?: unknown }).message === 'string') {
      this.listener.onSendMessageDelta?.(id, (input as { message: string }).message);
    }
  }

  response(): ChatResponse {
    return {
      content: this.sawContent ? this.content : null,
      toolCalls: [...this.calls],
      finishReason: this.calls.length > 0 ? 'tool_calls' : 'stop',
    };
  }
}

/**
 * A LanguageModelError (by its `code`) or any other failure of a request, in the kinds the agent
 * acts on and in words that say what to do. Returned with whether a retry may help.
 */
export function lmFailure(code: string | undefined, message: string, model: string): { error: ChatModelError; retryable: boolean } {
  const said = message.replace(/\s+/g, ' ').trim();
  switch (code) {
    case 'NoPermissions':
      return {
        error: new ChatModelError(
          'auth',
          `VS Code has not allowed MemGPT to use the language model '${model}' (${said || 'no permission'}). Send a message from the chat and choose Allow when VS Code asks, ` +
            'or allow it under Accounts → Manage Language Model Access; or set MemGPT: Provider to openai or anthropic.',
        ),
        retryable: false,
      };
    case 'Blocked':
      return {
        error: new ChatModelError(
          'rate_limited',
          `The language model '${model}' refused the request: its quota or rate limit is used up (${said || 'blocked'}). Try again later, or pick another model with MemGPT: Select Model.`,
        ),
        retryable: false,
      };
    case 'NotFound':
      return {
        error: new ChatModelError(
          'not_found',
          `The language model '${model}' is no longer available in VS Code (${said || 'not found'}). Pick another with MemGPT: Select Model.`,
        ),
        retryable: false,
      };
  }
  if (isContextLengthMessage(said)) {
    return {
      error: new ChatModelError(
        'context_length',
        `The request is longer than the context window of '${model}' (${said}). The agent will summarise older messages.`,
      ),
      retryable: false,
    };
  }
  if (/rate.?limit|\b429\b|too many requests/i.test(said)) {
    return {
      error: new ChatModelError(
        'rate_limited',
        `The language model '${model}' is rate-limiting requests (${said}). Try again in a moment.`,
      ),
      retryable: true,
    };
  }
  return {
    error: new ChatModelError('bad_response', `The language model '${model}' failed: ${said || 'no reason given'}.`),
    retryable: false,
  };
}

/** What a model of the editor is called by: VS Code's LanguageModelChat fields we match on. */
export interface LmModelInfo {
  id: string;
  family: string;
  name: string;
  vendor: string;
}

/**
 * The model `selector` (memgpt.model) names: an exact id, else a family, else a name (any case);
 * '' picks the first model offered. Undefined when nothing matches.
 */
export function pickModel<T extends LmModelInfo>(models: readonly T[], selector: string): T | undefined {
  const wanted = selector.trim();
  if (wanted === '') return models[0];
  const lower = wanted.toLowerCase();
  return (
    models.find((m) => m.id === wanted) ??
    models.find((m) => `${m.vendor}/${m.id}` === wanted) ??
    models.find((m) => m.family.toLowerCase() === lower) ??
    models.find((m) => m.name.toLowerCase() === lower)
  );
}

/** Why no model could be opened, in words that say what to do. */
export function noModelError(models: readonly LmModelInfo[], selector: string): ChatModelError {
  if (models.length === 0) {
    return new ChatModelError(
      'not_found',
      'VS Code offers no language models to MemGPT. Install and sign in to GitHub Copilot (or another extension that provides models), ' +
        'or set MemGPT: Provider to openai or anthropic.',
    );
  }
  const offered = models
    .slice(0, 8)
    .map((m) => m.id)
    .join(', ');
  return new ChatModelError(
    'not_found',
    `No VS Code language model matches MemGPT: Model "${selector}". Available: ${offered}. Pick one with MemGPT: Select Model.`,
  );
}
