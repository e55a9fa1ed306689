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

// --- Instruction files (AGENTS.md, CLAUDE.md, …: read-only rules from the repository) ---
/** Most characters of instruction files the system message shows, in any window. */
export const INSTRUCTION_FILES_MAX_CHARS = 16_000;
/** ...and at most this fraction of the context window (a 2048-token window must still hold a turn). */
export const INSTRUCTION_FILES_MAX_WINDOW_FRACTION = 0.1;
/** Bytes read of one instruction file; a longer file is shown cut anyway. */
export const INSTRUCTION_FILE_MAX_READ_BYTES = 256 * 1024;
/** Instruction files read per workspace (rule folders can hold many); the rest are named as left out. */
export const INSTRUCTION_FILES_MAX_COUNT = 32;
/** Folders walked from a root towards the active file looking for nested AGENTS.md files. */
export const INSTRUCTION_NESTED_MAX_DEPTH = 12;
/** Characters of a listed rule's description (the rule itself is read on request). */
export const INSTRUCTION_RULE_DESCRIPTION_MAX_CHARS = 160;

// --- Stale memories (remembered items citing path:start-end) ---
/** Remembered items whose citations are followed; the oldest stop being followed past this. */
export const CITATION_MAX_TRACKED_MEMORIES = 5000;
/** Citations followed per remembered item. */
export const CITATION_MAX_PER_MEMORY = 8;
/** Lines one citation may span and still be followed line by line (longer ranges are not followed). */
export const CITATION_MAX_LINES = 2000;
/** Largest file a citation is checked against (bigger files are not read to check staleness). */
export const CITATION_MAX_FILE_BYTES = 2_000_000;

// --- LLM client ---
export const LLM_MAX_RETRIES = 4;
export const LLM_RETRY_BASE_DELAY_MS = 500;
export const LLM_RETRY_MAX_DELAY_MS = 30_000;
/**
 * Default of memgpt.requestTimeoutSeconds: how long a model or embeddings request waits for the
 * server's first token, and, once a reply streams, for each next piece of it. Well under a
 * minute, so a server that never answers is reported, not waited on.
 */
export const LLM_REQUEST_TIMEOUT_MS = 30_000;
/** Bounds of memgpt.requestTimeoutSeconds (and --request-timeout). */
export const LLM_REQUEST_TIMEOUT_MIN_SECONDS = 1;
export const LLM_REQUEST_TIMEOUT_MAX_SECONDS = 3600;
/**
 * The step deadline is this many request time-outs (60 s by default): every try, back-off and
 * Retry-After pause before the reply starts must fit in it. A server that asks to wait longer
 * gets an immediate error that says so, not a sleep.
 */
export const LLM_DEADLINE_TIMEOUTS = 2;
/** One streamed reply is cut off after this long even while it keeps arriving: every wait is bounded. */
export const LLM_STREAM_MAX_MS = 10 * 60_000;
/** While nothing has arrived, a "waiting for the model" notice this often (a third of the time-out when that is shorter)... */
export const LLM_WAIT_NOTICE_INTERVAL_MS = 10_000;
/** ...but not more often than this. */
export const LLM_WAIT_NOTICE_MIN_INTERVAL_MS = 1_000;
export const DEFAULT_TEMPERATURE = 0.2;
/** Anthropic's Messages API requires a reply bound; a MemGPT step (monologue plus a function call) fits well within it. */
export const ANTHROPIC_MAX_OUTPUT_TOKENS = 4096;
/** The Messages API accepts at most this many `cache_control` breakpoints per request. */
export const ANTHROPIC_CACHE_BREAKPOINTS_MAX = 4;

