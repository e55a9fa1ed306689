/**
 * The one contract between the extension host and the chat webview.
 *
 * Each direction is a map from message type to payload (a misspelt type or a wrong payload is a
 * compile error). Request/response pairs (`WebviewRequests`) travel as a `request` message with an
 * id and come back as a `response` with the same id. The webview is untrusted input for the host:
 * `isWebviewToHost` checks every message at the boundary and rejects unknown types, wrong shapes,
 * extra keys and oversize strings. Imported by both sides, so it stays free of `vscode` and DOM.
 */
import type { AgentEvent, ContextUsage } from './core/agent/events';
import type { RecallRecord } from './core/interfaces/recallStore';
import {
  ACTING_REASON_MAX_CHARS,
  CHAT_AGENT_ID_MAX_CHARS,
  CHAT_CITATION_MAX_LINE,
  CHAT_HISTORY_MAX_PAGE,
  CHAT_MESSAGE_MAX_CHARS,
  CHAT_PATH_MAX_CHARS,
  CHAT_SETUP_FIELD_MAX_CHARS,
  CHAT_SNIPPET_MAX_CHARS,
  CHAT_URL_MAX_CHARS,
} from './core/limits';

export type Empty = Record<string, never>;

// ---------------------------------------------------------------------------------------------
// Shared payload types
// ---------------------------------------------------------------------------------------------

export interface AgentSummary {
  id: string;
  /** Shown in the picker. */
  name: string;
}

export interface SetupStatus {
  /** False until a model server is configured and answered; the view then shows the setup card. */
  configured: boolean;
  hasApiKey: boolean;
  baseUrl?: string;
  model?: string;
  /** Why the current configuration does not work, in words a user can act on. */
  problem?: string;
  /** One of VS Code's own language models MemGPT can use with no key ("GPT-4.1 (copilot)"), offered first when present. */
  editorModel?: string;
}

export interface LocalServer {
  /** "Ollama", "LM Studio", ... */
  name: string;
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 */
  baseUrl: string;
  models: string[];
}

export interface SetupResult {
  ok: boolean;
  /** On failure: what happened, why, what to do. On success: what is now used. */
  message: string;
}

/**
 * How a turn ended when it did not end with an answer: recall keeps the question but not the error
 * box, so the chat remembers these itself and shows them again after a reload. `afterSeq`: the
 * newest recall record when the turn ended (the item goes after it).
 */
export type TurnOutcome =
  { afterSeq: number; kind: 'error'; message: string; recoverable: boolean } | { afterSeq: number; kind: 'stopped' };

export interface HistoryPage {
  /** Oldest first. */
  records: RecallRecord[];
  /** True when records older than the first one exist. */
  hasMore: boolean;
  /** Failed and stopped turns that end among these records, oldest first. */
  outcomes?: TurnOutcome[];
  /** On the newest page: the seq of the newest record (Retry is offered only on a failure after it). */
  newestSeq?: number;
}

/** Editor features the welcome state points to; the host runs the matching command. */
export type ChatTool = 'rememberSelection' | 'searchMemory' | 'showCoreMemory';
export const CHAT_TOOLS: readonly ChatTool[] = ['rememberSelection', 'searchMemory', 'showCoreMemory'];

/** Everything the view needs to draw its chrome; sent on `ready` and whenever it changes. */
export interface ViewState {
  /** 'none' when the host has no agent (not started, failed to start): the view says so. */
  backend: 'ready' | 'none';
  /**
   * Why there is no backend; with a backend, standing conditions, one per line: Restricted Mode or
   * a read-only window, then damage found in the memory and what was done (a file kept aside, an
   * agent recovered, the index rebuilt).
   */
  notice?: string;
  agents: AgentSummary[];
  activeAgentId: string | null;
  setup: SetupStatus;
  /** A turn is running (Stop is offered). */
  busy: boolean;
  usage: ContextUsage | null;
}

/**
 * An edit or command waiting for the user's Accept / Reject, shown on its function card. The
 * diff may be cut for the card (`diffCut`); "Open diff" shows the whole change.
 */
