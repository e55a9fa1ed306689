/**
 * The editor's own language models as MemGPT's chat model (memgpt.provider "vscode-lm"): a
 * Copilot subscriber chats with no key of ours. `LmChatModel` implements the core ChatModel on a
 * `vscode.LanguageModelChat` (our functions as LanguageModelChatTool, calls and results as tool
 * parts, see lmMessages.ts); `VsCodeModelSource` is the runtime's HostModelSource.
 *
 * Time-outs, the deadline and retries are ModelCall's, as for the HTTP clients. Before each
 * request the model counts it with its own `countTokens` (memoised per message, bounded in time):
 * a request over `maxInputTokens` is reported as `context_length`, so the agent summarises and
 * retries instead of the model failing, and each count calibrates the synchronous estimate the
 * context window plans with (CalibratedTokenCounter says why it is built that way).
 *
 * Consent: VS Code asks the user the first time an extension sends to a model. Requests go out
 * from turns the user started (a chat message); a refusal arrives as LanguageModelError
 * NoPermissions and is reported in words that say how to allow it.
 */
import * as vscode from 'vscode';
import {
  ChatModelError,
  type ChatMessage,
  type ChatModel,
  type ChatRequest,
  type ChatResponse,
  type ChatStreamListener,
  type ToolSchema,
} from '../core/interfaces/chatModel';
import {
  LLM_DEADLINE_TIMEOUTS,
  LLM_MAX_RETRIES,
  LLM_REQUEST_TIMEOUT_MS,
  LM_COUNT_TOKENS_CACHE_ENTRIES,
  LM_COUNT_TOKENS_TIMEOUT_MS,
} from '../core/limits';
import { abortableSleep, ClassifiedFailure, ModelCall, type StreamTry } from '../core/llm/modelCall';
import type { HostModel, HostModelSource } from '../core/runtime/hostModels';
import { CalibratedTokenCounter } from '../core/tokens/calibratedTokenCounter';
import { createTokenCounter } from '../core/tokens/tokenCounter';
import { LmReplyAssembler, lmFailure, noModelError, pickModel, toLmMessage, toLmMessages, toLmTools, type LmMessage } from './lmMessages';

const JUSTIFICATION = 'MemGPT answers your chat messages with this model, using its own memory and functions.';

export function toVsCodeMessage(m: LmMessage): vscode.LanguageModelChatMessage {
  if (m.role === 'user') {
    return vscode.LanguageModelChatMessage.User(
      m.parts.map((p) =>
        p.kind === 'text'
          ? new vscode.LanguageModelTextPart(p.value)
          : new vscode.LanguageModelToolResultPart(p.callId, [new vscode.LanguageModelTextPart(p.text)]),
      ),
    );
  }
  return vscode.LanguageModelChatMessage.Assistant(
    m.parts.map((p) =>
      p.kind === 'text' ? new vscode.LanguageModelTextPart(p.value) : new vscode.LanguageModelToolCallPart(p.callId, p.name, p.input),
    ),
  );
}

/** Which of the editor's models: "vendor/id", as errors and wait notices name it. */
export function lmLabel(lm: vscode.LanguageModelChat): string {
  return `${lm.vendor}/${lm.id}`;
}

export interface LmChatModelOptions {
  /** Calibrated by the model's own counts; absent: the counts only guard the window. */
  counter?: CalibratedTokenCounter;
  requestTimeoutMs?: number;
  maxRetries?: number;
  /** Lists the editor's models for "Select Model". */
  list?: (signal?: AbortSignal) => Promise<string[]>;
}

export class LmChatModel implements ChatModel {
  readonly model: string;
  private readonly calls: ModelCall;
  /** Model-side token counts of messages already counted, by their text (least recently used dropped first). */
  private readonly counts = new Map<string, number>();

  constructor(
    readonly lm: vscode.LanguageModelChat,
    private readonly options: LmChatModelOptions = {},
  ) {
    this.model = lm.id;
    const timeoutMs = options.requestTimeoutMs ?? LLM_REQUEST_TIMEOUT_MS;
    this.calls = new ModelCall({
      baseUrl: `VS Code's language model ${lmLabel(lm)}`,
      model: lm.id,
      api: 'openai',
      timeoutMs,
      deadlineMs: timeoutMs * LLM_DEADLINE_TIMEOUTS,
      maxRetries: Math.max(0, options.maxRetries ?? LLM_MAX_RETRIES),
      sleep: abortableSleep,
      random: Math.random,
      secrets: [],
    });
  }

  complete(request: ChatRequest, listener: ChatStreamListener = {}): Promise<ChatResponse> {
    return this.calls.complete(request, listener, (t) => this.stream(request, listener, t));
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    return this.options.list ? this.options.list(signal) : [this.lm.id];
  }