// --- Workspace index and archival store ---
/** Files larger than this are not indexed (they are almost always generated or data). */
export const INDEX_MAX_FILE_BYTES = 1_000_000;
/** Bytes sniffed for a NUL byte to tell binary files from text. */
export const BINARY_SNIFF_BYTES = 8192;
/** Target size of one chunk in (approximate) tokens. */
export const CHUNK_TARGET_TOKENS = 300;
/** A chunk may grow to this size while looking for a blank line or declaration to cut at. */
export const CHUNK_MAX_TOKENS = 400;
/** Below this size a chunk is never cut, even at a good boundary. */
export const CHUNK_MIN_TOKENS = 120;
/** Tokens repeated from the end of one chunk at the start of the next. */
export const CHUNK_OVERLAP_TOKENS = 40;
/** Dimension of the local model-free embedder. */
export const LOCAL_EMBEDDER_DIMENSIONS = 384;
/** Texts per request to an embeddings endpoint. */
export const EMBED_BATCH_SIZE = 64;
/** Characters of one text sent to an embeddings endpoint (about 2k tokens: under every model's input limit). */
export const EMBED_MAX_INPUT_CHARS = 8000;
/** Tokens of one text a static (Model2Vec) model averages: Model2Vec's own default input length. */
export const MODEL2VEC_MAX_TOKENS = 512;
/** Distinct words whose token ids a tokenizer remembers (cleared when full). */
export const TOKENIZER_WORD_CACHE_SIZE = 100_000;
/** Largest local model file read into memory (the default model is ~30 MB; bigger ones exist, none near this). */
export const MODEL2VEC_MAX_FILE_BYTES = 1_073_741_824;
/** Largest JSON header a safetensors file may claim (the format's own limit is 100 MB). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;
/** A model download that receives no byte for this long is abandoned (a stalled connection, not a slow one). */
export const MODEL_DOWNLOAD_STALL_MS = 60_000;
/** Redirects a model download follows at most (Hugging Face answers with one, to its CDN). */
export const MODEL_DOWNLOAD_MAX_REDIRECTS = 5;
/** Chunks per Vectra shard: writing one (protobuf, texts kept outside) holds the event loop ~10-30 ms. */
export const SHARD_MAX_CHUNKS = 2048;
/** A shard with more than this fraction of deleted chunks is compacted at the next flush. */
export const SHARD_COMPACT_DEAD_FRACTION = 0.5;
/** Candidates each retriever (lexical, vector) contributes before fusion. */
export const SEARCH_CANDIDATES_PER_RETRIEVER = 60;
/** Merged results a search keeps at most (the pages the agent can walk). */
export const SEARCH_MAX_RESULTS = 50;
/** Adjacent chunks of one file merged into one hit at most (more would bury the match). */
export const SEARCH_MERGE_MAX_CHUNKS = 3;
/** Workspace prose (README, changelog) scores this fraction of code with the same match. */
export const PROSE_SCORE_FACTOR = 0.85;
/** Reciprocal-rank-fusion constant (Cormack et al.: 60). */
export const RRF_K = 60;
/** Hits a reranked search retrieves: the model orders the first RERANK_TOP of them, the search keeps its usual count. */
export const RERANK_CANDIDATES = 25;
/** Hits the chat model is shown to reorder (Continue's choice: retrieve 25, rerank 20, keep 5). */
export const RERANK_TOP = 20;
/** Characters of each hit the model reads: 20 of them stay near 3k tokens, within an 8k window. */
export const RERANK_EXCERPT_CHARS = 500;
/** The longest a rerank may take; past it the search answers in its own order (a rerank is never worth a stall). */
export const RERANK_TIMEOUT_MS = 10_000;
/** Characters of the model's answer read at most (a ranking of 20 numbers is short; a rambling model is cut). */
export const RERANK_ANSWER_MAX_CHARS = 4_000;
/** Characters of one search hit's text; longer merged ranges are cut with a note. */
export const SEARCH_HIT_MAX_CHARS = 2000;
/**
 * Files larger than this keep the line chunker: parsing is one synchronous call on the event loop
 * (tree-sitter in WebAssembly parsed 110 kB of TypeScript in 160-240 ms on a loaded 2-core machine).
 */
export const SYNTAX_MAX_FILE_BYTES = 100_000;
/** A parse still running after this long is cancelled and the file chunked by lines (a slow machine, a pathological file). */
export const SYNTAX_PARSE_MAX_MS = 150;
/** References (name and line) kept per file; a generated file would otherwise fill memory with them. */
export const SYMBOL_REFS_PER_FILE_MAX = 3_000;
/** Characters of a definition's signature kept in the symbol index. */
export const SYMBOL_SIGNATURE_MAX_CHARS = 160;
/** Definitions and references `find_symbol` and `memgpt symbols` return at most. */
export const SYMBOL_RESULTS_MAX = 40;
/** Definitions `file_outline` lists at most. */
export const FILE_OUTLINE_MAX_ENTRIES = 300;
/** The symbol log is rewritten once it holds this many times more lines than there are files. */
export const SYMBOL_LOG_COMPACT_FACTOR = 4;
/**
 * BM25F field weights (lexical.ts countChunkTerms): a term counts this many times in the chunk's
 * path, in the names it defines (and its scope), and in its comments (on top of their once in the
 * body). Chosen once from the usual BM25F practice (title-like fields 2-3×), not fitted to a set.
 */
export const LEXICAL_WEIGHT_PATH = 2;
export const LEXICAL_WEIGHT_SYMBOLS = 3;
export const LEXICAL_WEIGHT_COMMENTS = 1;
/** A hit that defines a name the query spells exactly (an identifier of the workspace) scores this many times more. */
export const SYMBOL_QUERY_BOOST = 1.5;
/**
 * Work slice of indexing between yields to the event loop. Well under the ~50 ms
 * budget: a garbage collection or a busy 2-core machine stretches a slice 2-4×.
 */
export const INDEX_YIELD_EVERY_MS = 8;
/** The catalog of content hashes is saved at least this often while indexing. */
export const CATALOG_SAVE_INTERVAL_MS = 2000;
/**
 * Vector search scores only the query's non-zero dimensions when they are at most
 * this fraction of all (the local embedder's short queries: ~5-10%); exact, ~10×
 * fewer multiplications than a dense scan. Denser queries use the dense kernel.
 */
export const SPARSE_QUERY_MAX_FRACTION = 0.25;
/**
 * Vector search scores on int8 codes first and keeps this many times the asked number of
 * candidates (at least VECTOR_RESCORE_MIN), then re-scores them on the exact floats: an int8
 * score is off by well under a percent, so the true top k is inside a pool four times larger.
 */
export const VECTOR_RESCORE_FACTOR = 4;
export const VECTOR_RESCORE_MIN = 64;
/**
 * Below this many chunks the dense path scans every vector (exact); at and above it, shards are
 * searched through the store-wide inverted lists (coarseLists.ts), trained in the background once
 * the shards hold this many rows.
 */
