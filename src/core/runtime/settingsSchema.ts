/**
 * Every `memgpt.*` setting, declared once: its type, default, valid range and environment
 * fallback, and how the settings become the RuntimeConfig the runtime runs on. The extension
 * reads the values from VS Code's configuration, the command line from its flags and variables;
 * both hand them to `parseSettings` here, so an agent behaves the same in both, and each front
 * end words the problems in its own terms (a setting to fix, or a flag to change).
 */
import { approvalSettingsFrom, type ApprovalSettings } from '../acting/approvalPolicy';
import type { FileEventMode } from '../events/fileEventCoalescer';
import {
  CORE_MEMORY_BLOCK_LIMIT_CHARS,
  CORE_MEMORY_PROJECT_LIMIT_CHARS,
  DEFAULT_FILE_EVENT_IDLE_DELAY_MS,
  DEFAULT_HEARTBEAT_STEP_LIMIT,
  DEFAULT_MEMORY_PRESSURE_FRACTION,
  DEFAULT_TEMPERATURE,
  INDEX_MAX_FILE_BYTES,
  LLM_REQUEST_TIMEOUT_MAX_SECONDS,
  LLM_REQUEST_TIMEOUT_MIN_SECONDS,
  LLM_REQUEST_TIMEOUT_MS,
  MIN_CONTEXT_WINDOW_TOKENS,
  REFLECTION_DEFAULT_AFTER_TURNS,
  REFLECTION_DEFAULT_IDLE_MINUTES,
  REFLECTION_MAX_AFTER_TURNS,
  REFLECTION_MAX_IDLE_MINUTES,
  TIMER_HEARTBEAT_MAX_MINUTES,
} from '../limits';
import type { HumanScope } from '../memory/memoryScopes';
import { DEFAULT_EMBEDDINGS_MODEL, type ChatProvider, type ReflectionSettings, type RuntimeConfig } from './runtimeConfig';

export interface MemGptSettings {
  /** Chat model; '' = the first model the server lists. Falls back to MEMGPT_MODEL / OPENAI_MODEL. */
  model: string;
  /** OpenAI-compatible base URL; '' = https://api.openai.com/v1. Falls back to OPENAI_BASE_URL (ANTHROPIC_BASE_URL for Anthropic). */
  baseUrl: string;
  /** The API the chat server speaks, or 'vscode-lm' (the editor's models); api.anthropic.com as the base URL means 'anthropic' unless this says 'vscode-lm'. */
  provider: ChatProvider;
  /** Tokens; 0 = from the known-model table. */
  contextWindow: number;
  temperature: number;
  /** How long a model or embeddings request waits for the server to start answering; retries fit in twice this. */
  requestTimeoutSeconds: number;
  embeddings: {
    /** '' = a local embedder (nothing leaves the machine). */
    baseUrl: string;
    model: string;
    /** A Model2Vec model folder; '' = the downloaded model if any, else lexical search only. Falls back to MEMGPT_LOCAL_MODEL. */
    localModelPath: string;
  };
  memory: {
    /** Character limit of the persona and human blocks. */
    blockLimitChars: number;
    /** Character limit of the project block. */
    projectBlockLimitChars: number;
    /** Fraction of the window at which the memory-pressure alert fires. */
    pressureThreshold: number;
    /** Where the `human` block lives: shared by every workspace ('user') or per workspace. */
    humanScope: HumanScope;
  };
  agent: {
    heartbeatStepLimit: number;
    /** Minutes between timed heartbeats; 0 = off (the default). */
    timerHeartbeatMinutes: number;
  };
  fileEvents: {
    mode: FileEventMode;
    idleDelayMs: number;
  };
  /** The background pass that tidies memory (memgpt.reflection.*). */
  reflection: ReflectionSettings;
  index: {
    include: string[];
    exclude: string[];
    maxFileBytes: number;
    onStartup: boolean;
    /** '' off; 'auto' or a repository id: read the shared index published from CI (connection string kept as a secret). */
    sharedStore: string;
  };
  /** Who approves the agent's edits and commands (memgpt.approval.*). */
  approval: ApprovalSettings;
  /** MCP servers for the agent (the shape of .vscode/mcp.json); each server is checked when it is started. */
  mcpServers: Record<string, unknown>;
  search: {
    /** The chat model reorders the first results of searches made outside a turn. */
    rerank: boolean;
  };
}

