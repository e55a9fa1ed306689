/**
 * Every limit and threshold of the core, named once. Modules import from here;
 * nothing else hard-codes these numbers. Settings may override the ones marked
 * "default"; the rest are invariants of the design.
 */

// --- Core memory (MemGPT: persona and human, 2000 chars each) ---
export const CORE_MEMORY_BLOCK_LIMIT_CHARS = 2000;
/** The project block holds what the agent learned of the codebase: a little more room. */
export const CORE_MEMORY_PROJECT_LIMIT_CHARS = 3000;

// --- Context window ---
/** Default fraction of the window at which the one-time memory-pressure alert fires. */
export const DEFAULT_MEMORY_PRESSURE_FRACTION = 0.75;
/** Fraction of the window at which the queue is flushed (summarised and evicted). */
export const FLUSH_FRACTION = 1.0;
/** Fraction of the message queue (by tokens) that a flush tries to evict. */
export const FLUSH_EVICT_FRACTION = 0.5;
/** Newest messages a flush always keeps in context. */
export const FLUSH_KEEP_NEWEST_MESSAGES = 3;
/** Headroom kept free for the reply and for tokenizers that count more than cl100k/o200k. */
export const TOKENIZER_HEADROOM_FRACTION = 0.1;
/** Tokens always reserved for the model's reply. */
export const REPLY_RESERVE_TOKENS = 512;
/** Smallest context window the agent accepts. */
export const MIN_CONTEXT_WINDOW_TOKENS = 2048;
/** Default context window when the model is not in the known-model table. */
export const DEFAULT_CONTEXT_WINDOW_TOKENS = 8192;

// --- Agent loop ---
/** Default number of model calls one event may chain (heartbeats + failures). */
export const DEFAULT_HEARTBEAT_STEP_LIMIT = 10;
/** Characters of a non-search function result before it is truncated with a visible note. */
export const FUNCTION_RESULT_MAX_CHARS = 6000;
/** Largest function-call argument string accepted before it is rejected as a failure. */
export const FUNCTION_ARGUMENTS_MAX_CHARS = 100_000;

// --- Paging (MemGPT page size: 5) ---
export const SEARCH_PAGE_SIZE = 5;

// --- Workspace functions (read-only) ---
export const READ_FILE_PAGE_LINES = 200;
export const READ_FILE_MAX_LINE_CHARS = 500;
export const LIST_FILES_PAGE_SIZE = 100;
export const TEXT_SEARCH_PAGE_SIZE = 20;
export const TEXT_SEARCH_MAX_FILE_BYTES = 1_000_000;

// --- LLM client ---
export const LLM_MAX_RETRIES = 4;
export const LLM_RETRY_BASE_DELAY_MS = 500;
export const LLM_RETRY_MAX_DELAY_MS = 30_000;
export const LLM_REQUEST_TIMEOUT_MS = 120_000;
export const DEFAULT_TEMPERATURE = 0.2;

// --- LLM client and token counting (owner: LLM engineer) ---
/** Characters of a server's own error text quoted inside our error messages. */
export const LLM_SERVER_MESSAGE_MAX_CHARS = 300;
/** Distinct texts whose token counts are remembered (content-keyed LRU). */
export const TOKEN_COUNT_CACHE_ENTRIES = 2048;