export const ANN_MIN_CHUNKS = 20_000;
/** k-means rounds for the store-wide lists, on a sample of at least IVF_KMEANS_SAMPLE rows. */
export const IVF_KMEANS_ITERATIONS = 6;
export const IVF_KMEANS_SAMPLE = 4096;
/** ... and of this many rows per list, so that every centroid is the mean of a few dozen rows. */
export const IVF_SAMPLE_PER_LIST = 24;
/** A list id is stored in 16 bits. */
export const IVF_MAX_LISTS = 65_535;
/**
 * The lists are trained again (new centroids, every shard re-assigned, the probe count measured
 * again) when the shards hold this many times the rows they were trained on: centroids trained on
 * a quarter of the data still partition it, but a list count of √n would be half what it should be.
 */
export const IVF_RETRAIN_GROWTH = 4;
/**
 * The probe count is measured again when the shards hold this many times the rows it was measured
 * on: how far a query's neighbours spread across the lists changes as subjects gain chunks, and a
 * measurement costs two passes over the codes where a retraining re-assigns every row.
 */
export const IVF_RECALIBRATE_GROWTH = 2;
/**
 * How many lists a query probes is measured when the lists are trained: sampled rows serve as
 * queries, and the probe count is the smallest that finds this fraction of their ten nearest
 * neighbours in the whole store (above the 0.95 asked of search, because the sample is small).
 */
export const IVF_CALIBRATION_RECALL = 0.98;
/** Rows used as queries for that measurement. */
export const IVF_CALIBRATION_QUERIES = 48;
/**
 * Lists whose measured probe count covers more than this fraction of the lists are not used: the
 * store is scanned whole, because rows read in order through the codes cost less than the same
 * rows reached through the lists (measured: 93% of the rows through lists took longer than all of
 * them in order).
 */
export const IVF_MAX_PROBE_FRACTION = 0.5;

// --- Team store: one shared index on PostgreSQL + pgvector (src/core/team) ---
/** Connecting to the shared store gives up after this: an unreachable server must never hold up chat. */
export const TEAM_CONNECT_TIMEOUT_MS = 3_000;
/** One query to the shared store gives up after this; search then falls back to the local index. */
export const TEAM_QUERY_TIMEOUT_MS = 5_000;
/** After the shared store failed, searches use the local index without trying it again for this long. */
export const TEAM_RETRY_AFTER_MS = 60_000;
/** Chunks sent to the server per INSERT while publishing (one round trip each). */
export const TEAM_PUBLISH_BATCH_CHUNKS = 500;
/** Live publishes (commits) kept per repository and embedder; older ones are dropped after a publish. */
export const TEAM_PUBLISH_KEEP_COMMITS = 10;
/** HNSW build parameters (pgvector's defaults): graph degree and build-time candidate list. */
export const TEAM_HNSW_M = 16;
export const TEAM_HNSW_EF_CONSTRUCTION = 64;
/** HNSW query-time candidate list; above SEARCH_CANDIDATES_PER_RETRIEVER so a full candidate list comes back. */
export const TEAM_HNSW_EF_SEARCH = 100;
/** With a path glob, each retriever fetches this many times its candidates and filters them here. */
export const TEAM_GLOB_OVERFETCH = 4;
/** Memory the server may use to build the HNSW index of one publish (a build that fits is several times faster). */
export const TEAM_MAINTENANCE_WORK_MEM = '256MB';
/** Distinct query terms sent to the full-text half (a pasted stack trace must not become a huge OR query). */
export const TEAM_QUERY_MAX_TERMS = 64;
/**
 * The lexical half first reads this many of each query term's highest-impact postings, and
 * TEAM_IMPACT_READ_GROWTH times more while the best chunks found cannot yet be proven the best of
 * all, until a round would cost more than reading all of them (TEAM_PROBE_COST).
 * Growing fourfold, the rounds before the last cost at most a third more than it.
 */
export const TEAM_IMPACT_FIRST_READ = 256;
export const TEAM_IMPACT_READ_GROWTH = 4;
/**
 * What scoring one candidate's posting through the (term, chunk) index costs, in postings read in
 * order: measured about 4 on PostgreSQL 15 and about 10 on PGlite. A round that would cost as much
 * as reading every posting of the query's terms is not made; they are read instead.
 */
export const TEAM_PROBE_COST = 8;
/** A git call that names the repository or the commit gives up after this. */
export const TEAM_GIT_TIMEOUT_MS = 10_000;

