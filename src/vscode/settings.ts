/**
 * The extension's settings as one typed, validated object. Editor-free (a `get(key)` function
 * stands in for `WorkspaceConfiguration.get`), so the parsing rules and env fallbacks are unit
 * tested; `config.ts` connects it to VS Code. A bad value never crashes activation: it falls back
 * to the default and the problem is reported in `problems`, in words a user can act on.
 */
import { approvalSettingsFrom, type ApprovalSettings } from '../core/acting/approvalPolicy';
import type { HumanScope } from '../core/memory/memoryScopes';
import type { FileEventMode } from '../core/events/fileEventCoalescer';
import { DEFAULT_EMBEDDINGS_MODEL, type ChatProvider } from '../core/runtime/runtimeConfig';
import {
  CORE_MEMORY_BLOCK_LIMIT_CHARS,
  CORE_MEMORY_PROJECT_LIMIT_CHARS,
  DEFAULT_FILE_EVENT_IDLE_DELAY_MS,
  DEFAULT_HEARTBEAT_STEP_LIMIT,
  TIMER_HEARTBEAT_MAX_MINUTES,
  DEFAULT_MEMORY_PRESSURE_FRACTION,
  DEFAULT_TEMPERATURE,
  INDEX_MAX_FILE_BYTES,
  LLM_REQUEST_TIMEOUT_MAX_SECONDS,
  LLM_REQUEST_TIMEOUT_MIN_SECONDS,
  LLM_REQUEST_TIMEOUT_MS,
  MIN_CONTEXT_WINDOW_TOKENS,
} from '../core/limits';

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
  index: {
    include: string[];
    exclude: string[];
    maxFileBytes: number;
    onStartup: boolean;
    /** '' off; 'auto' or a repository id: read the shared index published from CI (connection string in SecretStorage). */
    sharedStore: string;
  };
  /** Who approves the agent's edits and commands (memgpt.approval.*). */
  approval: ApprovalSettings;
  /** MCP servers for the agent (the shape of .vscode/mcp.json); each server is checked when it is started. */
  mcpServers: Record<string, unknown>;
}

/** Every setting key this module reads (the full name is `memgpt.<key>`). */
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
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

