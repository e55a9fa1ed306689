/**
 * Flags + environment → the RuntimeConfig the extension would build from its settings, and the
 * state folder. The values go through the same settings schema as the extension's
 * (core/runtime/settingsSchema.ts), so defaults, ranges and fallbacks are the same in both; here a
 * bad value is a usage error naming the flag or variable, rather than a fallback.
 * The API key comes only from OPENAI_API_KEY (ANTHROPIC_API_KEY with --provider anthropic): a
 * flag would leak it into shell history and `ps`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { assertNever } from '../core/base/errors';
import { resolveLocalModelPath } from '../core/embed/modelDownload';
import { CHAT_PROVIDERS, chatProvider, type RuntimeConfig } from '../core/runtime/runtimeConfig';
import { parseSettings, runtimeConfigFromSettings, type SettingKey, type SettingProblem } from '../core/runtime/settingsSchema';
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
  /** search: the chat model reorders the first hits. */
  rerank?: boolean;
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

/** The flag that sets a setting on the command line. */
const FLAG_FOR: Partial<Record<SettingKey, keyof ConfigFlags>> = {
  model: 'model',
  baseUrl: 'base-url',
  provider: 'provider',
  contextWindow: 'context-window',
  requestTimeoutSeconds: 'request-timeout',
  'embeddings.baseUrl': 'embeddings-base-url',
  'embeddings.model': 'embeddings-model',
  'embeddings.localModelPath': 'local-model',
};

/** Settings the command line reads from a variable of its own (the editor keeps them in its settings). */
export const VARIABLE_FOR: Partial<Record<SettingKey, string>> = {
  'memory.humanScope': 'MEMGPT_HUMAN_SCOPE',
  'index.sharedStore': SHARED_STORE_ENV,
  'search.rerank': 'MEMGPT_RERANK',
};

export function runtimeConfigFrom(flags: ConfigFlags, env: Environment): RuntimeConfig {
  const providerFlag = nonEmpty(flags.provider);
  // The editor's own models (vscode-lm) exist only inside the editor.
  if (providerFlag !== undefined && !(CHAT_PROVIDERS as readonly string[]).includes(providerFlag)) {
    throw usageError(`--provider "${providerFlag}" is not known: give ${CHAT_PROVIDERS.join(' or ')}.`);
  }
  const get = (key: SettingKey): unknown => {
    const flag = FLAG_FOR[key];
    const given = flag !== undefined ? flags[flag] : undefined;
    if (key === 'embeddings.localModelPath') {
      // A folder named on the command line or in the environment is relative to where memgpt runs.
      const named = nonEmpty(given as string | undefined) ?? nonEmpty(env.MEMGPT_LOCAL_MODEL);
      return named !== undefined ? path.resolve(named) : undefined;
    }
    if (given !== undefined) return given;
    if (key === 'search.rerank') {
      // --rerank is a flag: present means on; MEMGPT_RERANK is 1/true or 0/false.
      if (flags.rerank === true) return true;
      const value = nonEmpty(env.MEMGPT_RERANK);
      return value === '1' || value === 'true' ? true : value === '0' || value === 'false' ? false : value;
    }
    const variable = VARIABLE_FOR[key];
    return variable !== undefined ? nonEmpty(env[variable]) : undefined;
  };
  const { settings, problems } = parseSettings(get, env);
  const first = problems[0];
  if (first) throw usageError(problemText(first, flags));
  const provider = chatProvider({ baseUrl: settings.baseUrl, provider: settings.provider });
  const apiKey = nonEmpty(provider === 'anthropic' ? env.ANTHROPIC_API_KEY : env.OPENAI_API_KEY);
  const connectionString = nonEmpty(env[POSTGRES_URL_ENV]);
  // The folder named, else a model downloaded into the state folder, else none (lexical search only).
  const localModelPath = resolveLocalModelPath(settings.embeddings.localModelPath, resolveStateDir(flags, env));
  return runtimeConfigFromSettings(settings, {
    ...(apiKey ? { apiKey } : {}),
    ...(connectionString ? { sharedStoreConnection: connectionString } : {}),
    localModelPath,
  });
}

/** A rejected value, named as the user gave it: the flag, else the environment variable. */
function problemText(p: SettingProblem, flags: ConfigFlags): string {
  if (p.kind === 'approval') return p.message;
  const flag = FLAG_FOR[p.key];
  const source = flag !== undefined && flags[flag] !== undefined ? `--${flag}` : (p.variable ?? VARIABLE_FOR[p.key] ?? `memgpt.${p.key}`);
  const fix = source.startsWith('--') ? '' : ` Fix the variable${flag !== undefined ? ` or pass --${flag}` : ''}.`;
  switch (p.kind) {
    case 'invalid':
      return `${source} ${JSON.stringify(p.value)} is not valid: give ${p.expected}.${fix}`;
    case 'url':
      return `${source} "${p.value}" is not ${p.expected}.${fix}`;
    default:
      return assertNever(p);
  }
}

export const NO_MODEL_MESSAGE =
  'No model is configured: OpenAI needs OPENAI_API_KEY (Anthropic, with --provider anthropic, needs ANTHROPIC_API_KEY), and no other server was given. ' +
  'Export the key, or pass --base-url (or set OPENAI_BASE_URL) to an OpenAI-compatible server such as Ollama (http://127.0.0.1:11434/v1).';
