/**
 * Turns whatever the `openai` SDK, fetch or the server threw into a
 * ChatModelError with a kind the agent can act on and a message the user can
 * act on (what happened, why, what to do), and decides whether a retry may help.
 */
import OpenAI from 'openai';
import { ChatModelError, type ChatModelErrorKind } from '../interfaces/chatModel';
import { LLM_SERVER_MESSAGE_MAX_CHARS } from '../limits';
import { errorMessage } from '../base/errors';
import { MemgptError } from '../base/errors';

export interface ErrorContext {
  baseUrl: string;
  model: string;
  /** Our own request timer fired. */
  timedOut?: boolean;
  timeoutMs?: number;
  /** The caller's signal was aborted. */
  aborted?: boolean;
  /** Which API the server should speak, for the hints (default: OpenAI-compatible). */
  api?: 'openai' | 'anthropic';
}

/**
 * An HTTP error answer read with plain `fetch` (the Anthropic client): the status, headers and
 * body the classifier otherwise reads from the `openai` SDK's APIError, so both clients share
 * one set of rules and words.
 */
export class HttpStatusError extends MemgptError {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Headers,
  ) {
    super('http_status', `${status} ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  }
}

/** What the classifier needs of an HTTP error, from either client. */
interface HttpFailure {
  status: number;
  body: unknown;
  headers: Headers | undefined;
  code?: unknown;
  type?: unknown;
  message: string;
}

function httpFailure(err: unknown): HttpFailure | null {
  if (err instanceof HttpStatusError) return { status: err.status, body: err.body, headers: err.headers, message: err.message };
  if (err instanceof OpenAI.APIError && err.status !== undefined) {
    return { status: err.status, body: err.error, headers: err.headers, code: err.code, type: err.type, message: err.message };
  }
  return null;
}

/** A classified error plus what the retry loop needs to know. */
export interface ClassifiedError {
  error: ChatModelError;
  retryable: boolean;
  /** Server-requested wait (Retry-After / retry-after-ms), in ms. */
  retryAfterMs?: number;
}

/**
 * How servers word "the prompt is longer than the context window":
 * OpenAI/vLLM ("maximum context length is"), llama.cpp ("exceeds the available
 * context size", type exceed_context_size_error), LM Studio ("context the
 * overflows", "Reached context length"), Ollama with truncation off ("input
 * length exceeds the context length"), llama-cpp-python ("exceed context
 * window"), vLLM's newer "is too long to fit into the model", and the generic
 * phrasings proxies use.
 */
const CONTEXT_LENGTH_PATTERNS: readonly RegExp[] = [
  /context_length_exceeded/i,
  /exceed_context_size_error/i,
  /maximum context length/i,
  /exceeds? the (?:available )?context (?:size|length|window)/i,
  /context (?:the )?overflows/i,
  /reached context length/i,
  /input length exceeds the context length/i,
  /exceeds? (?:the )?context window/i,
  /too long to fit into the model/i,
  /(?:prompt|input) (?:is )?too long/i,
  /context length exceeded/i,
  /context window (?:is )?(?:full|exceeded)/i,
  /too many tokens/i,
  // Anthropic: "input length and `max_tokens` exceed context limit: 198000 + 4096 > 200000".
  /exceed context limit/i,
  /reduce the length of the messages/i,
];

export function isContextLengthMessage(text: string): boolean {
  return CONTEXT_LENGTH_PATTERNS.some((p) => p.test(text));
}

/** Hints for the usual local servers by their default port. */
function startHint(baseUrl: string): string {
  let port = '';
  try {
    const u = new URL(baseUrl);
    port = u.port || (u.protocol === 'https:' ? '443' : '80');
  } catch {
    return 'Check MemGPT: Base URL.';
  }
  switch (port) {
    case '11434':
      return 'Is Ollama running? Start it with `ollama serve`, or change MemGPT: Base URL.';
    case '1234':
      return "Is LM Studio's server running? Start it in LM Studio (Developer → Start Server), or change MemGPT: Base URL.";
    case '8080':
      return 'Is llama.cpp running? Start it with `llama-server -m <model.gguf>`, or change MemGPT: Base URL.';
    case '8000':
      return 'Is vLLM running? Start it with `vllm serve <model>`, or change MemGPT: Base URL.';
    default:
      return 'Is the server running? Start it, or change MemGPT: Base URL.';
  }
}

function clip(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > LLM_SERVER_MESSAGE_MAX_CHARS ? `${one.slice(0, LLM_SERVER_MESSAGE_MAX_CHARS)}…` : one;
}

/** Every text the server put in its error body (message, type, code, or a bare string). */
function serverText(err: HttpFailure): string {
  const parts: string[] = [];
  const body: unknown = err.body;
  const collect = (v: unknown) => {
    if (typeof v === 'string') parts.push(v);
    else if (typeof v === 'number') parts.push(String(v));
  };
  if (typeof body === 'string') parts.push(body);
  else if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    collect(record.message);
    collect(record.type);
    collect(record.code);
    const nested = record.error;
    if (typeof nested === 'string') parts.push(nested);
    else if (nested && typeof nested === 'object') {
      const n = nested as Record<string, unknown>;
      collect(n.message);
      collect(n.type);
      collect(n.code);
    }
  }
  collect(err.code);
  collect(err.type);
  if (parts.length === 0) parts.push(err.message);
  return parts.join(' | ');
}

/** The server's human-readable message, without the SDK's "400 " prefix. */
function serverMessage(err: HttpFailure): string {
  const body: unknown = err.body;
  if (typeof body === 'string') return clip(body);
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    if (typeof record.message === 'string') return clip(record.message);
    if (typeof record.error === 'string') return clip(record.error);
    if (record.error && typeof record.error === 'object') {
      const m = (record.error as Record<string, unknown>).message;
      if (typeof m === 'string') return clip(m);
    }
  }
  return clip(err.message.replace(/^\d{3}\s+/, ''));
}

/** "1.5 s", "30 s", "3600 s": whole seconds, except the fraction of a short time-out. */
export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 && !Number.isInteger(s) ? Number(s.toFixed(1)) : Math.round(s)} s`;
}

/** What a status that comes with Retry-After means, in a few words. */
function pauseReason(status: number | undefined): string {
  if (status === 429) return '429 rate limit';
  if (status === 503) return '503 unavailable';
  return status !== undefined ? `HTTP ${status}` : 'no reason given';
}

/**
 * The server asked for a longer pause than the step deadline has left. Said at once: sleeping
 * first would only delay the same failure, and "retrying" would not be true.
 */
export function waitBeyondDeadlineMessage(what: string, waitMs: number, status: number | undefined, deadlineMs: number): string {
  return (
    `${what} asked to wait ${seconds(waitMs)} (${pauseReason(status)}), longer than the ${seconds(deadlineMs)} deadline. ` +
    'Try again later, or raise MemGPT: Request Timeout.'
  );
}

/** Parses Retry-After (seconds or HTTP date) and OpenAI's retry-after-ms. */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    if (typeof code === 'string' && code.startsWith('UND_ERR')) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function make(kind: ChatModelErrorKind, message: string, retryable: boolean, status?: number, retryAfter?: number): ClassifiedError {
  const classified: ClassifiedError = { error: new ChatModelError(kind, message, status), retryable };
  if (retryAfter !== undefined) classified.retryAfterMs = retryAfter;
  return classified;
}

export function classifyError(err: unknown, ctx: ErrorContext): ClassifiedError {
  if (err instanceof ChatModelError) {
    return { error: err, retryable: err.kind === 'network' || err.kind === 'server' || err.kind === 'rate_limited' };
  }
  const where = ctx.baseUrl;
  if (ctx.aborted) return make('aborted', 'The request to the model was cancelled.', false);
  if (ctx.timedOut || err instanceof OpenAI.APIConnectionTimeoutError) {
    const within = ctx.timeoutMs !== undefined ? ` within ${seconds(ctx.timeoutMs)}` : '';
    return make(
      'timeout',
      `The model server at ${where} did not answer${within}. It may be overloaded or still loading the model '${ctx.model}'; try again in a moment, or raise MemGPT: Request Timeout if it needs longer.`,
      true,
    );
  }
  if (err instanceof OpenAI.APIUserAbortError) return make('aborted', 'The request to the model was cancelled.', false);

  const failure = httpFailure(err);
  if (failure) {
    const status = failure.status;
    const text = serverText(failure);
    const said = serverMessage(failure);
    const after = retryAfterMs(failure.headers);
    const anthropic = ctx.api === 'anthropic';
    // llama.cpp has answered context overflows with 500 as well as 400, so the wording decides first
    // (except on 429, where "tokens" talk is about per-minute quotas).
    if (status !== 429 && isContextLengthMessage(text)) {
      return make(
        'context_length',
        `The request is longer than the context window of '${ctx.model}' (${status}: ${said}). The agent will summarise older messages; if this keeps happening, lower MemGPT: Context Window.`,
        false,
        status,
      );
    }
    if (status === 401 || status === 403) {
      return make(
        'auth',
        anthropic
          ? `The API key was rejected (${status}) by ${where}: ${said}. Set a valid Anthropic key with MemGPT: Set API Key (or ANTHROPIC_API_KEY for the command line).`
          : `The API key was rejected (${status}) by ${where}: ${said}. Set a valid key with MemGPT: Set API Key (local servers need none: clear it).`,
        false,
        status,
      );
    }
    if (status === 404) {
      const pull = /pull/i.test(text) ? ` Download it with \`ollama pull ${ctx.model}\`, or pick another` : ' Pick one';
      const api = anthropic ? "Anthropic's Messages API (https://api.anthropic.com)" : 'an OpenAI-compatible API (it usually ends in /v1)';
      return make(
        'not_found',
        `Model '${ctx.model}' not found on ${where} (404: ${said}).${pull} with MemGPT: Select Model, and check that MemGPT: Base URL points at ${api}.`,
        false,
        status,
      );
    }
    if (status === 429) {
      if (/insufficient_quota|exceeded your current quota/i.test(text)) {
        return make(
          'rate_limited',
          `The account behind the API key has no quota left (429: ${said}). Check the plan and billing of the provider.`,
          false,
          status,
        );
      }
      // No promise of a retry here: whether one fits in the deadline is the retry loop's call.
      return make(
        'rate_limited',
        `The model server at ${where} is rate-limiting requests (429: ${said}). Try again in a moment.`,
        true,
        status,
        after,
      );
    }
    // Anthropic's "overloaded_error": the service is busy, not broken.
    if (status === 529) {
      return make('server', `The model server at ${where} is overloaded (529: ${said}). Try again in a moment.`, true, status, after);
    }
    if (status >= 500) {
      return make(
        'server',
        `The model server at ${where} failed (${status}: ${said}). It may be overloaded; try again in a moment.`,
        true,
        status,
        after,
      );
    }
    if (status === 408 || status === 409) {
      return make('server', `The model server at ${where} asked to retry (${status}: ${said}).`, true, status, after);
    }
    if (/does not support tools|tools? (?:are|is) not supported|tool_choice/i.test(text)) {
      return make(
        'bad_response',
        `Model '${ctx.model}' cannot call functions (${status}: ${said}). MemGPT needs a model with tool calling (e.g. llama3.1, qwen2.5, gpt-4o-mini); pick one with MemGPT: Select Model.`,
        false,
        status,
      );
    }
    return make('bad_response', `The model server at ${where} rejected the request (${status}: ${said}).`, false, status);
  }

  if (err instanceof SyntaxError || (err instanceof Error && /malformed|could not parse/i.test(err.message))) {
    return make(
      'bad_response',
      `The model server at ${where} sent a malformed streaming response (${clip(err.message)}). It may not be fully ${ctx.api === 'anthropic' ? "compatible with Anthropic's Messages API" : 'OpenAI-compatible'}; try another server or model.`,
      false,
    );
  }

  const code = networkCode(err);
  switch (code) {
    case 'ECONNREFUSED':
      return make('network', `The model server at ${where} refused the connection. ${startHint(where)}`, true);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make('network', `The host of ${where} could not be found (${code}). Check MemGPT: Base URL and the network connection.`, true);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return make(
        'network',
        `The model server at ${where} closed the connection mid-request (${code}). It may have crashed or restarted; try again.`,
        true,
      );
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return make(
        'timeout',
        `Connecting to the model server at ${where} timed out (${code}). Check MemGPT: Base URL and the network connection.`,
        true,
      );
  }
  const message = errorMessage(err);
  if (err instanceof OpenAI.APIConnectionError || /fetch failed|terminated|socket|network/i.test(message)) {
    return make(
      'network',
      `Could not reach the model server at ${where} (${clip(message)}${code ? `, ${code}` : ''}). ${startHint(where)}`,
      true,
    );
  }
  return make('bad_response', `Unexpected failure talking to the model server at ${where}: ${clip(message)}.`, false);
}