export interface ParsedSettings {
  settings: MemGptSettings;
  /** One sentence per rejected value: which setting, what was wrong, what is used instead. */
  problems: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

export function parseSettings(get: (key: SettingKey) => unknown, env: Env = {}): ParsedSettings {
  const problems: string[] = [];
  const bad = (key: SettingKey, value: unknown, expected: string, fallback: unknown): void => {
    problems.push(`Setting memgpt.${key} is ${JSON.stringify(value)}, but it must be ${expected}; using ${JSON.stringify(fallback)}.`);
  };
  const text = (key: SettingKey, fallback: string): string => {
    const v = get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') {
      bad(key, v, 'a string', fallback);
      return fallback;
    }
    return v.trim();
  };
  const num = (key: SettingKey, fallback: number, min: number, max: number, integer = false): number => {
    const v = get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      bad(key, v, `${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`, fallback);
      return fallback;
    }
    return v;
  };
  const bool = (key: SettingKey, fallback: boolean): boolean => {
    const v = get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      bad(key, v, 'true or false', fallback);
      return fallback;
    }
    return v;
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

  let contextWindow = num('contextWindow', 0, 0, 10_000_000, true);
  if (contextWindow !== 0 && contextWindow < MIN_CONTEXT_WINDOW_TOKENS) {
    bad('contextWindow', contextWindow, `0 (automatic) or at least ${MIN_CONTEXT_WINDOW_TOKENS}`, 0);
    contextWindow = 0;
  }
  const modeValue = get('fileEvents.mode') ?? 'queue';
  let mode: FileEventMode = 'queue';
  if (modeValue === 'off' || modeValue === 'queue' || modeValue === 'wake') mode = modeValue;
  else bad('fileEvents.mode', modeValue, '"off", "queue" or "wake"', 'queue');

  const humanScopeValue = get('memory.humanScope') ?? 'user';
  let humanScope: HumanScope = 'user';
  if (humanScopeValue === 'user' || humanScopeValue === 'workspace') humanScope = humanScopeValue;
  else bad('memory.humanScope', humanScopeValue, '"user" or "workspace"', 'user');

  const providerValue = get('provider') ?? 'openai';
  let provider: ChatProvider = 'openai';
  if (providerValue === 'openai' || providerValue === 'anthropic' || providerValue === 'vscode-lm') provider = providerValue;
  else bad('provider', providerValue, '"openai", "anthropic" or "vscode-lm"', 'openai');
  // Each provider's own variable: an OpenAI server's address must not become the Anthropic endpoint.
  const baseUrl = text('baseUrl', '') || ((provider === 'anthropic' ? env.ANTHROPIC_BASE_URL : env.OPENAI_BASE_URL) ?? '').trim();
  const model = text('model', '') || (env.MEMGPT_MODEL ?? '').trim() || (env.OPENAI_MODEL ?? '').trim();
  for (const [key, url] of [
    ['baseUrl', baseUrl],
    ['embeddings.baseUrl', text('embeddings.baseUrl', '')],
  ] as const) {
    if (url && !/^https?:\/\/[^\s/]+/i.test(url)) {
      problems.push(
        `Setting memgpt.${key} is "${url}", which is not an http(s) URL (e.g. http://127.0.0.1:11434/v1). Fix it in Settings; until then requests to it will fail.`,
      );
    }
  }

  // A wrong value falls back to asking, never to something more permissive.
  const approval = approvalSettingsFrom({
    edits: get('approval.edits') ?? undefined,
    commands: get('approval.commands') ?? undefined,
    allowedCommands: get('approval.allowedCommands') ?? undefined,
  });
  for (const p of approval.problems) problems.push(`Setting ${p.message}`);

  const mcpValue = get('mcpServers');
  let mcpServers: Record<string, unknown> = {};
  if (typeof mcpValue === 'object' && mcpValue !== null && !Array.isArray(mcpValue)) mcpServers = mcpValue as Record<string, unknown>;
  else if (mcpValue !== undefined && mcpValue !== null) bad('mcpServers', mcpValue, 'an object like { "servers": { … } }', {});

  return {
    problems,
    settings: {
      model,
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
        baseUrl: text('embeddings.baseUrl', ''),
        model: text('embeddings.model', DEFAULT_EMBEDDINGS_MODEL) || DEFAULT_EMBEDDINGS_MODEL,
        localModelPath: text('embeddings.localModelPath', '') || (env.MEMGPT_LOCAL_MODEL ?? '').trim(),
      },
      memory: {
        blockLimitChars: num('memory.blockLimitChars', CORE_MEMORY_BLOCK_LIMIT_CHARS, 200, 100_000, true),
        projectBlockLimitChars: num('memory.projectBlockLimitChars', CORE_MEMORY_PROJECT_LIMIT_CHARS, 200, 100_000, true),
        pressureThreshold: num('memory.pressureThreshold', DEFAULT_MEMORY_PRESSURE_FRACTION, 0.3, 0.95),
        humanScope,
      },
      agent: {
        heartbeatStepLimit: num('agent.heartbeatStepLimit', DEFAULT_HEARTBEAT_STEP_LIMIT, 1, 100, true),
        timerHeartbeatMinutes: num('agent.timerHeartbeatMinutes', 0, 0, TIMER_HEARTBEAT_MAX_MINUTES, true),
      },
      fileEvents: {
        mode,
        idleDelayMs: num('fileEvents.idleDelaySeconds', DEFAULT_FILE_EVENT_IDLE_DELAY_MS / 1000, 5, 3600) * 1000,
      },
      index: {
        include: globs('index.include'),
        exclude: globs('index.exclude'),
        maxFileBytes: Math.round(num('index.maxFileSizeKB', INDEX_MAX_FILE_BYTES / 1000, 1, 100_000) * 1000),
        onStartup: bool('index.onStartup', true),
        sharedStore: text('index.sharedStore', '').trim(),
      },
      approval: approval.settings,
      mcpServers,
    },
  };
}

/** Which top-level parts changed between two settings objects (the runtime reopens only what it must). */
export function changedSections(before: MemGptSettings, after: MemGptSettings): (keyof MemGptSettings)[] {
  return (Object.keys(after) as (keyof MemGptSettings)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}
