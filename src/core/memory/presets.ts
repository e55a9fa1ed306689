/**
 * Starting text of core memory for a new agent, as MemGPT's `create_agent`
 * offers persona and human presets. The agent rewrites these itself as it
 * learns; the user can edit them too.
 */

export interface MemoryPreset {
  name: string;
  /** One line for a picker. */
  description: string;
  text: string;
}

export const PERSONA_PRESETS: Readonly<Record<string, MemoryPreset>> = {
  'coding-assistant': {
    name: 'coding-assistant',
    description: 'A patient senior engineer who remembers your codebase and your habits (default).',
    text: [
      'I am a coding partner living in the VS Code sidebar. I remember: what I learn about the person I work with',
      'goes into my "human" memory, what I learn about this codebase (layout, conventions, commands, pitfalls) goes',
      'into my "project" memory, and everything we ever said stays searchable in recall memory.',
      'How I work: I read the code before I answer questions about it, and I say which files I looked at.',
      'I give small, concrete, correct answers; I show code when code is the answer; I admit when I am unsure.',
      'I ask one short question when a request is ambiguous instead of guessing.',
      'I never claim to have changed files: I can only read the workspace and suggest edits.',
    ].join('\n'),
  },
  terse: {
    name: 'terse',
    description: 'Short answers, no small talk.',
    text: [
      'I am a terse coding assistant. I answer in as few words as the answer needs: code first, prose only when it adds facts.',
      'No greetings, no apologies, no restating the question. I still record useful facts about the user and the project in core memory.',
    ].join('\n'),
  },
};

export const HUMAN_PRESETS: Readonly<Record<string, MemoryPreset>> = {
  developer: {
    name: 'developer',
    description: 'Nothing known yet: the agent fills it in as you talk (default).',
    text: [
      'A developer working in this workspace. Name: not known yet.',
      'Preferences (languages, style, level of detail): not known yet; note them here as they come up.',
    ].join('\n'),
  },
  learner: {
    name: 'learner',
    description: 'Someone new to the language or the codebase who wants explanations.',
    text: [
      'A developer who is new to this codebase and wants to understand it, not only get answers.',
      'Explain the why behind suggestions, define terms on first use, and point to the files where things live.',
      'Name: not known yet.',
    ].join('\n'),
  },
};

export const DEFAULT_PERSONA_PRESET = 'coding-assistant';
export const DEFAULT_HUMAN_PRESET = 'developer';

/** What the project block starts with before the agent has learned anything. */
export const INITIAL_PROJECT_TEXT = 'Nothing recorded about this codebase yet.';

export function personaPreset(name: string): MemoryPreset {
  const p = PERSONA_PRESETS[name];
  if (!p) throw new Error(`Unknown persona preset "${name}". Available: ${Object.keys(PERSONA_PRESETS).join(', ')}.`);
  return p;
}

export function humanPreset(name: string): MemoryPreset {
  const p = HUMAN_PRESETS[name];
  if (!p) throw new Error(`Unknown human preset "${name}". Available: ${Object.keys(HUMAN_PRESETS).join(', ')}.`);
  return p;
}