export type ApprovalCard =
  | {
      id: string;
      callId: string;
      kind: 'edit' | 'write';
      path: string;
      existed: boolean;
      diff: string;
      diffCut: boolean;
      added: number;
      removed: number;
    }
  | {
      id: string;
      callId: string;
      kind: 'command';
      command: string;
      cwd: string;
      suggestedPrefix?: string;
      shellSyntax: string[];
      withheldVariables: string[];
    }
  | {
      id: string;
      callId: string;
      /** A tool of an MCP server the user configured. */
      kind: 'tool';
      functionName: string;
      server: string;
      tool: string;
      source: string;
      arguments: string;
      argumentsCut: boolean;
      readOnlyHint: boolean;
    };

export type ApprovalDecision = 'accept' | 'reject' | 'always';

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** Requests the webview makes and the host answers: method → [params, result]. */
export interface WebviewRequests {
  history: [{ beforeSeq: number | null; limit: number }, HistoryPage];
  probeLocalServers: [Empty, LocalServer[]];
  saveApiKey: [{ key: string }, SetupResult];
  useServer: [{ baseUrl: string; model?: string }, SetupResult];
  useEditorModel: [Empty, SetupResult];
}
export type RequestMethod = keyof WebviewRequests;
export type RequestParams<K extends RequestMethod> = WebviewRequests[K][0];
export type RequestResult<K extends RequestMethod> = WebviewRequests[K][1];

export type RequestPayload = {
  [K in RequestMethod]: { id: number; method: K; params: RequestParams<K> };
}[RequestMethod];

/** A request's answer, typed by the request it answers: `method` travels back with its `id`. */
export type ResponsePayload =
  | { [K in RequestMethod]: { id: number; method: K; ok: true; result: RequestResult<K> } }[RequestMethod]
  | { id: number; method: RequestMethod; ok: false; error: string };

export interface WebviewToHostMessages {
  /** The webview loaded (or reloaded): the host answers with `state`. */
  ready: Empty;
  send: { text: string };
  stop: Empty;
  retry: Empty;
  /** Clear the view; memory is kept. */
  clearView: Empty;
  switchAgent: { agentId: string };
  /** Lines are 1-based; `endLine` inclusive. */
  openCitation: { path: string; startLine: number; endLine?: number };
  insertAtCursor: { code: string };
  copyToClipboard: { text: string };
  showCoreMemory: Empty;
  /** A pointer in the welcome state: Remember Selection, Search Memory, the core memory view. */
  openTool: { tool: ChatTool };
  /** The host asks the user before opening anything outside the editor. */
  openExternal: { url: string };
  request: RequestPayload;
  /** The user's answer to an approval card; `reason` only with 'reject'. */
  approve: { id: string; decision: ApprovalDecision; reason?: string };
  /** Opens the proposed change of a pending approval in VS Code's diff editor. */
  openDiff: { id: string };
  /** Brings back the files as they were before that checkpoint's turn. */
  restoreCheckpoint: { checkpointId: string };
}

export interface HostToWebviewMessages {
  state: ViewState;
  agentEvent: { event: AgentEvent };
  response: ResponsePayload;
  /** The visible conversation changed under the view (agent switched, cleared elsewhere): reload history. */
  historyReset: Empty;
  /** A user message that did not come from this view (Ask About Selection, the extension API): show it. */
  userMessage: { text: string };
  /** An edit or command waits for the user (sent again after the view reloads). */
  approval: ApprovalCard;
  /** The approval was answered, or withdrawn (Stop): the buttons go. */
  approvalClosed: { id: string };
  /** Something the user asked for from the view (Insert, a citation, a link) did not work: why, in their words. */
  actionFailed: { message: string };
  /** Scroll to a conversation message (a Search Memory hit), loading older pages until it is shown. */
  revealMessage: { recordId: string; seq: number };
}

export type Envelope<M> = { [K in keyof M]: { type: K; payload: M[K] } }[keyof M];
export type WebviewToHost = Envelope<WebviewToHostMessages>;
export type HostToWebview = Envelope<HostToWebviewMessages>;
export type WebviewToHostOf<K extends keyof WebviewToHostMessages> = Extract<WebviewToHost, { type: K }>;

/**
 * One handler per message type of a direction. Written as a table of this type, a handler that is
 * missing (a message type added to the protocol but not handled) is a compile error.
 */
export type MessageHandlers<M> = { [K in keyof M]: (payload: M[K]) => void | Promise<void> };