// --- Chat view and webview protocol ---
/** Longest user message the chat view accepts from the webview. */
export const CHAT_MESSAGE_MAX_CHARS = 100_000;
/** Longest code snippet the webview may ask to insert at the cursor or copy. */
export const CHAT_SNIPPET_MAX_CHARS = 1_000_000;
/** Longest workspace path a citation may name. */
export const CHAT_PATH_MAX_CHARS = 1024;
/** Highest line number a citation may name. */
export const CHAT_CITATION_MAX_LINE = 10_000_000;
/** Longest external URL the webview may ask the host to open. */
export const CHAT_URL_MAX_CHARS = 2048;
/** Longest API key, base URL or model name the setup card accepts. */
export const CHAT_SETUP_FIELD_MAX_CHARS = 512;
/** Longest agent id the picker may send. */
export const CHAT_AGENT_ID_MAX_CHARS = 200;
/** Recall records per history page (on load and on scroll to the top). */
export const CHAT_HISTORY_PAGE_SIZE = 40;
/** Largest history page the webview may ask for. */
export const CHAT_HISTORY_MAX_PAGE = 200;
/** Characters of a function result a card shows; the rest is cut with a visible note. */
export const CHAT_CARD_RESULT_MAX_CHARS = 8000;
/** Above this size a message is shown as plain text: markdown and highlighting cost too much. */
export const CHAT_MARKDOWN_MAX_CHARS = 100_000;
/** Pixels from the top of the conversation at which older history starts loading. */
export const CHAT_LOAD_OLDER_THRESHOLD_PX = 48;
/** How long the webview waits for the host to answer a request before showing an error. */
export const CHAT_REQUEST_TIMEOUT_MS = 60_000;
/** How long a probe of a local model server (Ollama, LM Studio) may take. */
export const CHAT_LOCAL_PROBE_TIMEOUT_MS = 1500;
/** Failed and stopped turns remembered per agent for the chat's restored history (the oldest go first). */
export const CHAT_TURN_OUTCOMES_KEPT = 100;
/** The chat's composer grows with its text up to this height (CSS pixels), then scrolls. */
export const CHAT_COMPOSER_MAX_HEIGHT_PX = 200;
/** Older history pages the chat loads at most to reach a message Search Memory opened. */
export const CHAT_REVEAL_MAX_PAGES = 25;
/** Recall records read per page when the chat counts the conversation's messages for the meter. */
export const CHAT_MESSAGE_COUNT_PAGE = 500;
/** How long a note about a chat action that did not work (Insert, a citation) stays before it fades. */
export const CHAT_ACTION_NOTE_MS = 8000;

// --- LLM client and token counting ---
/** Characters of a server's own error text quoted inside our error messages. */
export const LLM_SERVER_MESSAGE_MAX_CHARS = 300;
/** Distinct texts whose token counts are remembered (content-keyed LRU). */
export const TOKEN_COUNT_CACHE_ENTRIES = 2048;

// --- Storage and memory ---
/** A lock holder rewrites its timestamp this often, proving it is alive. */
export const LOCK_REFRESH_INTERVAL_MS = 30_000;
/** A lock not refreshed for this long is stale even if its pid exists (pid reuse, other hosts). */
export const LOCK_STALE_AFTER_MS = 5 * 60_000;
/** A takeover guard or unreadable lock file older than this was left by a crashed process. */
export const LOCK_TAKEOVER_GUARD_STALE_MS = 10_000;
/** Characters of the workspace-folder hash naming a storage folder. */
export const WORKSPACE_KEY_HEX_CHARS = 16;
/** Recall search: a query word this long or longer also matches longer words it starts (config → configuration). */
export const RECALL_PREFIX_MATCH_MIN_CHARS = 3;
/** Recall search: largest page a caller may ask for. */
export const RECALL_MAX_PAGE_SIZE = 100;
/** Recall: milliseconds of text indexing per event-loop turn while the index catches up after open. */
export const RECALL_INDEX_SLICE_MS = 12;
/** conversation_search ranks at most this many of the newest matching records: it bounds one search on a long history (the result says when it was reached). */
export const RECALL_RANK_MAX_CANDIDATES = 2000;
/** Recall index: records kept in the in-memory tail before it is written as a segment (in the background). */
export const RECALL_TAIL_FLUSH_DOCS = 4096;
/** Recall index: a segment never grows past this many records by merging; a rebuild cuts segments this size. */
export const RECALL_SEGMENT_MAX_DOCS = 262_144;
/** Recall index: a rebuild writes a segment every this many records (an in-memory tail of a full segment's size runs to gigabytes of heap); merges join them. */
export const RECALL_REBUILD_CUT_DOCS = 32_768;
/** Recall index: this many segments of one size class are merged into one (keeps a query's segment count logarithmic). */
export const RECALL_MERGE_FANIN = 8;
/** Recall index: dictionary keys per on-disk block (a lookup reads one block). */
export const RECALL_DICT_BLOCK_TERMS = 128;
/** Recall index: tool_call_id → function name pairs remembered (a result follows its call closely). */
export const RECALL_CALL_NAMES_KEPT = 2048;
/** Recall: records read from the log kept decoded (the newest messages are asked for again and again). */
export const RECALL_RECORD_CACHE = 512;
/** Recall phrase search: a word whose postings are this many times longer than the candidates so far is not read (the text check decides anyway). */
export const RECALL_NARROW_RATIO = 16;
/**
 * Recall phrase search: candidates checked against their text beyond those a page needs, so the
 * total is exact when there are few (past that it is an upper bound). A check reads and parses a
 * log record (about 35 µs at a million messages): 256 keep the count to about half of a 20 ms search.
 * Below RECALL_RECORD_CACHE, so the checked records (the page's among them) stay cached for the next page.
 */
export const RECALL_TEXT_CHECKS_FOR_TOTAL = 256;
/**
 * Recall search: after a page of word matches is complete, older sources are still read while
 * their postings add up to at most this many, so the total is exact whenever that is cheap (past
 * it the total is an upper bound). Decoding a posting was measured at about 45 ns on a busy
 * two-core machine: this is about 3 ms of a 20 ms search.
 */
