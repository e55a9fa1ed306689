/**
 * The extension's settings: the one schema in `core/runtime/settingsSchema.ts` read through a
 * `get(key)` function (VS Code's configuration in `config.ts`), with every problem worded as a
 * setting the user can fix. A bad value never crashes activation: it falls back to the default
 * and the problem is reported, in words a user can act on.
 */
import { assertNever } from '../core/base/errors';
import {
  parseSettings as parseSchema,
  type Environment,
  type MemGptSettings,
  type SettingKey,
  type SettingProblem,
} from '../core/runtime/settingsSchema';

export { changedSections, SETTING_KEYS, type MemGptSettings, type SettingKey } from '../core/runtime/settingsSchema';

export interface ParsedSettings {
  settings: MemGptSettings;
  /** One sentence per rejected value: which setting, what was wrong, what is used instead. */
  problems: string[];
}

export function parseSettings(get: (key: SettingKey) => unknown, env: Environment = {}): ParsedSettings {
  const parsed = parseSchema(get, env);
  return { settings: parsed.settings, problems: parsed.problems.map(settingProblemText) };
}

/** A problem as the Settings UI user reads it. */
export function settingProblemText(p: SettingProblem): string {
  switch (p.kind) {
    case 'invalid':
      return `Setting memgpt.${p.key} is ${JSON.stringify(p.value)}, but it must be ${p.expected}; using ${JSON.stringify(p.fallback)}.`;
    case 'url':
      return `Setting memgpt.${p.key} is "${p.value}", which is not ${p.expected}. Fix it in Settings; until then requests to it will fail.`;
    case 'approval':
      return `Setting ${p.message}`;
    default:
      return assertNever(p);
  }
}