/** One handler per request method, answering with that method's result type. */
export type RequestHandlers = { [K in RequestMethod]: (params: RequestParams<K>) => Promise<RequestResult<K>> };

/** Runs the handler of a request and wraps its result as the response to that request. */
export async function answerRequest(handlers: RequestHandlers, request: RequestPayload): Promise<ResponsePayload> {
  // As in dispatch: the request's method and params are paired by RequestPayload's own type.
  const handler = handlers[request.method] as (params: unknown) => Promise<unknown>;
  const result = await handler(request.params);
  return { id: request.id, method: request.method, ok: true, result } as ResponsePayload;
}

/** Calls the handler of `message`'s type with its payload. */
export function dispatch<M>(handlers: MessageHandlers<M>, message: Envelope<M>): void | Promise<void> {
  // The union of envelopes cannot be correlated with the handler table by the compiler; the table's
  // type already pairs each type with its payload, so this is the one place that says so.
  const handler = handlers[message.type] as (payload: unknown) => void | Promise<void>;
  return handler(message.payload);
}

// ---------------------------------------------------------------------------------------------
// Transcript items: what the view renders (built from AgentEvents and from recall records)
// ---------------------------------------------------------------------------------------------

/** `turn_stopped`: the user stopped a turn before any answer arrived. */
export type SystemEventKind = Extract<AgentEvent, { type: 'system_event' }>['kind'] | 'summary' | 'system_alert' | 'turn_stopped';

export type TranscriptItem =
  | { kind: 'user'; id: string; text: string; time?: string }
  | {
      kind: 'assistant';
      id: string;
      text: string;
      /** 'partial': the turn was stopped (or failed) mid-stream; the text is what arrived. */
      state: 'streaming' | 'complete' | 'partial';
      time?: string;
      /** Written in a turn nobody asked for (the login at window open, a timer, a file wake-up): not a reply to the user. */
      automatic?: true;
    }
  | { kind: 'monologue'; id: string; text: string; streaming: boolean; automatic?: true }
  | {
      kind: 'function';
      id: string;
      name: string;
      /** The raw JSON argument string, as the model produced it. */
      arguments: string;
      status: 'running' | 'OK' | 'Failed' | 'cancelled';
      result: string | null;
      /** edit_file / write_file / run_command waiting for the user. */
      approval?: ApprovalCard;
      /** run_command's output as it arrives (the tail, bounded). */
      output?: string;
      /** The call changed files: Restore brings back the files of its turn. */
      checkpointId?: string;
      /** The same call made this many times in a row in one turn (shown as one card), when more than one. */
      count?: number;
      automatic?: true;
    }
  | { kind: 'event'; id: string; event: SystemEventKind; text: string }
  | { kind: 'error'; id: string; message: string; recoverable: boolean; retried: boolean };

// ---------------------------------------------------------------------------------------------
// Boundary check of untrusted input from the webview
// ---------------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Exactly these keys (optional ones may be absent), nothing else. */
function hasKeys(v: Record<string, unknown>, required: readonly string[], optional: readonly string[] = []): boolean {
  for (const k of required) if (!(k in v)) return false;
  for (const k of Object.keys(v)) if (!required.includes(k) && !optional.includes(k)) return false;
  return true;
}

function isText(v: unknown, max: number, allowEmpty = true): v is string {
  return typeof v === 'string' && v.length <= max && (allowEmpty || v.length > 0);
}

function isLine(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= CHAT_CITATION_MAX_LINE;
}

function isEmpty(v: Record<string, unknown>): boolean {
  return Object.keys(v).length === 0;
}

/** The shape and size rules of each request's params (a method added without one is a compile error). */
const REQUEST_CHECKS: { [K in RequestMethod]: (params: Record<string, unknown>) => boolean } = {
  history: (params) =>
    hasKeys(params, ['beforeSeq', 'limit']) &&
    (params.beforeSeq === null || (typeof params.beforeSeq === 'number' && Number.isSafeInteger(params.beforeSeq))) &&
    typeof params.limit === 'number' &&
    Number.isInteger(params.limit) &&
    params.limit >= 1 &&
    params.limit <= CHAT_HISTORY_MAX_PAGE,
  probeLocalServers: isEmpty,
  useEditorModel: isEmpty,
  saveApiKey: (params) => hasKeys(params, ['key']) && isText(params.key, CHAT_SETUP_FIELD_MAX_CHARS, false),
  useServer: (params) =>
    hasKeys(params, ['baseUrl'], ['model']) &&
    isText(params.baseUrl, CHAT_SETUP_FIELD_MAX_CHARS, false) &&
    (params.model === undefined || isText(params.model, CHAT_SETUP_FIELD_MAX_CHARS)),
};

