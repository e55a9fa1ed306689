/**
 * What the client knows about models by name: the context window and which
 * OpenAI tokenizer encoding fits. Names are matched by prefix after dropping a
 * vendor path ("openai/", "lmstudio-community/") and lower-casing, so dated
 * snapshots ("gpt-4o-2024-08-06") and Ollama tags ("qwen2.5-coder:7b") resolve
 * to their family. The longest matching prefix wins.
 *
 * For local servers the number is what the model was trained for; the server
 * may run it with less (Ollama's default num_ctx is a few thousand tokens), so
 * the "MemGPT: Context Window" setting (the `override`) always wins.
 */
import { DEFAULT_CONTEXT_WINDOW_TOKENS, MIN_CONTEXT_WINDOW_TOKENS } from '../limits';

export type TokenizerEncoding = 'o200k_base' | 'cl100k_base';

interface ModelFamily {
  prefix: string;
  contextWindow: number;
  encoding: TokenizerEncoding;
  /** True when the encoding is the model's own tokenizer, so counts are exact. */
  exactTokenizer: boolean;
}

const openai = (prefix: string, contextWindow: number, encoding: TokenizerEncoding): ModelFamily => ({
  prefix,
  contextWindow,
  encoding,
  exactTokenizer: true,
});
const local = (prefix: string, contextWindow: number): ModelFamily => ({
  prefix,
  contextWindow,
  encoding: 'cl100k_base',
  exactTokenizer: false,
});

const FAMILIES: readonly ModelFamily[] = [
  // Anthropic (Messages API): our tokenizer only approximates Claude's, like a local model's.
  local('claude', 200_000),
  // OpenAI
  openai('gpt-5', 272_000, 'o200k_base'), // input limit of the 400k window
  openai('gpt-4.1', 1_047_576, 'o200k_base'),
  openai('gpt-4.5', 128_000, 'o200k_base'),
  openai('gpt-4o', 128_000, 'o200k_base'),
  openai('chatgpt-4o', 128_000, 'o200k_base'),
  openai('gpt-4-turbo', 128_000, 'cl100k_base'),
  openai('gpt-4-1106', 128_000, 'cl100k_base'),
  openai('gpt-4-0125', 128_000, 'cl100k_base'),
  openai('gpt-4-32k', 32_768, 'cl100k_base'),
  openai('gpt-4', 8_192, 'cl100k_base'),
  openai('gpt-3.5-turbo-instruct', 4_096, 'cl100k_base'),
  openai('gpt-3.5', 16_385, 'cl100k_base'),
  openai('o1-mini', 128_000, 'o200k_base'),
  openai('o1-preview', 128_000, 'o200k_base'),
  openai('o1', 200_000, 'o200k_base'),
  openai('o3', 200_000, 'o200k_base'),
  openai('o4', 200_000, 'o200k_base'),
  { prefix: 'gpt-oss', contextWindow: 131_072, encoding: 'o200k_base', exactTokenizer: true },
  // Llama
  local('llama3.1', 131_072),
  local('llama3.2', 131_072),
  local('llama3.3', 131_072),
  local('llama-3.1', 131_072),
  local('llama-3.2', 131_072),
  local('llama-3.3', 131_072),
  local('meta-llama-3.1', 131_072),
  local('llama4', 131_072),
  local('llama3', 8_192),
  local('llama-3', 8_192),
  local('meta-llama-3', 8_192),
  local('llama2', 4_096),
  local('llama-2', 4_096),
  local('codellama', 16_384),
  // Qwen
  local('qwen3', 40_960),
  local('qwen2.5', 32_768),
  local('qwen2', 32_768),
  local('qwq', 131_072),
  local('qwen', 8_192),
  // Mistral
  local('mistral-nemo', 131_072),
  local('mistral-small', 32_768),
  local('mistral-large', 131_072),
  local('mistral', 32_768),
  local('mixtral', 32_768),
  local('codestral', 32_768),
  local('devstral', 131_072),
  local('ministral', 131_072),
  // DeepSeek
  local('deepseek-r1', 131_072),
  local('deepseek-v3', 131_072),
  local('deepseek-coder-v2', 163_840),
  local('deepseek-coder', 16_384),
  // Phi
  local('phi4', 16_384),
  local('phi-4', 16_384),
  local('phi3.5', 131_072),
  local('phi-3.5', 131_072),
  local('phi3', 4_096),
  local('phi-3', 4_096),
  // Gemma
  local('gemma3', 131_072),
  local('gemma-3', 131_072),
  local('gemma2', 8_192),
  local('gemma-2', 8_192),
  local('gemma', 8_192),
  local('codegemma', 8_192),
  // Others common on local servers
  local('starcoder2', 16_384),
  local('granite3', 131_072),
  local('granite-code', 8_192),
  local('command-r', 131_072),
  local('smollm2', 8_192),
  local('hermes3', 131_072),
];

/** Sorted once, longest prefix first, so the first match is the most specific. */
const BY_SPECIFICITY = [...FAMILIES].sort((a, b) => b.prefix.length - a.prefix.length);

/** Lower-cased name without a vendor path: "openai/GPT-4o" → "gpt-4o". */
export function normaliseModelName(model: string): string {
  const trimmed = model.trim().toLowerCase();
  const slash = trimmed.lastIndexOf('/');
  return slash >= 0 ? trimmed.slice(slash + 1) : trimmed;
}

function familyOf(model: string): ModelFamily | undefined {
  const name = normaliseModelName(model);
  return BY_SPECIFICITY.find((f) => name.startsWith(f.prefix));
}

/**
 * The context window in tokens: the override when given (> 0), else the known
 * family's, else DEFAULT_CONTEXT_WINDOW_TOKENS; never below MIN_CONTEXT_WINDOW_TOKENS.
 */
export function contextWindowFor(model: string, override?: number): number {
  const chosen =
    override !== undefined && Number.isFinite(override) && override > 0
      ? Math.floor(override)
      : (familyOf(model)?.contextWindow ?? DEFAULT_CONTEXT_WINDOW_TOKENS);
  return Math.max(MIN_CONTEXT_WINDOW_TOKENS, chosen);
}

/** True when the model is in the table (so its window is known, not defaulted). */
export function isKnownModel(model: string): boolean {
  return familyOf(model) !== undefined;
}

/** o200k for gpt-4o/4.1/4.5/5, o-series and gpt-oss; cl100k for everything else. */
export function tokenizerEncodingFor(model: string): TokenizerEncoding {
  return familyOf(model)?.encoding ?? 'cl100k_base';
}

/**
 * True when gpt-tokenizer counts exactly what the server will count; false for
 * local models, whose own tokenizers need the TOKENIZER_HEADROOM_FRACTION headroom.
 */
export function isExactTokenizer(model: string): boolean {
  return familyOf(model)?.exactTokenizer ?? false;
}

/** Reasoning models (o-series, gpt-5) reject any temperature but the default. */
export function acceptsTemperature(model: string): boolean {
  const name = normaliseModelName(model);
  return !/^(o1|o3|o4|gpt-5)/.test(name);
}
