/**
 * Flags + environment → the RuntimeConfig the extension would build from its settings, and the
 * state folder. Defaults match the extension's, so an agent behaves the same in both.
 * The API key comes only from OPENAI_API_KEY (ANTHROPIC_API_KEY with --provider anthropic): a
 * flag would leak it into shell history and `ps`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEFAULT_HEARTBEAT_STEP_LIMIT,
  DEFAULT_MEMORY_PRESSURE_FRACTION,
  DEFAULT_TEMPERATURE,
  INDEX_MAX_FILE_BYTES,
  LLM_REQUEST_TIMEOUT_MAX_SECONDS,
  LLM_REQUEST_TIMEOUT_MIN_SECONDS,
  MIN_CONTEXT_WINDOW_TOKENS,
} from '../core/limits';
import { resolveLocalModelPath } from '../core/embed/modelDownload';
import {
  CHAT_PROVIDERS,
  DEFAULT_EMBEDDINGS_MODEL,
  chatProvider,
  type ChatProvider,
  type RuntimeConfig,
} from '../core/runtime/runtimeConfig';
import { usageError } from './exitCodes';
import { POSTGRES_URL_ENV, SHARED_STORE_ENV } from '../core/team/env';

export interface ConfigFlags {
  'state-dir'?: string;
  'base-url'?: string;
  provider?: string;
  model?: string;
  'context-window'?: number;
  'request-timeout'?: number;
  'embeddings-base-url'?: string;
  'embeddings-model'?: string;
  'local-model'?: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** The per-user state folder: XDG on Linux, Application Support on macOS, LOCALAPPDATA on Windows. */
export function defaultStateDir(env: Environment, platform: NodeJS.Platform = process.platform, home: string = os.homedir()): string {
  const name = 'memgpt-vscode';
  if (platform === 'win32') return path.win32.join(nonEmpty(env.LOCALAPPDATA) ?? path.win32.join(home, 'AppData', 'Local'), name);
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', name);
  return path.posix.join(nonEmpty(env.XDG_STATE_HOME) ?? path.posix.join(home, '.local', 'state'), name);
}

