/**
 * Counts the tokens of a chat request the way the server will see it, with
 * gpt-tokenizer. The encoding is imported lazily (building its tables costs
 * ~0.3–0.5 s), once per process, on the first createTokenCounter call.
 *
 * The count, per OpenAI's chat format (and gpt-tokenizer's encodeChat):
 *   every message: 3 tokens of framing (<|im_start|>, separator, <|im_end|>)
 *                  + the role + the content (+ the name if any);
 *   a tool call in an assistant message: its name + its arguments + 3;
 *   the reply priming (<|im_start|>assistant<|im_sep|>): 3.
 * Tool schemas are not sent as JSON: OpenAI renders them as a TypeScript-like
 * `namespace functions { type name = (_: { … }) => any; }` block inside the
 * system message. We render that block the same way and count it, plus 9
 * tokens of framing, minus 4 when there is a system message to merge into.
 * That is the widely used estimate (within a few tokens of what the API
 * reports); local servers render tools with their own chat templates, which is
 * why the context window keeps TOKENIZER_HEADROOM_FRACTION free for them.
 *
 * Counts are memoised twice: per message object (a WeakMap, checked against
 * the message's current content so a mutated message is recounted) and per
 * text (a bounded LRU), so a step with a full window and an unchanged queue
 * tokenises only what is new.
 */
import type { ChatMessage, JsonSchema, ToolSchema } from '../interfaces/chatModel';
import { TOKEN_COUNT_CACHE_ENTRIES, TOKEN_COUNT_RUN_SLICE_CHARS, TOKENIZER_HEADROOM_FRACTION } from '../limits';
import { isExactTokenizer, tokenizerEncodingFor, type TokenizerEncoding } from '../llm/knownModels';

export interface TokenCounter {
  readonly encoding: TokenizerEncoding;
  /** True when the encoding is the model's own, so counts need no headroom. */
  readonly exact: boolean;
  countText(text: string): number;
  /** One message including its chat-format framing and tool calls. */
  countMessage(message: ChatMessage): number;
  /** Messages plus the 3 tokens that prime the reply. */
  countMessages(messages: readonly ChatMessage[]): number;
  /** The tool schemas as the server renders them into the prompt (0 for none). */
  countTools(tools: readonly ToolSchema[]): number;
  /** The whole request: messages, tools, reply priming. */
  countRequest(messages: readonly ChatMessage[], tools: readonly ToolSchema[]): number;
  /** How many texts were actually tokenised vs answered from the memo (for tests and benchmarks). */
  cacheStats(): { tokenised: number; memoHits: number };
}

/** Framing tokens of one message: <|im_start|>, role separator, <|im_end|>. */
const MESSAGE_FRAMING_TOKENS = 3;
/** Framing of one tool call inside an assistant message. */
const TOOL_CALL_FRAMING_TOKENS = 3;
/** <|im_start|>assistant<|im_sep|> that primes the reply. */
const REPLY_PRIMING_TOKENS = 3;
/** Framing around the rendered `namespace functions` block. */
const TOOLS_FRAMING_TOKENS = 9;
/** Saved when the tools block merges into an existing system message. */
const TOOLS_SYSTEM_MERGE_DISCOUNT = 4;

/** Tokens plus the headroom kept for tokenizers other than OpenAI's. */
export function withHeadroom(tokens: number): number {
  return Math.ceil(tokens * (1 + TOKENIZER_HEADROOM_FRACTION));
}

type CountFn = (text: string) => number;

const encoders = new Map<TokenizerEncoding, Promise<CountFn>>();

/** Special-token strings in user text are counted as plain text, never rejected. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

function loadEncoder(encoding: TokenizerEncoding): Promise<CountFn> {
  let pending = encoders.get(encoding);
  if (!pending) {
    // Literal specifiers so bundlers include both encodings (and keep them lazy).
    pending = (encoding === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base')).then(
      (mod) => (text: string) => mod.countTokens(text, PLAIN_TEXT),
    );
    pending.catch(() => encoders.delete(encoding));
    encoders.set(encoding, pending);
  }
  return pending;
}

const LONG_RUN = new RegExp(`\\S{${TOKEN_COUNT_RUN_SLICE_CHARS},}`, 'g');

/**
 * BPE merges are quadratic in the length of one pre-tokenised word, and a run of letters or of
 * punctuation is one word: 50k "a"s take 1.6 s, 200k about 25 s, on the extension host's thread.
 * Such runs are counted in slices (at most one token of error per slice boundary); ordinary text,
 * code and base64 never contain them and are counted whole.
 */
function countWithoutLongRuns(text: string, count: CountFn): number {
  if (text.length < TOKEN_COUNT_RUN_SLICE_CHARS) return count(text);
  LONG_RUN.lastIndex = 0;
  if (!LONG_RUN.test(text)) return count(text);
  let total = 0;
  const rest = text.replace(LONG_RUN, (run) => {
    for (let i = 0; i < run.length; i += TOKEN_COUNT_RUN_SLICE_CHARS) total += count(run.slice(i, i + TOKEN_COUNT_RUN_SLICE_CHARS));
    return ' ';
  });
  return total + count(rest);
}

