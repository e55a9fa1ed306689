/**
 * Embeddings from any OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama,
 * LM Studio, vLLM, llama.cpp) through the real `openai` client.
 *
 * The vector dimension is part of the id (with the model and the server's host),
 * so an index is never fed vectors of another size or from another server.
 * `connect()` learns the dimension from one probe request unless it is configured.
 *
 * Requests follow the chat model's deadline rules: retries are ours (the SDK's are off), each try
 * waits `timeoutMs`, all tries and pauses fit in the deadline, and a Retry-After longer than what
 * is left fails at once with that cause. The SDK logs nothing; the error says what happened.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { Embedder } from '../interfaces/embedder';
import { EMBED_BATCH_SIZE, EMBED_MAX_INPUT_CHARS, LLM_DEADLINE_TIMEOUTS, LLM_MAX_RETRIES, LLM_REQUEST_TIMEOUT_MS } from '../limits';
import { retryAfterMs, seconds, waitBeyondDeadlineMessage } from '../llm/chatModelErrors';
import { retryDelayMs } from '../llm/openaiChatModel';

export interface OpenAIEmbedderOptions {
  /** e.g. `http://127.0.0.1:11434/v1`; empty: `https://api.openai.com/v1`. */
  baseUrl?: string;
  apiKey?: string;
  model: string;
  /** Known dimension (or the `dimensions` to request from models that support it). */
  dimensions?: number;
  /** Send `dimensions` in each request (text-embedding-3 models shorten their vectors). */
  requestDimensions?: boolean;
  batchSize?: number;
  /** Retries after the first try (default LLM_MAX_RETRIES). */
  maxRetries?: number;
  /** How long one try waits for the answer (memgpt.requestTimeoutSeconds); the deadline is LLM_DEADLINE_TIMEOUTS of these. */
  timeoutMs?: number;
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly baseUrl: string;
  private readonly model: string;
  private readonly batchSize: number;
  private readonly requestDimensions: boolean;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;

  private constructor(options: OpenAIEmbedderOptions, dimensions: number, client: OpenAI) {
    this.baseUrl = options.baseUrl || DEFAULT_BASE_URL;
    this.model = options.model;
    this.dimensions = dimensions;
    this.client = client;
    this.batchSize = Math.max(1, options.batchSize ?? EMBED_BATCH_SIZE);
    this.requestDimensions = options.requestDimensions ?? false;
    this.maxRetries = Math.max(0, options.maxRetries ?? LLM_MAX_RETRIES);
    this.timeoutMs = options.timeoutMs ?? LLM_REQUEST_TIMEOUT_MS;
    let host: string;
    try {
      host = new URL(this.baseUrl).host;
    } catch {
      host = this.baseUrl;
    }
    this.id = `openai:${options.model}:${dimensions}@${host}`;
  }

  /**
   * Builds the embedder; without `dimensions` it embeds one probe text to learn them.
   * Throws an actionable error if the endpoint cannot be reached or refuses.
   */
  static async connect(options: OpenAIEmbedderOptions, signal?: AbortSignal): Promise<OpenAIEmbedder> {
    if (!options.model || options.model.trim() === '') {
      throw new Error(
        'No embeddings model is configured. Set the embeddings model name (e.g. `text-embedding-3-small`, or `nomic-embed-text` on Ollama).',
      );
    }
    const baseUrl = options.baseUrl || DEFAULT_BASE_URL;
    try {
      new URL(baseUrl);
    } catch {
      throw new Error(`The embeddings base URL "${baseUrl}" is not a URL. Use a full URL such as http://127.0.0.1:11434/v1.`);
    }
    const client = new OpenAI({
      baseURL: baseUrl,
      // Local servers need no key, but the client insists on one.
      apiKey: options.apiKey || 'no-key',
      // Our loop retries within the deadline; the SDK's own retries would wait past it.
      maxRetries: 0,
      timeout: options.timeoutMs ?? LLM_REQUEST_TIMEOUT_MS,
      // Its console lines would stand beside our error; the error says it all.
      logLevel: 'off',
    });
    if (options.dimensions !== undefined) {
      if (!Number.isInteger(options.dimensions) || options.dimensions <= 0) {
        throw new Error(`Embedding dimensions must be a positive integer, got ${options.dimensions}.`);
      }
      return new OpenAIEmbedder(options, options.dimensions, client);
    }
    const probe = new OpenAIEmbedder(options, 0, client);
    const [vector] = await probe.request(['dimension probe'], signal);
    return new OpenAIEmbedder(options, vector!.length, client);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      signal?.throwIfAborted();
      const vectors = await this.request(texts.slice(i, i + this.batchSize), signal);
      for (const v of vectors) {
        if (this.dimensions !== 0 && v.length !== this.dimensions) {
          throw new Error(
            `The embeddings endpoint at ${this.baseUrl} returned ${v.length}-dimensional vectors for model "${this.model}", but this index holds ${this.dimensions}-dimensional ones. ` +
              'The server changed the model behind the name; restart indexing so a new index is built for it.',
          );
        }
        out.push(v);
      }
    }
    return out;
  }

  private async request(batch: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    // Empty inputs are rejected by several servers; over-long ones by all.
    const input = batch.map((t) => (t.length === 0 ? ' ' : t.length > EMBED_MAX_INPUT_CHARS ? t.slice(0, EMBED_MAX_INPUT_CHARS) : t));
    const response = await this.withRetries(
      (timeout) =>
        this.client.embeddings.create(
          {
            model: this.model,
            input,
            encoding_format: 'float',
            ...(this.requestDimensions && this.dimensions > 0 ? { dimensions: this.dimensions } : {}),
          },
          { timeout, ...(signal ? { signal } : {}) },
        ),
      signal,
    );
    const data = Array.isArray(response.data) ? response.data : [];
    if (data.length !== input.length) {
      throw new Error(
        `The embeddings endpoint at ${this.baseUrl} returned ${data.length} vectors for ${input.length} texts (model "${this.model}"). ` +
          'The server may not support batched input; try a batch size of 1.',
      );
    }
    const ordered = [...data].sort((a, b) => a.index - b.index);
    return ordered.map((d) => {
      const raw: unknown = d.embedding;
      if (!Array.isArray(raw) || raw.length === 0 || !raw.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new Error(
          `The embeddings endpoint at ${this.baseUrl} returned a malformed vector for model "${this.model}" (expected a list of numbers).`,
        );
      }
      return normalize(Float32Array.from(raw as number[]));
    });
  }

  /** One request, retried on failures a retry can fix, all within the deadline. */
  private async withRetries<T>(send: (timeoutMs: number) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const deadlineMs = this.timeoutMs * LLM_DEADLINE_TIMEOUTS;
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const tryMs = Math.max(1, Math.min(this.timeoutMs, deadline - Date.now()));
      try {
        return await send(tryMs);
      } catch (err) {
        if (signal?.aborted || !retryable(err) || attempt >= this.maxRetries) throw this.explain(err, attempt + 1, tryMs);
        const remaining = deadline - Date.now();
        const after = err instanceof APIError ? retryAfterMs(err.headers) : undefined;
        if (after !== undefined && after > remaining) {
          throw new Error(
            waitBeyondDeadlineMessage(
              `The embeddings endpoint at ${this.baseUrl}`,
              after,
              err instanceof APIError ? err.status : undefined,
              deadlineMs,
            ),
            { cause: err },
          );
        }
        const delay = retryDelayMs(attempt, after, Math.random);
        // After a time-out only a whole new try is worth it: a shorter one would likely time out too.
        if (delay + (err instanceof APIConnectionTimeoutError ? this.timeoutMs : 0) >= remaining)
          throw this.explain(err, attempt + 1, tryMs);
        await pause(delay, signal);
      }
    }
  }

  private explain(err: unknown, tries: number, waitedMs: number): Error {
    if (err instanceof APIUserAbortError) return err;
    if (err instanceof Error && err.name === 'AbortError') return err;
    if (err instanceof APIConnectionTimeoutError) {
      return new Error(
        `The embeddings endpoint at ${this.baseUrl} did not answer within ${seconds(waitedMs)}. It may be overloaded or still loading "${this.model}"; try again, or raise MemGPT: Request Timeout. Until then the local embedder is used.`,
        { cause: err },
      );
    }
    if (err instanceof APIConnectionError) {
      return new Error(
        `Could not reach the embeddings endpoint at ${this.baseUrl} (${err.message}). Is the server running? Start it, or change the embeddings base URL; until then the local embedder is used.`,
        { cause: err },
      );
    }
    if (err instanceof APIError) {
      const status = err.status;
      if (status === 401 || status === 403) {
        return new Error(
          `The embeddings endpoint at ${this.baseUrl} refused the API key (HTTP ${status}). Set a valid key with "MemGPT: Set API Key".`,
          { cause: err },
        );
      }
      if (status === 404) {
        return new Error(
          `The embeddings endpoint at ${this.baseUrl} does not know model "${this.model}" (HTTP 404). Check the embeddings model name (on Ollama: \`ollama pull ${this.model}\`).`,
          { cause: err },
        );
      }
      const tried = tries > 1 ? ` after ${tries} tries` : '';
      return new Error(
        `The embeddings endpoint at ${this.baseUrl} failed with HTTP ${status ?? '?'}${tried}: ${err.message}. Try again later.`,
        { cause: err },
      );
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Failures a later try may not meet: no connection, a time-out, rate limits, server errors. */
function retryable(err: unknown): boolean {
  if (err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError) return true;
  if (err instanceof APIError && err.status !== undefined)
    return err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
  return false;
}

/** A back-off that Stop ends at once (rejecting with an AbortError, as the SDK does). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException('The embeddings request was aborted.', 'AbortError'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DOMException('The embeddings request was aborted.', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** L2-normalises in place (servers differ on whether they do). */
function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}