export const RECALL_POSTINGS_FOR_TOTAL = 65_536;
/** Recall index: a merge of at least this many records runs in a worker thread (its garbage collections held the event loop); smaller ones are over in a few slices. */
export const RECALL_WORKER_MERGE_MIN_DOCS = 16_384;
/**
 * Recall index: a tail of at least this many records is written as a segment in a worker thread
 * (it is handed over as flat typed arrays). On this thread the keys' sort and the segment's
 * encoding allocate enough short-lived garbage that collections and long steps held the event
 * loop past 50 ms; a smaller tail is written here in a few slices, quicker than a thread's start.
 */
export const RECALL_WORKER_TAIL_MIN_DOCS = 1024;
/** Recall: a log at least this large is indexed in a worker thread when the index is built or rebuilt (a small one is quicker here than a thread's start). */
export const RECALL_WORKER_REBUILD_MIN_BYTES = 4 * 1024 * 1024;

// --- Agent loop, context window and functions ---
/** Windows this small get the short system instructions and short function descriptions. */
export const COMPACT_PROMPT_MAX_WINDOW_TOKENS = 4096;
/** A function result may use at most this fraction of the window (tiny windows get short results). */
export const FUNCTION_RESULT_MAX_WINDOW_FRACTION = 0.2;
/** Characters per token assumed when turning a token budget into a character budget (conservative for code). */
export const CHARS_PER_TOKEN_ESTIMATE = 3;
/**
 * A user message may take at most this share of the room the queue has (the flush threshold minus
 * the instructions and functions); a longer one reaches the model as its start and end with a note,
 * and recall keeps it whole.
 */
export const USER_MESSAGE_MAX_ROOM_FRACTION = 0.5;
/** Of what a cut user message shows, this share is its start (the request), the rest its end (the question). */
export const USER_MESSAGE_CUT_HEAD_FRACTION = 0.75;
/** The recursive summary is asked for (and cut to) at most this many tokens... */
export const SUMMARY_MAX_TOKENS = 600;
/** ...and at most this fraction of the window. */
export const SUMMARY_MAX_WINDOW_FRACTION = 0.1;
/** Flush rounds per check before the last resort (cutting the in-context copy of an oversized message). */
export const FLUSH_MAX_ROUNDS = 3;
/**
 * Function calls one model response may make; the rest are not run (the model is told). A small
 * model once answered with 150 calls, whose results alone overflowed the window for good.
 */
export const MAX_FUNCTION_CALLS_PER_RESPONSE = 16;
/** Longest interval memgpt.agent.timerHeartbeatMinutes accepts (a day); 0 turns the timed heartbeat off. */
export const TIMER_HEARTBEAT_MAX_MINUTES = 1440;
/** A function result of the running turn longer than this may be cut to a pointer to recall when the turn does not fit. */
export const TURN_RESULT_STUB_MIN_CHARS = 200;
/** Context windows are suggested in multiples of this (the minimum-window error rounds up to it). */
export const CONTEXT_WINDOW_SUGGESTION_STEP_TOKENS = 256;
/** Files larger than this are not read by read_file (paging would still have to read them whole). */
export const READ_FILE_MAX_BYTES = 5_000_000;
/** search_text stops collecting after this many matches (and says so). */
export const TEXT_SEARCH_MAX_MATCHES = 2000;
/** A file listing is reused for this long, so paging through list_files does not re-walk the tree. */
export const WORKSPACE_LISTING_CACHE_MS = 5000;
/** Longest /regex/ accepted by search_text (long patterns are the usual source of catastrophic backtracking). */
export const TEXT_SEARCH_MAX_REGEX_CHARS = 200;
/** search_text yields to the event loop after this much work, so the editor stays responsive. */
export const TEXT_SEARCH_SLICE_MS = 15;
/** search_text stops (reporting truncated) after this long on a huge tree. */
export const TEXT_SEARCH_MAX_MS = 10_000;

// --- Offline real-VS-Code test harness (used by test/harness, not by the product) ---
/** code-server must answer /healthz within this long after it was spawned. */
export const HARNESS_SERVER_READY_TIMEOUT_MS = 60_000;
/** The in-host mocha run must report back (codeAutomationExit) within this long, or the run fails as hung. */
export const HARNESS_IN_HOST_RUN_TIMEOUT_MS = 180_000;
/**
 * One UI scenario (Playwright against the workbench) must finish within this long: a net for a
 * hang, not a pace. Scenarios wait on what they see (readiness and progress) for each step; a
 * two-window scenario on a busy 2-core machine took 135 s.
 */
export const HARNESS_UI_SCENARIO_TIMEOUT_MS = 300_000;
/** Waiting for one thing to appear in the workbench (activity-bar item, webview, reply). */
export const HARNESS_UI_WAIT_MS = 45_000;
/** The command palette is closed and opened again when a command's row has not shown within this long. */
export const HARNESS_UI_PALETTE_RETRY_MS = 5_000;
/** After SIGTERM, the server's process group gets this long before SIGKILL. */
export const HARNESS_STOP_GRACE_MS = 3_000;
/** Default mocha time-out of one in-host integration test (a suite may raise it with this.timeout). */
export const HARNESS_IN_HOST_TEST_TIMEOUT_MS = 30_000;
/**
 * `npm test`: one unit or webview test (node --test) fails after this long instead of hanging the
 * run. Node applies it to each test FILE too (files run in their own process), so it is a hang net
 * sized for the longest file on a loaded machine: the CLI file spawns the built CLI ~40 times and
 * took 120 s beside a CPU-bound process while other work ran.
 */
