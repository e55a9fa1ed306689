import { randomUUID } from 'node:crypto';
import { CoreMemory, type CoreMemoryJSON } from '../memory/coreMemory';
import { DEFAULT_HUMAN_PRESET, DEFAULT_PERSONA_PRESET } from '../memory/presets';
import { UnsupportedFileError } from '../storage/atomicFile';

/**
 * Everything about one agent that is not in recall memory: what it knows
 * (core memory), what it currently sees (the recall ids in its FIFO queue and
 * the recursive summary), and bookkeeping. Saved atomically as one JSON file.
 * Fields may be added (optional, or with a default in `validateAgentState`);
 * anything else needs a schema version bump and a migration below.
 */

export const AGENT_STATE_SCHEMA_VERSION = 1;

export interface AgentSummary {
  text: string;
  /** How many recall messages the summary covers (all evictions so far). */
  recallIdsCovered?: number;
  updatedAt: string;
}

export interface AgentState {
  schemaVersion: number;
  id: string;
  name: string;
  createdAt: string;
  personaPreset: string;
  humanPreset: string;
  coreMemory: CoreMemoryJSON;
  /** Recall ids of the messages in the FIFO queue, oldest first. */
  inContextIds: string[];
  summary: AgentSummary | null;
  /** The one-time memory-pressure alert was already sent (reset by a flush). */
  pressureWarned: boolean;
  lastLogin: string | null;
  counters: { steps: number; messages: number; flushes: number };
  settingsUsed: { model: string; contextWindow: number; embedderId: string };
}

export function createAgentState(init: {
  name: string;
  personaPreset?: string;
  humanPreset?: string;
  settingsUsed?: Partial<AgentState['settingsUsed']>;
  now?: Date;
}): AgentState {
  const personaPreset = init.personaPreset ?? DEFAULT_PERSONA_PRESET;
  const humanPreset = init.humanPreset ?? DEFAULT_HUMAN_PRESET;
  const name = init.name.trim();
  if (name === '') throw new Error('An agent needs a name.');
  const now = init.now ?? new Date();
  return {
    schemaVersion: AGENT_STATE_SCHEMA_VERSION,
    id: randomUUID(),
    name,
    createdAt: now.toISOString(),
    personaPreset,
    humanPreset,
    coreMemory: CoreMemory.create({ personaPreset, humanPreset }, { now: () => now }).toJSON(),
    inContextIds: [],
    summary: null,
    pressureWarned: false,
    lastLogin: null,
    counters: { steps: 0, messages: 0, flushes: 0 },
    settingsUsed: { model: '', contextWindow: 0, embedderId: '', ...init.settingsUsed },
  };
}

export class AgentStateTooNewError extends UnsupportedFileError {
  constructor(readonly found: number) {
    super(
      `This agent was saved by a newer version of MemGPT (agent schema ${found}; this version understands up to ` +
        `${AGENT_STATE_SCHEMA_VERSION}). Update the extension to use it. The file was left unchanged.`,
    );
    this.name = 'AgentStateTooNewError';
  }
}

/** Upgrades of a raw saved state, by the version they produce (none yet: v1 is the first). */
export const AGENT_STATE_MIGRATIONS: Readonly<Record<number, (raw: Record<string, unknown>) => Record<string, unknown>>> = {};

function fail(field: string, expected: string): never {
  throw new Error(`agent state field "${field}" must be ${expected}`);
}
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : fail(k, 'a string'));
const count = (o: Record<string, unknown>, k: string, prefix: string): number => {
  const v = o[k] ?? 0;
  return Number.isInteger(v) && (v as number) >= 0 ? (v as number) : fail(`${prefix}${k}`, 'a non-negative integer');
};

/**
 * Checks (and upgrades) a parsed state file. Throws AgentStateTooNewError for
 * a newer schema, or an Error naming the first bad field.
 */
export function validateAgentState(value: unknown, migrations = AGENT_STATE_MIGRATIONS, latest = AGENT_STATE_SCHEMA_VERSION): AgentState {
  if (!isObj(value)) fail('(root)', 'an object');
  let raw: Record<string, unknown> = value;
  const version = raw.schemaVersion;
  if (!Number.isInteger(version) || (version as number) < 1) fail('schemaVersion', 'a positive integer');
  if ((version as number) > latest) throw new AgentStateTooNewError(version as number);
  for (let v = (version as number) + 1; v <= latest; v++) {
    const up = migrations[v];
    if (!up) throw new Error(`no migration of agent state to schema ${v}`);
    raw = { ...up(raw), schemaVersion: v };
  }
  const coreMemory = CoreMemory.fromJSON(raw.coreMemory).toJSON();
  const ids = raw.inContextIds;
  if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) fail('inContextIds', 'an array of strings');
  let summary: AgentSummary | null = null;
  if (raw.summary !== null && raw.summary !== undefined) {
    if (!isObj(raw.summary)) fail('summary', 'an object or null');
    const s = raw.summary;
    summary = { text: str(s, 'text'), updatedAt: str(s, 'updatedAt') };
    if (s.recallIdsCovered !== undefined) summary.recallIdsCovered = count(s, 'recallIdsCovered', 'summary.');
  }
  const lastLogin = raw.lastLogin ?? null;
  if (lastLogin !== null && typeof lastLogin !== 'string') fail('lastLogin', 'a string or null');
  const counters = isObj(raw.counters) ? raw.counters : {};
  const settings = isObj(raw.settingsUsed) ? raw.settingsUsed : {};
  const contextWindow = settings.contextWindow ?? 0;
  if (typeof contextWindow !== 'number' || !(contextWindow >= 0)) fail('settingsUsed.contextWindow', 'a non-negative number');
  // Spread first so fields added later by other modules survive a load/save round trip.
  return {
    ...raw,
    schemaVersion: latest,
    id: str(raw, 'id'),
    name: str(raw, 'name'),
    createdAt: str(raw, 'createdAt'),
    personaPreset: typeof raw.personaPreset === 'string' ? raw.personaPreset : DEFAULT_PERSONA_PRESET,
    humanPreset: typeof raw.humanPreset === 'string' ? raw.humanPreset : DEFAULT_HUMAN_PRESET,
    coreMemory,
    inContextIds: [...(ids as string[])],
    summary,
    pressureWarned: raw.pressureWarned === true,
    lastLogin: lastLogin as string | null,
    counters: {
      steps: count(counters, 'steps', 'counters.'),
      messages: count(counters, 'messages', 'counters.'),
      flushes: count(counters, 'flushes', 'counters.'),
    },
    settingsUsed: {
      model: typeof settings.model === 'string' ? settings.model : '',
      contextWindow,
      embedderId: typeof settings.embedderId === 'string' ? settings.embedderId : '',
    },
  };
}
