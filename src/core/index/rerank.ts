/**
 * An optional second opinion on a search: the configured chat model reads the question and the
 * first hits (each cut to a short excerpt) and answers with their numbers, best first. The search
 * keeps its own order whenever the model is slow, fails, or answers something that is not a
 * ranking: a rerank may improve an answer, never cost one.
 */
import { errorMessage } from '../base/errors';
import type { ChatMessage, ChatModel } from '../interfaces/chatModel';
import { RERANK_ANSWER_MAX_CHARS, RERANK_EXCERPT_CHARS, RERANK_TIMEOUT_MS, RERANK_TOP } from '../limits';
import { maskSecrets } from '../security/redact';

/** What the model is shown of one hit. */
export interface RerankCandidate {
  path?: string;
  startLine?: number;
  endLine?: number;
  text: string;
}

export type RerankOutcome =
  /** `order` holds every candidate index once: the model's choices first, then the rest in the search's order. */
  | { reranked: true; order: number[] }
  | { reranked: false; order: number[]; reason: 'timeout' | 'error' | 'unreadable' | 'too_few'; detail: string };

export interface RerankOptions {
  model: ChatModel;
  /** Default RERANK_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The caller's cancel (Stop, Ctrl+C): propagates, unlike a timeout. */
  signal?: AbortSignal;
}

const INSTRUCTIONS =
  'You rank code search results. Read the question and the numbered passages, then reply with the numbers of the passages ' +
  'that help answer the question, most useful first, as a JSON array of numbers such as [3, 1, 7]. ' +
  'Leave out passages that do not help. Reply with the array only.';

/** The request: the question and each candidate as `[n] path:lines` over its excerpt. */
export function rerankMessages(query: string, candidates: readonly RerankCandidate[]): ChatMessage[] {
  const blocks = candidates.map((c, i) => {
    const where = c.path ? `${c.path}${c.startLine !== undefined ? `:${c.startLine}-${c.endLine ?? c.startLine}` : ''}` : 'remembered item';
    const text = c.text.length > RERANK_EXCERPT_CHARS ? `${c.text.slice(0, RERANK_EXCERPT_CHARS)}…` : c.text;
    return `[${i + 1}] ${where}\n${text}`;
  });
  // Chunk texts are stored secret-free; masking again costs little and covers remembered items and the question.
  const user = maskSecrets(`Question: ${query}\n\nPassages:\n\n${blocks.join('\n\n')}\n\nThe numbers, most useful first, as a JSON array:`);
  return [
    { role: 'system', content: INSTRUCTIONS },
    { role: 'user', content: user },
  ];
}

/**
 * The candidate indexes (0-based) a model's answer names, in its order, each once; undefined when
 * the answer names none. Reads a JSON array when there is one (the last, after any reasoning),
 * else the numbers in brackets ("[3] then [1]"), else the numbers in the text ("3, 1, 7");
 * numbers outside 1..count are ignored rather than trusted.
 */
export function parseRanking(answer: string, count: number): number[] | undefined {
  const text = answer.slice(0, RERANK_ANSWER_MAX_CHARS).replace(/<think>[\s\S]*?<\/think>/gi, ' ');
  // A list written as an array wins (the last one: models reason before they answer); else numbers
  // in brackets ("1. [3]" names passage 3, not 1); else every number in the text.
  const lists = [...text.matchAll(/\[\s*\d+(?:\s*,\s*\d+)+\s*,?\s*\]/g)];
  const bracketed = [...text.matchAll(/\[\s*(\d+)\s*\]/g)].map((m) => m[1]!);
  const source = lists.length > 0 ? lists[lists.length - 1]![0] : bracketed.length > 0 ? bracketed.join(' ') : text;
  const seen = new Set<number>();
  const order: number[] = [];
  for (const m of source.matchAll(/\d+/g)) {
    const n = Number(m[0]);
    if (!Number.isInteger(n) || n < 1 || n > count || seen.has(n)) continue;
    seen.add(n);
    order.push(n - 1);
  }
  return order.length > 0 ? order : undefined;
}

/** Every index once: the named ones first, then the others in their first order. */
function complete(named: readonly number[], count: number): number[] {
  const rest: number[] = [];
  const chosen = new Set(named);
  for (let i = 0; i < count; i++) if (!chosen.has(i)) rest.push(i);
  return [...named, ...rest];
}

/**
 * Asks `options.model` to order the first RERANK_TOP candidates; the rest keep their place after
 * them. Resolves with the search's own order (and why) on a timeout, a model error or an
 * unreadable answer; rejects only when the caller's signal aborts.
 */
export async function rerank(query: string, candidates: readonly RerankCandidate[], options: RerankOptions): Promise<RerankOutcome> {
  const identity = candidates.map((_, i) => i);
  const top = Math.min(RERANK_TOP, candidates.length);
  if (top < 2) return { reranked: false, order: identity, reason: 'too_few', detail: `${candidates.length} result(s): nothing to reorder` };
  const timeoutMs = options.timeoutMs ?? RERANK_TIMEOUT_MS;
  const controller = new AbortController();
  const relay = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', relay, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`the rerank took longer than ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    options.signal?.throwIfAborted();
    const response = await options.model.complete({
      messages: rerankMessages(query, candidates.slice(0, top)),
      tools: [],
      signal: controller.signal,
    });
    const named = parseRanking(response.content ?? '', top);
    if (!named) {
      const said = (response.content ?? '').trim().slice(0, 120);
      return { reranked: false, order: identity, reason: 'unreadable', detail: `the model's answer named no result: "${said}"` };
    }
    return { reranked: true, order: [...complete(named, top), ...identity.slice(top)] };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (timedOut) return { reranked: false, order: identity, reason: 'timeout', detail: `no answer within ${timeoutMs} ms` };
    return { reranked: false, order: identity, reason: 'error', detail: errorMessage(error) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', relay);
  }
}