export const HARNESS_NODE_TEST_TIMEOUT_MS = 300_000;
/** `npm test`: one step (unit, webview, integration) is stopped, with its whole process group, after this long. */
export const HARNESS_STEP_TIMEOUT_MS = 30 * 60_000;

// --- Editor integration: file events, selections, memory search ---
/** Quiet time after the last open/save before pending file events are handed to the agent. */
export const FILE_EVENT_DEBOUNCE_MS = 1500;
/** Longest a file event waits while the user keeps saving (debounce never starves delivery). */
export const FILE_EVENT_MAX_DELAY_MS = 10_000;
/** File events delivered one by one per flush; the rest are named in one combined system alert. */
export const FILE_EVENT_MAX_INPUTS_PER_FLUSH = 5;
/** Paths named in the combined alert at most; beyond that it says how many more. */
export const FILE_EVENT_MAX_PATHS_LISTED = 20;
/** Default idle time (no file events) before queued file events wake the agent ("wake" mode). */
export const DEFAULT_FILE_EVENT_IDLE_DELAY_MS = 30_000;
/** Wake-ups by file events per rolling hour; past it events only queue, so editing never floods the model. */
export const FILE_EVENT_WAKES_PER_HOUR = 6;
/** Quiet time after a save before that file is re-indexed (autosave fires on every pause in typing). */
export const REINDEX_ON_SAVE_DEBOUNCE_MS = 750;
/** Characters of a selection "Remember selection" stores; longer selections are cut with a message. */
export const REMEMBER_SELECTION_MAX_CHARS = 8000;
/** Characters of a selection "Ask about selection" quotes in the chat message. */
export const ASK_SELECTION_MAX_CHARS = 12_000;
/** Typing pause before "Search memory" runs a query. */
export const MEMORY_SEARCH_DEBOUNCE_MS = 250;
/** Results per source (recall, archival) shown by "Search memory". */
export const MEMORY_SEARCH_RESULTS_PER_SOURCE = 20;
/**
 * Search Memory lists a workspace chunk that shares no word with the query only when its score is
 * at least this share of the best workspace chunk's: the long tail of loosely related files
 * otherwise buries the real hits.
 */
export const MEMORY_SEARCH_WORKSPACE_RELATIVE_SCORE = 0.8;
/** At most this many such chunks (close in meaning, no word in common) are listed. */
export const MEMORY_SEARCH_WORKSPACE_SEMANTIC_MAX = 3;
/** Longest a command run before the workspace's memory is open waits for it; then it says so and returns. */
export const COMMAND_HANDLER_WAIT_MS = 60_000;
/** A command waiting that long for the memory to open shows a progress notification. */
export const COMMAND_HANDLER_PROGRESS_AFTER_MS = 500;
/** Characters of an exported agent file "Import agent" reads at most (a larger file is refused, not truncated). */
export const AGENT_IMPORT_MAX_BYTES = 200_000_000;

// --- Runtime (composition of agent, memory and index for one workspace) ---
/** Model used when none is configured and the server is OpenAI's own. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';
/** The model used with Anthropic's API when none is set (an alias that follows the newest snapshot). */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-5';
/** How long listing a server's models may take when resolving an empty model setting. */
export const MODEL_LIST_TIMEOUT_MS = 10_000;

// --- Command line (src/cli) ---
/** The terminal progress bar of `memgpt index` redraws at most this often. */
export const CLI_PROGRESS_REDRAW_MS = 100;
/** Results `memgpt search` prints when -k is not given. */
export const CLI_SEARCH_DEFAULT_RESULTS = 5;
/** Lines of each hit's text `memgpt search` prints (all of it with --json). */
export const CLI_SEARCH_EXCERPT_LINES = 6;
/** Characters of a function call's arguments or failure shown on stderr during `ask` and `chat`. */
export const CLI_CALL_PREVIEW_CHARS = 120;
/** Before a turn, the model server must answer `GET /models` within this long or it counts as unreachable (exit 4). */
export const CLI_SERVER_PROBE_TIMEOUT_MS = 10_000;
/**
 * Ollama runs a model with 4096 tokens of context unless OLLAMA_CONTEXT_LENGTH or the Modelfile
 * says otherwise (more only with ≥ 24 GiB VRAM), and silently drops the start of a longer prompt:
 * the system message with core memory. With no window set, that is the window we plan for.
 */
export const OLLAMA_DEFAULT_CONTEXT_TOKENS = 4096;
/** How long the one-time "is this Ollama?" probe (GET /api/version) may take. */
export const OLLAMA_PROBE_TIMEOUT_MS = 1500;
/** Runs of non-space characters longer than this are token-counted in slices of this size (BPE is quadratic in one word). */
export const TOKEN_COUNT_RUN_SLICE_CHARS = 1000;

