/**
 * What a WorkspaceRuntime is configured with, the same for the extension (from VS Code settings
 * and SecretStorage) and the command line (from flags and the environment), plus the rules both
 * share: which folder URI names a workspace, and when an API key may travel with a request.
 */
import * as path from 'node:path';
import type { HumanScope } from '../memory/memoryScopes';
import { pathToFileURL } from 'node:url';
import type { ApprovalSettings } from '../acting/approvalPolicy';
import { LLM_REQUEST_TIMEOUT_MS } from '../limits';
import type { SharedStoreConfig } from '../team/runtimeShared';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const ANTHROPIC_API_BASE_URL = 'https://api.anthropic.com';

/**
 * Where the chat model comes from: a server speaking OpenAI's chat completions (and compatible
 * servers) or Anthropic's Messages API, or the editor's own language models (VS Code's
 * `vscode.lm`, e.g. Copilot's), which only an editor host can supply (WorkspaceRuntimeOptions.hostModels).
 */
export type ChatProvider = 'openai' | 'anthropic' | 'vscode-lm';
/** The providers that are model servers: the command line's choices (it has no editor models). */
export const CHAT_PROVIDERS: readonly ChatProvider[] = ['openai', 'anthropic'];
/** Embeddings model when an embeddings endpoint is set but no model (memgpt.embeddings.model, --embeddings-model). */
export const DEFAULT_EMBEDDINGS_MODEL = 'text-embedding-3-small';

export interface RuntimeFolder {
  /** Shown in multi-root paths (first path segment); unique. */
  name: string;
  /** Absolute path on disk. */
  path: string;
}

export interface RuntimeConfig {
  /** '' = OpenAI's default model, or the first model a non-OpenAI server lists. */
  model: string;
  /** '' = OpenAI (Anthropic's API when `provider` is 'anthropic'). */
  baseUrl: string;
  /** memgpt.provider / --provider; absent: 'openai', except that api.anthropic.com always means 'anthropic'. */
  provider?: ChatProvider;
  apiKey?: string;
  /** Tokens; 0 = from the known-model table. */
  contextWindow: number;
  temperature: number;
  /**
   * memgpt.requestTimeoutSeconds / --request-timeout: how long a model or embeddings request waits
   * for the server to start answering; retries and pauses fit in twice this. Absent: 30 s.
   */
  requestTimeoutSeconds?: number;
  /**
   * `baseUrl` '' = a local embedder (nothing leaves the machine): the Model2Vec model in
   * `localModelPath` when one is named or downloaded, else the model-free hashing embedder.
   */
  embeddings: { baseUrl: string; model: string; localModelPath?: string };
  pressureFraction: number;
  stepLimit: number;
  /** Core memory character limits (persona/human, project); absent: MemGPT's defaults. */
  coreMemoryLimits?: { block: number; project: number };
  /** memgpt.memory.humanScope / MEMGPT_HUMAN_SCOPE: `human` shared by every workspace (absent: 'user') or per workspace. */
  humanScope?: HumanScope;
  index: { include: readonly string[]; exclude: readonly string[]; maxFileBytes: number };
  /** The shared team index to read (memgpt.index.sharedStore / MEMGPT_SHARED_STORE); absent: local only. */
  sharedStore?: SharedStoreConfig;
  /** Who must approve edits and commands (memgpt.approval.*); absent: ask for every one. */
  approval?: ApprovalSettings;
  /** memgpt.mcpServers as written (the shape of .vscode/mcp.json); parsed, and its problems reported, by McpHub. */
  mcpServers?: unknown;
  /**
   * memgpt.search.rerank / --rerank / MEMGPT_RERANK=1: the chat model reorders the first results of a
   * search made from outside a turn (Search Memory, `memgpt search`, the MCP search tool). Absent: off.
   */
  rerank?: boolean;
  /** memgpt.reflection.* / MEMGPT_REFLECTION_*: the background pass that tidies memory; absent: off. */
  reflection?: ReflectionSettings;
}

export interface ReflectionSettings {
  /** Automatic passes (after turns, when idle); a pass asked for by the user runs either way. */
  enabled: boolean;
  /** The model of the pass ('' = the chat model), usually a cheaper one on the same server. */
  model: string;
  /** User turns since the last pass that start one (once the agent is idle). */
  afterTurns: number;
  /** Quiet minutes after a turn that start one, when a turn happened since the last pass; 0: never when idle. */
  idleMinutes: number;
}

/**
 * The URI string that keys a folder's memory. VS Code's `Uri.file(p).toString()` and this agree
 * for ordinary paths, so the CLI and the editor open the same storage folder; the extension
 * uses this function too, so they agree for every path.
 */
