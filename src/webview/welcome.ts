/**
 * The welcome state of an empty chat: what MemGPT is, a few prompts to start with, and where the
 * memory features live in the editor. A prompt is sent as is; a pointer runs the editor feature.
 */
import type { ChatTool } from '../protocol';
import { h, icon } from './dom';

export interface WelcomeActions {
  ask(prompt: string): void;
  openTool(tool: ChatTool): void;
}

/** Prompts that show what a memory-keeping agent does differently, one click each. */
export const EXAMPLE_PROMPTS: readonly string[] = [
  'Give me a tour of this workspace: where does the main logic live?',
  'Remember that I prefer small functions and early returns.',
  'What do you remember about me and this project?',
];

const POINTERS: readonly { tool: ChatTool; icon: string; label: string; hint: string }[] = [
  { tool: 'rememberSelection', icon: 'bookmark', label: 'Remember Selection', hint: 'select code in an editor, then right-click' },
  { tool: 'searchMemory', icon: 'search', label: 'Search Memory', hint: 'code, the conversation and saved memories' },
  { tool: 'showCoreMemory', icon: 'note', label: 'Core memory', hint: 'what MemGPT knows about you; edit it' },
];

export function createWelcome(actions: WelcomeActions): HTMLElement {
  const prompts = h('div', { class: 'welcome-prompts', attrs: { role: 'group', 'aria-label': 'Try asking' } });
  for (const prompt of EXAMPLE_PROMPTS) {
    const b = h('button', { class: 'welcome-prompt', attrs: { type: 'button' } }, icon('comment'), h('span', { text: prompt }));
    b.addEventListener('click', () => actions.ask(prompt));
    prompts.append(b);
  }
  const pointers = h('ul', { class: 'welcome-pointers', attrs: { 'aria-label': 'Memory in the editor' } });
  for (const p of POINTERS) {
    const b = h(
      'button',
      { class: 'text-button welcome-tool', attrs: { type: 'button', 'data-tool': p.tool } },
      icon(p.icon),
      h('span', { text: p.label }),
    );
    b.addEventListener('click', () => actions.openTool(p.tool));
    pointers.append(h('li', {}, b, h('span', { class: 'welcome-hint', text: p.hint })));
  }
  return h(
    'section',
    { class: 'empty-state welcome', attrs: { 'aria-label': 'Welcome' } },
    icon('hubot'),
    h('h2', { class: 'welcome-title', text: 'Ask about your code' }),
    h('p', {
      text: 'MemGPT keeps what matters in its memory, across sessions: what you tell it, what it read, what you asked it to remember.',
    }),
    prompts,
    pointers,
  );
}