function isRequest(p: Record<string, unknown>): boolean {
  if (!hasKeys(p, ['id', 'method', 'params'])) return false;
  if (typeof p.id !== 'number' || !Number.isSafeInteger(p.id) || p.id < 0) return false;
  const params = p.params;
  if (!isRecord(params) || typeof p.method !== 'string' || !Object.hasOwn(REQUEST_CHECKS, p.method)) return false;
  return REQUEST_CHECKS[p.method as RequestMethod](params);
}

/** The shape and size rules of each message from the webview (a type added without one is a compile error). */
const MESSAGE_CHECKS: { [K in keyof WebviewToHostMessages]: (p: Record<string, unknown>) => boolean } = {
  ready: isEmpty,
  stop: isEmpty,
  retry: isEmpty,
  clearView: isEmpty,
  showCoreMemory: isEmpty,
  send: (p) => hasKeys(p, ['text']) && isText(p.text, CHAT_MESSAGE_MAX_CHARS) && p.text.trim().length > 0,
  switchAgent: (p) => hasKeys(p, ['agentId']) && isText(p.agentId, CHAT_AGENT_ID_MAX_CHARS, false),
  openCitation: (p) =>
    hasKeys(p, ['path', 'startLine'], ['endLine']) &&
    isText(p.path, CHAT_PATH_MAX_CHARS, false) &&
    !p.path.includes('\0') &&
    isLine(p.startLine) &&
    (p.endLine === undefined || (isLine(p.endLine) && p.endLine >= p.startLine)),
  insertAtCursor: (p) => hasKeys(p, ['code']) && isText(p.code, CHAT_SNIPPET_MAX_CHARS),
  copyToClipboard: (p) => hasKeys(p, ['text']) && isText(p.text, CHAT_SNIPPET_MAX_CHARS),
  openExternal: (p) => hasKeys(p, ['url']) && isText(p.url, CHAT_URL_MAX_CHARS, false) && isSafeExternalUrl(p.url),
  request: isRequest,
  approve: (p) =>
    hasKeys(p, ['id', 'decision'], ['reason']) &&
    isText(p.id, CHAT_AGENT_ID_MAX_CHARS, false) &&
    (p.decision === 'accept' || p.decision === 'reject' || p.decision === 'always') &&
    (p.reason === undefined || (p.decision === 'reject' && isText(p.reason, ACTING_REASON_MAX_CHARS))),
  openTool: (p) => hasKeys(p, ['tool']) && CHAT_TOOLS.some((t) => t === p.tool),
  openDiff: (p) => hasKeys(p, ['id']) && isText(p.id, CHAT_AGENT_ID_MAX_CHARS, false),
  restoreCheckpoint: (p) =>
    hasKeys(p, ['checkpointId']) && isText(p.checkpointId, CHAT_AGENT_ID_MAX_CHARS, false) && /^[\w-]+$/.test(p.checkpointId),
};

/** Runtime check of a message from the webview; anything else is rejected. */
export function isWebviewToHost(v: unknown): v is WebviewToHost {
  if (!isRecord(v) || !hasKeys(v, ['type', 'payload']) || typeof v.type !== 'string' || !isRecord(v.payload)) return false;
  if (!Object.hasOwn(MESSAGE_CHECKS, v.type)) return false;
  return MESSAGE_CHECKS[v.type as keyof WebviewToHostMessages](v.payload);
}

/** Only web and mail links leave the editor; everything else (javascript:, data:, file:, command:) never does. */
export function isSafeExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' || parsed.protocol === 'http:' || parsed.protocol === 'mailto:';
}

/** Why a message was rejected, for the host's log (never echoes the content). */
export function describeRejected(v: unknown): string {
  if (!isRecord(v)) return `not an object (${v === null ? 'null' : typeof v})`;
  const type = typeof v.type === 'string' ? v.type.slice(0, 40) : typeof v.type;
  return `type "${type}" is unknown or its payload has the wrong shape or size`;
}