export function folderKeyUri(absPath: string): string {
  return pathToFileURL(path.resolve(absPath)).href.replace(/\/+$/, '');
}

export function effectiveBaseUrl(baseUrl: string): string {
  return baseUrl.trim() === '' ? OPENAI_BASE_URL : baseUrl.trim().replace(/\/+$/, '');
}

/** The API to speak: the setting, or Anthropic's whenever the base URL is api.anthropic.com. */
export function chatProvider(config: Pick<RuntimeConfig, 'provider' | 'baseUrl'>): ChatProvider {
  if (config.provider === 'anthropic' || config.provider === 'vscode-lm') return config.provider;
  try {
    return new URL(config.baseUrl.trim()).hostname === 'api.anthropic.com' ? 'anthropic' : 'openai';
  } catch {
    return 'openai';
  }
}

/** The chat server's base URL: the setting, else the chosen provider's own API. */
export function chatBaseUrl(config: Pick<RuntimeConfig, 'provider' | 'baseUrl'>): string {
  if (config.baseUrl.trim() === '' && chatProvider(config) === 'anthropic') return ANTHROPIC_API_BASE_URL;
  return effectiveBaseUrl(config.baseUrl);
}

/** True when requests go to OpenAI itself (an API key is then required). */
export function isOpenAIEndpoint(baseUrl: string): boolean {
  try {
    return new URL(effectiveBaseUrl(baseUrl)).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

/** A chat model can be reached: OpenAI or Anthropic with a key, or any other server (local ones need no key). */
export function modelConfigured(baseUrl: string, hasApiKey: boolean, provider?: ChatProvider): boolean {
  // The editor's models need no key of ours: whether one is available is asked at the first turn.
  if (hasApiKey || provider === 'vscode-lm') return true;
  if (chatProvider({ baseUrl, ...(provider ? { provider } : {}) }) === 'anthropic')
    return baseUrl.trim() !== '' && !/^https?:\/\/api\.anthropic\.com(?:[/:]|$)/i.test(baseUrl.trim());
  return !isOpenAIEndpoint(baseUrl);
}

/**
 * The chat API key goes to the embeddings endpoint only when that is the same server: a key for
 * one provider must never be sent to another host the user configured for something else.
 */
export function embeddingsApiKey(config: Pick<RuntimeConfig, 'baseUrl' | 'provider' | 'apiKey' | 'embeddings'>): string | undefined {
  // Anthropic serves no embeddings, so its key is never the embeddings server's.
  if (!config.apiKey || chatProvider(config) === 'anthropic') return undefined;
  try {
    const chat = new URL(effectiveBaseUrl(config.baseUrl));
    const embeddings = new URL(effectiveBaseUrl(config.embeddings.baseUrl));
    return chat.origin === embeddings.origin ? config.apiKey : undefined;
  } catch {
    return undefined;
  }
}

/** The request time-out in ms (LLM_REQUEST_TIMEOUT_MS when not configured). */
export function requestTimeoutMs(config: Pick<RuntimeConfig, 'requestTimeoutSeconds'>): number {
  return config.requestTimeoutSeconds !== undefined ? config.requestTimeoutSeconds * 1000 : LLM_REQUEST_TIMEOUT_MS;
}

/** Which parts of the runtime a configuration change invalidates. */
export interface ConfigImpact {
  chat: boolean;
  embeddings: boolean;
  index: boolean;
  /** The MCP servers the user configured: the running ones are stopped and the new set started. */
  mcp: boolean;
}

export function configImpact(before: RuntimeConfig, after: RuntimeConfig): ConfigImpact {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  return {
    chat:
      before.model !== after.model ||
      before.baseUrl !== after.baseUrl ||
      before.provider !== after.provider ||
      before.apiKey !== after.apiKey ||
      before.contextWindow !== after.contextWindow ||
      before.temperature !== after.temperature ||
      before.requestTimeoutSeconds !== after.requestTimeoutSeconds ||
      before.pressureFraction !== after.pressureFraction ||
      before.stepLimit !== after.stepLimit ||
      !same(before.coreMemoryLimits, after.coreMemoryLimits) ||
      before.humanScope !== after.humanScope,
    // The shared store reads through the archival index: changing it reopens that.
    embeddings:
      !same(before.embeddings, after.embeddings) ||
      !same(before.sharedStore, after.sharedStore) ||
      (after.embeddings.baseUrl !== '' && (before.apiKey !== after.apiKey || before.requestTimeoutSeconds !== after.requestTimeoutSeconds)),
    index: !same(before.index, after.index),
    mcp: !same(before.mcpServers, after.mcpServers),
  };
}