export function resolveStateDir(flags: ConfigFlags, env: Environment): string {
  const chosen = nonEmpty(flags['state-dir']) ?? nonEmpty(env.MEMGPT_STATE_DIR);
  return path.resolve(chosen ?? defaultStateDir(env));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

function checkUrl(value: string, option: string): string {
  if (!/^https?:\/\/[^\s/]+/i.test(value)) {
    throw usageError(
      `--${option} "${value}" is not an http(s) URL. Give e.g. http://127.0.0.1:11434/v1 (Ollama) or https://api.openai.com/v1.`,
    );
  }
  try {
    new URL(value);
  } catch {
    throw usageError(`--${option} "${value}" is not a valid URL. Give e.g. http://127.0.0.1:11434/v1.`);
  }
  return value;
}

export function runtimeConfigFrom(flags: ConfigFlags, env: Environment): RuntimeConfig {
  const providerFlag = nonEmpty(flags.provider);
  if (providerFlag !== undefined && !(CHAT_PROVIDERS as readonly string[]).includes(providerFlag)) {
    throw usageError(`--provider "${providerFlag}" is not known: give ${CHAT_PROVIDERS.join(' or ')}.`);
  }
  const chosen = providerFlag as ChatProvider | undefined;
  // Each provider's own variables: an OpenAI server's address or key must not go to Anthropic, nor the reverse.
  const urlVariable = chosen === 'anthropic' ? 'ANTHROPIC_BASE_URL' : 'OPENAI_BASE_URL';
  const baseUrlFlag = nonEmpty(flags['base-url']);
  const baseUrl = baseUrlFlag !== undefined ? checkUrl(baseUrlFlag, 'base-url') : (nonEmpty(env[urlVariable]) ?? '');
  if (baseUrlFlag === undefined && baseUrl !== '' && !/^https?:\/\//i.test(baseUrl)) {
    throw usageError(`${urlVariable} "${baseUrl}" is not an http(s) URL. Fix the variable or pass --base-url.`);
  }
  const provider = chatProvider({ baseUrl, ...(chosen ? { provider: chosen } : {}) });
  const contextWindow = flags['context-window'] ?? 0;
  if (contextWindow !== 0 && contextWindow < MIN_CONTEXT_WINDOW_TOKENS) {
    throw usageError(
      `--context-window ${contextWindow} is too small: MemGPT needs at least ${MIN_CONTEXT_WINDOW_TOKENS} tokens (0 = from the model table).`,
    );
  }
  const timeout = flags['request-timeout'];
  if (timeout !== undefined && (timeout < LLM_REQUEST_TIMEOUT_MIN_SECONDS || timeout > LLM_REQUEST_TIMEOUT_MAX_SECONDS)) {
    throw usageError(
      `--request-timeout ${timeout} is out of range: give ${LLM_REQUEST_TIMEOUT_MIN_SECONDS} to ${LLM_REQUEST_TIMEOUT_MAX_SECONDS} seconds.`,
    );
  }
  const embeddingsUrl = nonEmpty(flags['embeddings-base-url']);
  // The folder named, else a model downloaded into the state folder, else none (lexical search only).
  const named = nonEmpty(flags['local-model']) ?? nonEmpty(env.MEMGPT_LOCAL_MODEL);
  const localModel = resolveLocalModelPath(named !== undefined ? path.resolve(named) : '', resolveStateDir(flags, env));
  const apiKey = nonEmpty(provider === 'anthropic' ? env.ANTHROPIC_API_KEY : env.OPENAI_API_KEY);
  return {
    model: nonEmpty(flags.model) ?? nonEmpty(env.MEMGPT_MODEL) ?? nonEmpty(env.OPENAI_MODEL) ?? '',
    baseUrl,
    ...(provider === 'anthropic' ? { provider } : {}),
    ...(apiKey ? { apiKey } : {}),
    contextWindow,
    temperature: DEFAULT_TEMPERATURE,
    ...(timeout !== undefined ? { requestTimeoutSeconds: timeout } : {}),
    embeddings: {
      baseUrl: embeddingsUrl !== undefined ? checkUrl(embeddingsUrl, 'embeddings-base-url') : '',
      model: nonEmpty(flags['embeddings-model']) ?? DEFAULT_EMBEDDINGS_MODEL,
      ...(localModel ? { localModelPath: localModel } : {}),
    },
    pressureFraction: DEFAULT_MEMORY_PRESSURE_FRACTION,
    stepLimit: DEFAULT_HEARTBEAT_STEP_LIMIT,
    index: { include: [], exclude: [], maxFileBytes: INDEX_MAX_FILE_BYTES },
    ...humanScopeFrom(env),
    ...sharedStoreFrom(env),
  };
}

/** MEMGPT_HUMAN_SCOPE (the CLI's memgpt.memory.humanScope); absent: the user's, shared by every workspace. */
function humanScopeFrom(env: Environment): Pick<RuntimeConfig, 'humanScope'> {
  const value = nonEmpty(env.MEMGPT_HUMAN_SCOPE);
  if (value === undefined) return {};
  if (value !== 'user' && value !== 'workspace') throw usageError(`MEMGPT_HUMAN_SCOPE is "${value}": give user or workspace.`);
  return { humanScope: value };
}

/** MEMGPT_SHARED_STORE (the CLI's memgpt.index.sharedStore: 'auto' or a repository id) with MEMGPT_POSTGRES_URL. */
function sharedStoreFrom(env: Environment): Pick<RuntimeConfig, 'sharedStore'> {
  const repository = nonEmpty(env[SHARED_STORE_ENV]);
  if (!repository) return {};
  const connectionString = nonEmpty(env[POSTGRES_URL_ENV]);
  return { sharedStore: { repository, ...(connectionString ? { connectionString } : {}) } };
}

export const NO_MODEL_MESSAGE =
  'No model is configured: OpenAI needs OPENAI_API_KEY (Anthropic, with --provider anthropic, needs ANTHROPIC_API_KEY), and no other server was given. ' +
  'Export the key, or pass --base-url (or set OPENAI_BASE_URL) to an OpenAI-compatible server such as Ollama (http://127.0.0.1:11434/v1).';