/** Every setting key (the full name is `memgpt.<key>`). */
export const SETTING_KEYS = [
  'model',
  'baseUrl',
  'provider',
  'contextWindow',
  'temperature',
  'requestTimeoutSeconds',
  'embeddings.baseUrl',
  'embeddings.model',
  'embeddings.localModelPath',
  'memory.blockLimitChars',
  'memory.projectBlockLimitChars',
  'memory.pressureThreshold',
  'memory.humanScope',
  'agent.heartbeatStepLimit',
  'agent.timerHeartbeatMinutes',
  'reflection.enabled',
  'reflection.model',
  'reflection.afterTurns',
  'reflection.idleMinutes',
  'fileEvents.mode',
  'fileEvents.idleDelaySeconds',
  'index.include',
  'index.exclude',
  'index.maxFileSizeKB',
  'index.onStartup',
  'index.sharedStore',
  'approval.edits',
  'approval.commands',
  'approval.allowedCommands',
  'mcpServers',
  'search.rerank',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/**
 * The environment variables a setting falls back to when it is empty, in both front ends.
 * (baseUrl falls back to the chosen provider's own variable, OPENAI_BASE_URL or ANTHROPIC_BASE_URL.)
 */
export const SETTING_ENV_FALLBACKS: Partial<Record<SettingKey, readonly string[]>> = {
  model: ['MEMGPT_MODEL', 'OPENAI_MODEL'],
  'embeddings.localModelPath': ['MEMGPT_LOCAL_MODEL'],
  'reflection.model': ['MEMGPT_REFLECTION_MODEL'],
};

/** Example shown when a URL is not one. */
const URL_EXAMPLE = 'http://127.0.0.1:11434/v1';

/**
 * A value that was not used as given. With `fallback`, the default was used instead; without it,
 * the value was kept (a malformed URL: requests to it fail with the server's own error).
 * `variable` names the environment variable the value came from, when it did not come from the setting.
 */
export type SettingProblem =
  | { kind: 'invalid'; key: SettingKey; value: unknown; expected: string; fallback: unknown; variable?: string }
  | { kind: 'url'; key: SettingKey; value: string; expected: string; variable?: string }
  /** The approval settings word their own problems (which of the three, and what asking means). */
  | { kind: 'approval'; key: SettingKey; message: string };

export interface ParsedSettings {
  settings: MemGptSettings;
  problems: SettingProblem[];
}

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads every setting through `get` (undefined = not set), falling back to the environment where
 * a setting declares it, and to the default for a missing or invalid value. Never throws.
 */
export function parseSettings(get: (key: SettingKey) => unknown, env: Environment = {}): ParsedSettings {
  const problems: SettingProblem[] = [];
  /** The setting, else its environment fallback: [value, the variable it came from]. */
  const read = (key: SettingKey, variables: readonly string[] = SETTING_ENV_FALLBACKS[key] ?? []): [unknown, string | undefined] => {
    const v = get(key);
    if (v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '')) return [v, undefined];
    for (const name of variables) {
      const e = env[name]?.trim();
      if (e) return [e, name];
    }
    return [v ?? undefined, undefined];
  };
  const bad = (key: SettingKey, value: unknown, expected: string, fallback: unknown, variable?: string): void => {
    problems.push({ kind: 'invalid', key, value, expected, fallback, ...(variable ? { variable } : {}) });
  };
  const text = (key: SettingKey, fallback: string, variables?: readonly string[]): string => {
    const [v, variable] = read(key, variables);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') {
      bad(key, v, 'a string', fallback, variable);
      return fallback;
    }
    return v.trim() || fallback;
  };
  const num = (key: SettingKey, fallback: number, min: number, max: number, integer = false): number => {
    const [v, variable] = read(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      bad(key, v, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`, fallback, variable);
      return fallback;
    }
    return v;
  };
  const bool = (key: SettingKey, fallback: boolean): boolean => {
    const [v, variable] = read(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      bad(key, v, 'true or false', fallback, variable);
      return fallback;
    }
    return v;
  };
  const oneOf = <T extends string>(key: SettingKey, choices: readonly T[], fallback: T): T => {
    const [v, variable] = read(key);
    if (v === undefined || v === null) return fallback;
    if ((choices as readonly unknown[]).includes(v)) return v as T;
    const listed = choices.map((c) => JSON.stringify(c));
    bad(key, v, `${listed.slice(0, -1).join(', ')} or ${listed[listed.length - 1]}`, fallback, variable);
    return fallback;
  };
  const globs = (key: SettingKey): string[] => {
    const v = get(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((g) => typeof g !== 'string')) {
      bad(key, v, 'a list of glob strings', []);
      return [];
    }
    return (v as string[]).map((g) => g.trim()).filter((g) => g.length > 0);
  };
  const url = (key: SettingKey, variables?: readonly string[]): string => {
    const [v, variable] = read(key, variables);
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') {
      bad(key, v, 'a string', '', variable);
      return '';
    }
    const value = v.trim();
    if (value !== '' && !isHttpUrl(value)) {
      problems.push({ kind: 'url', key, value, expected: `an http(s) URL (e.g. ${URL_EXAMPLE})`, ...(variable ? { variable } : {}) });
    }
    return value;
  };

  let contextWindow = num('contextWindow', 0, 0, 10_000_000, true);
  if (contextWindow !== 0 && contextWindow < MIN_CONTEXT_WINDOW_TOKENS) {
    bad('contextWindow', contextWindow, `0 (automatic) or at least ${MIN_CONTEXT_WINDOW_TOKENS}`, 0);
    contextWindow = 0;
  }
  const provider = oneOf<ChatProvider>('provider', ['openai', 'anthropic', 'vscode-lm'], 'openai');
  // Each provider's own variable: an OpenAI server's address must not become the Anthropic endpoint.
  const baseUrl = url('baseUrl', [provider === 'anthropic' ? 'ANTHROPIC_BASE_URL' : 'OPENAI_BASE_URL']);

  // A wrong value falls back to asking, never to something more permissive.
  const approval = approvalSettingsFrom({
    edits: get('approval.edits') ?? undefined,
    commands: get('approval.commands') ?? undefined,
    allowedCommands: get('approval.allowedCommands') ?? undefined,
  });
  for (const p of approval.problems) {
    const key = `approval.${p.setting}` as const;
    problems.push({ kind: 'approval', key, message: p.message });
  }

  const mcpValue = get('mcpServers');
  let mcpServers: Record<string, unknown> = {};
  if (typeof mcpValue === 'object' && mcpValue !== null && !Array.isArray(mcpValue)) mcpServers = mcpValue as Record<string, unknown>;
  else if (mcpValue !== undefined && mcpValue !== null) bad('mcpServers', mcpValue, 'an object like { "servers": { … } }', {});

  return {
    problems,
    settings: {
      model: text('model', ''),
      baseUrl,
      provider,
      contextWindow,
      temperature: num('temperature', DEFAULT_TEMPERATURE, 0, 2),
      requestTimeoutSeconds: num(
        'requestTimeoutSeconds',
        LLM_REQUEST_TIMEOUT_MS / 1000,
        LLM_REQUEST_TIMEOUT_MIN_SECONDS,
        LLM_REQUEST_TIMEOUT_MAX_SECONDS,
      ),
      embeddings: {
        baseUrl: url('embeddings.baseUrl'),
        model: text('embeddings.model', DEFAULT_EMBEDDINGS_MODEL),
        localModelPath: text('embeddings.localModelPath', ''),
      },
      memory: {
        blockLimitChars: num('memory.blockLimitChars', CORE_MEMORY_BLOCK_LIMIT_CHARS, 200, 100_000, true),
        projectBlockLimitChars: num('memory.projectBlockLimitChars', CORE_MEMORY_PROJECT_LIMIT_CHARS, 200, 100_000, true),
        pressureThreshold: num('memory.pressureThreshold', DEFAULT_MEMORY_PRESSURE_FRACTION, 0.3, 0.95),
        humanScope: oneOf<HumanScope>('memory.humanScope', ['user', 'workspace'], 'user'),
      },
      agent: {
        heartbeatStepLimit: num('agent.heartbeatStepLimit', DEFAULT_HEARTBEAT_STEP_LIMIT, 1, 100, true),
        timerHeartbeatMinutes: num('agent.timerHeartbeatMinutes', 0, 0, TIMER_HEARTBEAT_MAX_MINUTES, true),
      },
      fileEvents: {
        mode: oneOf<FileEventMode>('fileEvents.mode', ['off', 'queue', 'wake'], 'queue'),
        idleDelayMs: num('fileEvents.idleDelaySeconds', DEFAULT_FILE_EVENT_IDLE_DELAY_MS / 1000, 5, 3600) * 1000,
      },
      reflection: {
        enabled: bool('reflection.enabled', false),
        model: text('reflection.model', ''),
        afterTurns: num('reflection.afterTurns', REFLECTION_DEFAULT_AFTER_TURNS, 1, REFLECTION_MAX_AFTER_TURNS, true),
        idleMinutes: num('reflection.idleMinutes', REFLECTION_DEFAULT_IDLE_MINUTES, 0, REFLECTION_MAX_IDLE_MINUTES, true),
      },
      index: {
        include: globs('index.include'),
        exclude: globs('index.exclude'),
        maxFileBytes: Math.round(num('index.maxFileSizeKB', INDEX_MAX_FILE_BYTES / 1000, 1, 100_000) * 1000),
        onStartup: bool('index.onStartup', true),
        sharedStore: text('index.sharedStore', ''),
      },
      approval: approval.settings,
      mcpServers,
      search: { rerank: bool('search.rerank', false) },
    },
  };
}

/** An http(s) URL with a host that the URL parser accepts. */
export function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\/[^\s/]+/i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** What only the front end knows: secrets from its own store, and the resolved local model folder. */
export interface SettingsContext {
  apiKey?: string;
  /** The shared index's connection string (SecretStorage, or the environment on the command line). */
  sharedStoreConnection?: string;
  /** The Model2Vec folder to load, already resolved against the downloaded model; '' = none. */
  localModelPath: string;
}

/** The settings as the runtime runs on them. */
export function runtimeConfigFromSettings(settings: MemGptSettings, context: SettingsContext): RuntimeConfig {
  return {
    model: settings.model,
    baseUrl: settings.baseUrl,
    // 'openai' is what an absent provider means (api.anthropic.com as the base URL still means Anthropic).
    ...(settings.provider !== 'openai' ? { provider: settings.provider } : {}),
    ...(context.apiKey ? { apiKey: context.apiKey } : {}),
    contextWindow: settings.contextWindow,
    temperature: settings.temperature,
    requestTimeoutSeconds: settings.requestTimeoutSeconds,
    embeddings: {
      baseUrl: settings.embeddings.baseUrl,
      model: settings.embeddings.model,
      ...(context.localModelPath ? { localModelPath: context.localModelPath } : {}),
    },
    pressureFraction: settings.memory.pressureThreshold,
    stepLimit: settings.agent.heartbeatStepLimit,
    coreMemoryLimits: { block: settings.memory.blockLimitChars, project: settings.memory.projectBlockLimitChars },
    humanScope: settings.memory.humanScope,
    index: { include: settings.index.include, exclude: settings.index.exclude, maxFileBytes: settings.index.maxFileBytes },
    approval: settings.approval,
    mcpServers: settings.mcpServers,
    ...(settings.search.rerank ? { rerank: true } : {}),
    reflection: settings.reflection,
    ...(settings.index.sharedStore !== ''
      ? {
          sharedStore: {
            repository: settings.index.sharedStore,
            ...(context.sharedStoreConnection ? { connectionString: context.sharedStoreConnection } : {}),
          },
        }
      : {}),
  };
}

/** Which top-level parts changed between two settings objects (the runtime reopens only what it must). */
export function changedSections(before: MemGptSettings, after: MemGptSettings): (keyof MemGptSettings)[] {
  return (Object.keys(after) as (keyof MemGptSettings)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}
