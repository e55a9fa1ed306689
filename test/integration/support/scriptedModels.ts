/**
 * A chat-model provider the companion test extension registers in the real editor
 * (`vscode.lm.registerLanguageModelChatProvider`), so MemGPT's "vscode-lm" model source and the
 * @memgpt chat participant run against VS Code's real Language Model API without Copilot.
 * Replies come from a queue of scripted steps (text and tool calls); every request is recorded
 * as the provider received it, and token counts are a fixed 1 token per 3 characters.
 * Registered only when a test asks (so other scenarios see no models).
 */
import * as vscode from 'vscode';
import { SCRIPTED_FAMILY, SCRIPTED_MODEL_ID, SCRIPTED_VENDOR } from './echoCommand';

export type ScriptedPart = { text: string } | { toolCall: { name: string; input: Record<string, unknown>; callId?: string } };

/** What the provider saw of one request. */
export interface ScriptedRequest {
  messages: {
    role: 'user' | 'assistant';
    parts: (
      | { kind: 'text'; value: string }
      | { kind: 'toolCall'; callId: string; name: string }
      | { kind: 'toolResult'; callId: string; text: string }
    )[];
  }[];
  tools: { name: string; required: string[] }[];
}

export interface ScriptedModels {
  enqueue(...steps: ScriptedPart[][]): void;
  readonly requests: ScriptedRequest[];
  /** countTokens calls received. */
  readonly tokenCounts: number;
  /** When the queue is empty: this step (default: a send_message naming what was asked, citing src/search.ts:1-3). */
  fallback: ((request: ScriptedRequest) => ScriptedPart[]) | undefined;
  dispose(): void;
}

function textOf(value: string | vscode.LanguageModelChatRequestMessage): string {
  if (typeof value === 'string') return value;
  return value.content
    .map((p) => {
      if (p instanceof vscode.LanguageModelTextPart) return p.value;
      if (p instanceof vscode.LanguageModelToolCallPart) return `${p.name}${JSON.stringify(p.input)}`;
      if (p instanceof vscode.LanguageModelToolResultPart)
        return p.content.map((c) => (c instanceof vscode.LanguageModelTextPart ? c.value : '')).join('');
      return '';
    })
    .join('');
}

function record(
  messages: readonly vscode.LanguageModelChatRequestMessage[],
  options: vscode.ProvideLanguageModelChatResponseOptions,
): ScriptedRequest {
  return {
    messages: messages.map((m) => ({
      role: m.role === vscode.LanguageModelChatMessageRole.Assistant ? 'assistant' : 'user',
      parts: m.content.flatMap((p): ScriptedRequest['messages'][number]['parts'] => {
        if (p instanceof vscode.LanguageModelTextPart) return [{ kind: 'text', value: p.value }];
        if (p instanceof vscode.LanguageModelToolCallPart) return [{ kind: 'toolCall', callId: p.callId, name: p.name }];
        if (p instanceof vscode.LanguageModelToolResultPart) {
          return [
            {
              kind: 'toolResult',
              callId: p.callId,
              text: p.content.map((c) => (c instanceof vscode.LanguageModelTextPart ? c.value : '')).join(''),
            },
          ];
        }
        return [];
      }),
    })),
    tools: (options.tools ?? []).map((t) => ({
      name: t.name,
      required: ((t.inputSchema as { required?: string[] } | undefined)?.required ?? []).slice(),
    })),
  };
}

/** The newest user text of a request (what was asked). */
export function lastUserText(request: ScriptedRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const m = request.messages[i]!;
    if (m.role !== 'user') continue;
    const texts = m.parts.filter((p): p is { kind: 'text'; value: string } => p.kind === 'text');
    if (texts.length > 0) return texts[texts.length - 1]!.value;
  }
  return '';
}

export function registerScriptedModels(maxInputTokens = 32_000): ScriptedModels {
  const queue: ScriptedPart[][] = [];
  const requests: ScriptedRequest[] = [];
  let tokenCounts = 0;
  let calls = 0;
  const models: ScriptedModels = {
    enqueue: (...steps) => void queue.push(...steps),
    requests,
    get tokenCounts() {
      return tokenCounts;
    },
    fallback: undefined,
    dispose: () => registration.dispose(),
  };
  const info: vscode.LanguageModelChatInformation = {
    id: SCRIPTED_MODEL_ID,
    name: 'Scripted Model',
    family: SCRIPTED_FAMILY,
    version: '1',
    maxInputTokens,
    maxOutputTokens: 4_096,
    capabilities: { toolCalling: true },
  };
  const registration = vscode.lm.registerLanguageModelChatProvider(SCRIPTED_VENDOR, {
    provideLanguageModelChatInformation: () => [info],
    async provideLanguageModelChatResponse(_model, messages, options, progress, token) {
      const request = record(messages, options);
      requests.push(request);
      const step: ScriptedPart[] = queue.shift() ??
        models.fallback?.(request) ?? [
          {
            toolCall: {
              name: 'send_message',
              input: { message: `Scripted answer to: ${lastUserText(request).slice(0, 200)} The search is in src/search.ts:1-3.` },
            },
          },
        ];
      for (const part of step) {
        if (token.isCancellationRequested) return;
        if ('text' in part) progress.report(new vscode.LanguageModelTextPart(part.text));
        else
          progress.report(
            new vscode.LanguageModelToolCallPart(part.toolCall.callId ?? `scripted_${++calls}`, part.toolCall.name, part.toolCall.input),
          );
      }
    },
    async provideTokenCount(_model, text) {
      tokenCounts++;
      return Math.ceil(textOf(text).length / 3);
    },
  });
  return models;
}
