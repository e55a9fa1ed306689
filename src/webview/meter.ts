/**
 * The context-window meter: tokens used of the window as a stacked bar (system and functions /
 * core memory / summary / messages), the memory-pressure state, and recall and archival counts.
 * A button: it opens the core-memory view.
 */
import type { ContextUsage } from '../core/agent/events';
import { h, icon } from './dom';

const SEGMENTS = [
  { key: 'system', label: 'System & functions', tokens: (u: ContextUsage) => u.systemTokens + u.functionsTokens },
  { key: 'core', label: 'Core memory', tokens: (u: ContextUsage) => u.coreMemoryTokens },
  { key: 'summary', label: 'Summary', tokens: (u: ContextUsage) => u.summaryTokens },
  { key: 'messages', label: 'Messages', tokens: (u: ContextUsage) => u.messagesTokens },
] as const;

const PRESSURE_TEXT: Record<ContextUsage['pressure'], string> = {
  ok: '',
  warned: 'Memory pressure: the agent was asked to save what matters',
  flushing: 'Summarising older messages to free the context window',
};

export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 100_000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  return `${Math.round(n / 1000)}k`;
}

export function createMeter(onOpen: () => void): { element: HTMLButtonElement; update(usage: ContextUsage | null): void } {
  const bar = h('span', { class: 'meter-bar', attrs: { 'aria-hidden': 'true' } });
  const parts = SEGMENTS.map((s) => {
    const part = h('span', { class: `meter-part part-${s.key}` });
    bar.append(part);
    return part;
  });
  const label = h('span', { class: 'meter-label' });
  const counts = h('span', { class: 'meter-counts' });
  const pressure = h('span', { class: 'meter-pressure', attrs: { 'aria-hidden': 'true' } });
  const element = h('button', { class: 'meter', attrs: { type: 'button' } }, bar, label, pressure, counts);
  element.addEventListener('click', onOpen);

  function update(usage: ContextUsage | null): void {
    if (!usage || usage.windowTokens <= 0) {
      element.hidden = false;
      element.classList.add('empty');
      label.textContent = 'Memory';
      counts.replaceChildren();
      pressure.replaceChildren();
      for (const p of parts) p.style.width = '0%';
      element.title = 'Context window: not measured yet (after the first message). Click to open core memory.';
      element.setAttribute('aria-label', element.title);
      return;
    }
    element.classList.remove('empty');
    const window = usage.windowTokens;
    SEGMENTS.forEach((s, i) => {
      // CSSOM, not a style attribute: the CSP forbids inline style attributes, not this.
      parts[i]!.style.width = `${Math.min(100, (Math.max(0, s.tokens(usage)) / window) * 100)}%`;
    });
    const percent = Math.round((usage.usedTokens / window) * 100);
    label.textContent = `${formatTokens(usage.usedTokens)} / ${formatTokens(window)}`;
    counts.replaceChildren(
      h('span', { attrs: { title: 'Messages in recall memory' } }, icon('history'), ` ${usage.recallCount}`),
      h('span', { attrs: { title: 'Passages in archival memory' } }, icon('database'), ` ${usage.archivalCount}`),
    );
    element.dataset.pressure = usage.pressure;
    pressure.replaceChildren(usage.pressure === 'ok' ? '' : icon(usage.pressure === 'flushing' ? 'sync' : 'warning'));
    const breakdown = SEGMENTS.map((s) => `${s.label} ${s.tokens(usage).toLocaleString('en-US')}`).join(', ');
    const press = PRESSURE_TEXT[usage.pressure];
    element.title =
      `Context window: ${usage.usedTokens.toLocaleString('en-US')} of ${window.toLocaleString('en-US')} tokens (${percent}%). ` +
      `${breakdown}.${press ? ` ${press}.` : ''} Recall: ${usage.recallCount} messages, archival: ${usage.archivalCount} passages. ` +
      'Click to open core memory.';
    element.setAttribute('aria-label', element.title);
  }

  update(null);
  return { element, update };
}
