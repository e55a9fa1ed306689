/**
 * A reflection record in words, the same for the editor and the command line: a one-line summary
 * for lists, and the whole change (every block and item before and after) for a document.
 */
import { scopeDescription } from '../memory/coreMemory';
import type { ReflectionOutcome, ReflectionRecord, ReflectionTrigger } from './reflectionService';

const TRIGGERS: Record<ReflectionTrigger, string> = {
  turns: 'after a number of turns',
  idle: 'while you were away',
  command: 'asked for',
};

function quote(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `"${flat.length > max ? `${flat.slice(0, max - 1)}…` : flat}"`;
}

/** "merged 2 items into 1; shortened human (120 → 52 characters)" */
export function reflectionSummary(record: ReflectionRecord): string {
  const parts: string[] = [];
  const removed = record.merges.reduce((n, m) => n + m.removed.length, 0);
  if (record.merges.length > 0) parts.push(`merged ${removed} items into ${record.merges.length}`);
  for (const b of record.blocks) parts.push(`shortened ${b.label} (${[...b.before].length} → ${[...b.after].length} characters)`);
  return parts.join('; ') || 'no change';
}

/** The whole record: when, why, with which model, then each change before and after. */
export function describeReflection(record: ReflectionRecord): string {
  const lines: string[] = [
    `Reflection ${record.id}`,
    `${record.time} · ${TRIGGERS[record.trigger]} · model ${record.model}${record.undoneAt ? ` · undone at ${record.undoneAt}` : ''}`,
    '',
  ];
  const indent = (text: string): string[] => text.split('\n').map((l) => `    ${l}`);
  for (const b of record.blocks) {
    lines.push(`Block ${b.label} (${scopeDescription(b.scope)}): ${[...b.before].length} → ${[...b.after].length} characters`);
    lines.push('  before:', ...indent(b.before), '  after:', ...indent(b.after), '');
  }
  for (const m of record.merges) {
    lines.push(`Merged ${m.removed.length} remembered items into one:`);
    for (const r of m.removed) lines.push(`  - ${quote(r.text, 400)}`);
    lines.push(`  into: ${quote(m.added.text, 400)}`, '');
  }
  if (record.refused.length > 0) {
    lines.push('Proposed but not made:');
    for (const r of record.refused) lines.push(`  - ${r}`);
    lines.push('');
  }
  if (!record.undoneAt) lines.push('Undo restores every block and item exactly as it was, unless you changed them since.');
  return `${lines.join('\n')}\n`;
}

/** What a pass did, in one sentence. */
export function reflectionOutcomeText(outcome: ReflectionOutcome): string {
  switch (outcome.status) {
    case 'changed':
      return `MemGPT tidied its memory: ${reflectionSummary(outcome.record)}.`;
    case 'unchanged':
      return `MemGPT's memory is unchanged: ${outcome.reason}${outcome.refused.length > 0 ? ` (${outcome.refused.length} proposed changes were refused)` : ''}.`;
    case 'preempted':
      return 'The reflection gave way to your message; memory is unchanged.';
    case 'failed':
      return `The reflection failed and memory is unchanged: ${outcome.error}`;
  }
}