  private async stream(
    request: ChatRequest,
    listener: ChatStreamListener,
    { signal, onChunk, progress, stopped }: StreamTry,
  ): Promise<ChatResponse> {
    const cancel = new vscode.CancellationTokenSource();
    const onAbort = () => cancel.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.guardWindow(request.messages, request.tools, cancel.token);
      const messages = toLmMessages(request.messages).map(toVsCodeMessage);
      const tools: vscode.LanguageModelChatTool[] = toLmTools(request.tools);
      const options: vscode.LanguageModelChatRequestOptions = { justification: JUSTIFICATION };
      if (tools.length > 0) options.tools = tools;
      let response: vscode.LanguageModelChatResponse;
      try {
        response = await this.lm.sendRequest(messages, options, cancel.token);
      } catch (err) {
        throw this.failure(err);
      }
      const reply = new LmReplyAssembler(listener);
      try {
        for await (const part of response.stream) {
          onChunk();
          if (part instanceof vscode.LanguageModelTextPart) reply.text(part.value);
          else if (part instanceof vscode.LanguageModelToolCallPart) reply.toolCall(part.callId, part.name, part.input);
          // Data and other parts are not part of our message format.
          if (reply.streamed) progress.streamed = true;
        }
      } catch (err) {
        const stop = stopped();
        if (stop) throw stop;
        throw this.failure(err);
      }
      const stop = stopped();
      if (stop) throw stop;
      const result = reply.response();
      if (result.content === null && result.toolCalls.length === 0) {
        throw new ClassifiedFailure({
          error: new ChatModelError(
            'bad_response',
            `The language model ${lmLabel(this.lm)} ended its reply without any text or function call. Try again, or pick another model.`,
          ),
          retryable: true,
        });
      }
      return result;
    } finally {
      signal.removeEventListener('abort', onAbort);
      cancel.dispose();
    }
  }

  private failure(err: unknown): ClassifiedFailure {
    if (err instanceof ClassifiedFailure) return err;
    if (err instanceof ChatModelError) return new ClassifiedFailure({ error: err, retryable: false });
    const code = err instanceof vscode.LanguageModelError ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    return new ClassifiedFailure(lmFailure(code, message, lmLabel(this.lm)));
  }

  /**
   * Counts the request with the model's own tokenizer: over `maxInputTokens` fails as
   * `context_length` before anything is sent; any count calibrates the planning estimate. A
   * counter that fails or is slow leaves the request unchecked (the model will say if it is too long).
   */
  private async guardWindow(
    messages: readonly ChatMessage[],
    tools: readonly ToolSchema[],
    token: vscode.CancellationToken,
  ): Promise<void> {
    const total = await this.countRequest(messages, tools, token);
    if (total === null) return;
    const counter = this.options.counter;
    if (counter) counter.observe(counter.estimateRequest(messages, tools), total);
    if (total > this.lm.maxInputTokens) {
      throw new ClassifiedFailure({
        error: new ChatModelError(
          'context_length',
          `The request is longer than the context window of ${lmLabel(this.lm)} (${total} tokens, it takes ${this.lm.maxInputTokens}). The agent will summarise older messages.`,
        ),
        retryable: false,
      });
    }
  }

  /** Total model tokens of the request, or null when the model could not count it in time. */
  async countRequest(
    messages: readonly ChatMessage[],
    tools: readonly ToolSchema[],
    token?: vscode.CancellationToken,
  ): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), LM_COUNT_TOKENS_TIMEOUT_MS);
    });
    const count = async (key: string, what: () => string | vscode.LanguageModelChatMessage): Promise<number> => {
      const known = this.counts.get(key);
      if (known !== undefined) {
        this.counts.delete(key);
        this.counts.set(key, known);
        return known;
      }
      const n = await this.lm.countTokens(what(), token);
      this.counts.set(key, n);
      if (this.counts.size > LM_COUNT_TOKENS_CACHE_ENTRIES) {
        const oldest = this.counts.keys().next().value;
        if (oldest !== undefined) this.counts.delete(oldest);
      }
      return n;
    };
    const all = (async () => {
      const parts = await Promise.all([
        ...messages.map((m) => {
          const single = toLmMessage(m);
          return single.parts.length === 0 ? 0 : count(messageKey(m), () => toVsCodeMessage(single));
        }),
        ...(tools.length > 0 ? [count(`tools\u0000${JSON.stringify(tools)}`, () => JSON.stringify(toLmTools(tools)))] : []),
      ]);
      return parts.reduce((a, b) => a + b, 0);
    })();
    try {
      return await Promise.race([all, late]);
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
      all.catch(() => undefined);
    }
  }
}

function messageKey(m: ChatMessage): string {
  const calls = m.role === 'assistant' ? JSON.stringify(m.tool_calls ?? []) : '';
  const id = m.role === 'tool' ? m.tool_call_id : '';
  return `${m.role}\u0000${id}\u0000${m.content ?? ''}\u0000${calls}`;
}

/** The editor's models for the WorkspaceRuntime (memgpt.provider "vscode-lm"). */
export class VsCodeModelSource implements HostModelSource {
  constructor(private readonly requestTimeoutMs: () => number) {}

  async open(selector: string): Promise<HostModel> {
    const models = await vscode.lm.selectChatModels();
    const lm = pickModel(models, selector);
    if (!lm) throw noModelError(models, selector);
    // The family names the tokenizer closest to the model's (o200k for gpt-4o and newer); the model's own counts calibrate it.
    const counter = new CalibratedTokenCounter(await createTokenCounter(lm.family));
    const model = new LmChatModel(lm, { counter, requestTimeoutMs: this.requestTimeoutMs(), list: (s) => this.list(s) });
    return { model, contextWindow: lm.maxInputTokens, counter };
  }

  async list(_signal?: AbortSignal): Promise<string[]> {
    return (await vscode.lm.selectChatModels()).map((m) => m.id);
  }

  /** A chat model for one request's own model (the Chat view's picker), guarded and timed like ours. */
  forRequest(lm: vscode.LanguageModelChat): LmChatModel {
    return new LmChatModel(lm, { requestTimeoutMs: this.requestTimeoutMs(), list: (s) => this.list(s) });
  }
}