// --- Memory tools for other assistants: MCP server and VS Code Language Model Tools (src/core/mcp) ---
/** Hits archival_memory_search returns when `k` is not given (the same default as `memgpt search`). */
export const MEMORY_TOOL_DEFAULT_RESULTS = 5;
/** Characters of one memory tool's text result; hits beyond their share are cut with a visible note. */
export const MEMORY_TOOL_RESULT_MAX_CHARS = 16_000;
/** Characters of a search query a memory tool accepts (a longer one is refused, not cut). */
export const MEMORY_TOOL_QUERY_MAX_CHARS = 2_000;
/** Characters of a note archival_memory_insert stores (a longer one is refused: another assistant can split it). */
export const MEMORY_TOOL_NOTE_MAX_CHARS = 8_000;

// --- Acting: edits, commands, approval, checkpoints (src/core/acting) ---
/** Files larger than this are not edited by edit_file or written by write_file (they are data, not code). */
export const EDIT_MAX_FILE_BYTES = 10_000_000;
/** Line numbers listed when old_string matches more than once (the count is always given). */
export const EDIT_MAX_LISTED_MATCHES = 20;
/** Closest candidate regions shown when old_string is not found. */
export const EDIT_CLOSEST_CANDIDATES = 3;
/** Lines of old_string compared when looking for the closest region (a longer old_string is judged by its start). */
export const EDIT_CLOSEST_MAX_PATTERN_LINES = 30;
/** File lines scanned for the closest region; past this the search stops and says so (a failure path must stay fast). */
export const EDIT_CLOSEST_MAX_SCAN_LINES = 200_000;
/** Characters of each line quoted in a not-found message. */
export const EDIT_CLOSEST_LINE_CHARS = 200;
/** Unchanged lines around each change in a unified diff (git's default). */
export const DIFF_CONTEXT_LINES = 3;
/**
 * Work budget of one Myers diff, in (lines compared × edit distance): past it the changed
 * region is shown as one replaced block. Keeps the diff of a huge rewrite under ~50 ms.
 */
export const DIFF_MAX_WORK = 20_000_000;
/** Edit distance a Myers diff explores at most, whatever the budget (its memory grows with the square: 2000 → ~16 MB). */
export const DIFF_MAX_EDIT_COST = 2_000;
/** Characters of a command run_command accepts. */
export const COMMAND_MAX_CHARS = 8_000;
/** Time-out of a command when the model gives none. */
export const COMMAND_DEFAULT_TIMEOUT_S = 120;
/** Longest time-out a command may ask for; a longer one is cut to this (and the result says so). */
export const COMMAND_MAX_TIMEOUT_S = 1_800;
/** After SIGTERM at a time-out or Stop, the command's process group gets this long before SIGKILL. */
export const COMMAND_KILL_GRACE_MS = 2_000;
/** After the command exits, how long its output pipes may stay open (a background child holding them) before we stop reading. */
export const COMMAND_DRAIN_MS = 500;
/** Bytes of output kept from the start of a command's output. */
export const COMMAND_OUTPUT_HEAD_BYTES = 8_000;
/** Bytes of output kept from the end of a command's output (errors and summaries are usually last). */
export const COMMAND_OUTPUT_TAIL_BYTES = 8_000;
/** Characters of a model-given path accepted at all. */
export const ACTING_MAX_PATH_CHARS = 4_096;
/** Bytes of all checkpoint blobs kept together; the oldest checkpoints are dropped to stay under it. */
export const CHECKPOINT_MAX_TOTAL_BYTES = 200_000_000;
/** Bytes of one file a checkpoint copies at most (larger files cannot be changed by the agent anyway). */
export const CHECKPOINT_MAX_FILE_BYTES = EDIT_MAX_FILE_BYTES;
/** Files one turn's checkpoint holds at most. */
export const CHECKPOINT_MAX_FILES_PER_TURN = 500;
/** Checkpoints kept; the oldest are dropped beyond this. */
export const CHECKPOINT_MAX_COUNT = 200;
/** How long after the agent writes a file a save of it is taken as the agent's own (not told back to it as the user's save). */
export const ACTING_OWN_SAVE_ECHO_MS = 5_000;
/** Characters of the diff an applied edit's result (and so its recall record) quotes; the rest is counted, not shown. */
export const ACTING_RESULT_DIFF_CHARS = 1_500;
/** Characters of a command's live output the chat card keeps while it runs (the result keeps head and tail). */
export const ACTING_CARD_OUTPUT_CHARS = 20_000;
/** Characters of a diff or proposed file the approval card receives (a longer diff is cut; "Open diff" shows all). */
export const ACTING_CARD_DIFF_CHARS = 100_000;
/** Characters of a reason the user gives for a rejection. */
export const ACTING_REASON_MAX_CHARS = 2_000;