export async function createTokenCounter(model: string): Promise<TokenCounter> {
  const encoding = tokenizerEncodingFor(model);
  let count: CountFn;
  try {
    count = await loadEncoder(encoding);
  } catch (err) {
    throw new Error(
      `Could not load the ${encoding} tokenizer (gpt-tokenizer): ${(err as Error).message}. Reinstall the extension; token counts are needed to manage the context window.`,
    );
  }
  return new MemoisedTokenCounter(encoding, isExactTokenizer(model), count);
}

interface MessageMemo {
  role: string;
  content: string | null;
  toolCalls: unknown;
  tokens: number;
}

class MemoisedTokenCounter implements TokenCounter {
  private readonly texts = new Map<string, number>();
  private readonly messages = new WeakMap<ChatMessage, MessageMemo>();
  private readonly toolSets = new WeakMap<readonly ToolSchema[], { key: string; tokens: number }>();
  private tokenised = 0;
  private memoHits = 0;

  constructor(
    readonly encoding: TokenizerEncoding,
    readonly exact: boolean,
    private readonly count: CountFn,
  ) {}

  countText(text: string): number {
    if (text.length === 0) return 0;
    const cached = this.texts.get(text);
    if (cached !== undefined) {
      this.memoHits++;
      // Refresh recency: Map iteration order is insertion order.
      this.texts.delete(text);
      this.texts.set(text, cached);
      return cached;
    }
    const tokens = countWithoutLongRuns(text, this.count);
    this.tokenised++;
    this.texts.set(text, tokens);
    if (this.texts.size > TOKEN_COUNT_CACHE_ENTRIES) {
      const oldest = this.texts.keys().next().value;
      if (oldest !== undefined) this.texts.delete(oldest);
    }
    return tokens;
  }

  countMessage(message: ChatMessage): number {
    const content = message.content;
    const toolCalls = message.role === 'assistant' ? message.tool_calls : undefined;
    const memo = this.messages.get(message);
    if (memo && memo.role === message.role && memo.content === content && memo.toolCalls === toolCalls) {
      this.memoHits++;
      return memo.tokens;
    }
    let tokens = MESSAGE_FRAMING_TOKENS + this.countText(message.role) + this.countText(content ?? '');
    for (const call of toolCalls ?? []) {
      tokens += TOOL_CALL_FRAMING_TOKENS + this.countText(call.function.name) + this.countText(call.function.arguments);
    }
    this.messages.set(message, { role: message.role, content, toolCalls, tokens });
    return tokens;
  }

  cacheStats(): { tokenised: number; memoHits: number } {
    return { tokenised: this.tokenised, memoHits: this.memoHits };
  }

  countMessages(messages: readonly ChatMessage[]): number {
    let total = REPLY_PRIMING_TOKENS;
    for (const m of messages) total += this.countMessage(m);
    return total;
  }

  countTools(tools: readonly ToolSchema[]): number {
    if (tools.length === 0) return 0;
    const rendered = renderToolsForPrompt(tools);
    const memo = this.toolSets.get(tools);
    if (memo && memo.key === rendered) return memo.tokens;
    const tokens = this.countText(rendered) + TOOLS_FRAMING_TOKENS;
    this.toolSets.set(tools, { key: rendered, tokens });
    return tokens;
  }

  countRequest(messages: readonly ChatMessage[], tools: readonly ToolSchema[]): number {
    let total = this.countMessages(messages);
    if (tools.length > 0) {
      total += this.countTools(tools);
      if (messages.some((m) => m.role === 'system')) total -= TOOLS_SYSTEM_MERGE_DISCOUNT;
    }
    return total;
  }
}

/** The `namespace functions` block OpenAI renders tool schemas into. */
export function renderToolsForPrompt(tools: readonly ToolSchema[]): string {
  const lines = ['namespace functions {', ''];
  for (const { function: fn } of tools) {
    if (fn.description) lines.push(`// ${fn.description}`);
    const props = fn.parameters.properties;
    if (Object.keys(props).length === 0) {
      lines.push(`type ${fn.name} = () => any;`);
    } else {
      lines.push(`type ${fn.name} = (_: {`);
      lines.push(renderProperties(props, fn.parameters.required, 0));
      lines.push('}) => any;');
    }
    lines.push('');
  }
  lines.push('} // namespace functions');
  return lines.join('\n');
}

function renderProperties(props: Record<string, JsonSchema>, required: readonly string[], indent: number): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const [name, schema] of Object.entries(props)) {
    if (schema.description && indent < 2) lines.push(`${pad}// ${schema.description}`);
    lines.push(`${pad}${name}${required.includes(name) ? '' : '?'}: ${renderType(schema, indent)},`);
  }
  return lines.join('\n');
}

function renderType(schema: JsonSchema, indent: number): string {
  switch (schema.type) {
    case 'string':
      return schema.enum ? schema.enum.map((v) => JSON.stringify(v)).join(' | ') : 'string';
    case 'integer':
    case 'number':
      return schema.enum ? schema.enum.map(String).join(' | ') : 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return schema.items ? `${renderType(schema.items, indent)}[]` : 'any[]';
    case 'object':
      return '{}';
    default:
      return 'any';
  }
}