// ─── The editor's own language models (vscode.lm) ────────────────────────────
/** Smallest and largest ratio "model's token count / our estimate" a calibration may reach (a wilder sample is a broken counter, not a tokenizer). */
export const LM_TOKEN_RATIO_MIN = 0.5;
export const LM_TOKEN_RATIO_MAX = 4;
/** Weight of each new countTokens sample in the running ratio (the rest is the ratios seen before). */
export const LM_TOKEN_CALIBRATION_WEIGHT = 0.3;
/** Requests smaller than this (our estimate) are not used to calibrate: framing would dominate the ratio. */
export const LM_TOKEN_CALIBRATION_MIN_TOKENS = 200;
/** How long counting a request with the model's own countTokens may take before the request is sent unchecked. */
export const LM_COUNT_TOKENS_TIMEOUT_MS = 5_000;
/** Messages whose model-side token counts are remembered between steps (the queue changes little from one step to the next). */
export const LM_COUNT_TOKENS_CACHE_ENTRIES = 2_000;
/** How long the chat's "Use VS Code's models" check waits for the editor to list its models. */
export const LM_SELECT_TIMEOUT_MS = 10_000;
/** Follow-up questions the @memgpt chat participant offers after an answer. */
export const CHAT_PARTICIPANT_FOLLOWUPS_MAX = 3;

// --- Core memory blocks the agent shapes, and memory shared between windows ---
/** The sum of every block's character limit: the agent's new blocks must fit in it (the three standard blocks take 7000). */
export const CORE_MEMORY_TOTAL_BUDGET_CHARS = 12_000;
/** Blocks core memory may hold at most (each one costs prompt tokens for its tags). */
export const CORE_MEMORY_MAX_BLOCKS = 10;
/** Smallest and largest character limit of one block the agent creates. */
export const CORE_MEMORY_MIN_BLOCK_LIMIT_CHARS = 100;
export const CORE_MEMORY_MAX_BLOCK_LIMIT_CHARS = 5000;
/** Longest description of a block (it is shown in the prompt on every step). */
export const CORE_MEMORY_DESCRIPTION_MAX_CHARS = 200;
/** A write of a shared memory file waits this long for another process's write to finish. */
export const SHARED_MEMORY_LOCK_TIMEOUT_MS = 5_000;
/** A lock on a shared memory file older than this is left over from a crashed process. */
export const SHARED_MEMORY_LOCK_STALE_MS = 30_000;

// ─── MCP servers the agent may call ──────────────────────────────────────────
/** How long starting one MCP server may take: spawn or connect, the MCP handshake and its tool list. */
export const MCP_CONNECT_TIMEOUT_MS = 20_000;
/** How long a turn waits for MCP servers still starting before it goes on without their tools. */
export const MCP_TURN_START_WAIT_MS = 5_000;
/** How long one MCP tool call may take before the agent is told the server did not answer. */
export const MCP_CALL_TIMEOUT_MS = 60_000;
/** How long stopping one server may take (stdin closed, then SIGTERM, then SIGKILL) before we stop waiting. */
export const MCP_STOP_TIMEOUT_MS = 5_000;
/** Times a server that stopped on its own is started again in one session before it stays stopped. */
export const MCP_MAX_RESTARTS = 2;
/** MCP functions offered to the model at most, all servers together: each schema costs context on every request. */
export const MCP_MAX_FUNCTIONS = 64;
/** Characters of one MCP tool description the model reads; longer ones are cut with an ellipsis. */
export const MCP_DESCRIPTION_MAX_CHARS = 1_024;
/** Characters of one MCP tool's input schema (as JSON); a tool with a larger schema is not offered. */
export const MCP_SCHEMA_MAX_CHARS = 8_000;
/** Longest function name model APIs accept (OpenAI and Anthropic: 64, letters, digits, _ and -). */
export const FUNCTION_NAME_MAX_CHARS = 64;
/** Characters of a server's stderr kept, to say why it stopped. */
export const MCP_STDERR_TAIL_CHARS = 2_000;
/** Bytes of .vscode/mcp.json read at most. */
export const MCP_CONFIG_MAX_BYTES = 256_000;
/** Characters of a tool call's arguments the approval card and the terminal show (the rest is counted). */
export const MCP_APPROVAL_ARGUMENTS_CHARS = 4_000;
/** Characters of an MCP tool result read from the server at most, before the usual per-result budget cuts it further. */
export const MCP_RESULT_MAX_CHARS = 200_000;

// ─── Reflection: a background pass that tidies memory ────────────────────────
/** How long one reflection pass may take (the model call included) before it is given up, changing nothing. */
export const REFLECTION_TIMEOUT_MS = 60_000;
/** Tokens the reflection model may answer with at most. */
export const REFLECTION_MAX_OUTPUT_TOKENS = 2_048;
/** Characters of remembered items one pass reads at most (the newest first); the blocks come on top. */
export const REFLECTION_ITEMS_MAX_CHARS = 12_000;
/** Remembered items one pass reads at most. */
export const REFLECTION_MAX_ITEMS = 60;
/** Changes (merges and shortened blocks) one pass applies at most; more calls are ignored. */
export const REFLECTION_MAX_CHANGES = 12;
/** Reflection records kept per workspace (older ones can no longer be undone). */
export const REFLECTION_RECORDS_KEPT = 20;
/** Default and bounds of memgpt.reflection.afterTurns: user turns between automatic passes. */
export const REFLECTION_DEFAULT_AFTER_TURNS = 20;
export const REFLECTION_MAX_AFTER_TURNS = 1_000;
/** Default and bounds of memgpt.reflection.idleMinutes: quiet minutes after a turn before a pass (0: never when idle). */
export const REFLECTION_DEFAULT_IDLE_MINUTES = 10;
export const REFLECTION_MAX_IDLE_MINUTES = 1_440;
