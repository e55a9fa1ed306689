import type { Note } from './model';

/**
 * Case-insensitive search. Words must all appear in the title or body; `#tag` words must match a tag
 * exactly. Title hits rank above body hits.
 */
export function searchNotes(notes: Note[], query: string): Note[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const tags = words.filter((w) => w.startsWith('#')).map((w) => w.slice(1));
  const terms = words.filter((w) => !w.startsWith('#'));
  const scored: { note: Note; score: number }[] = [];
  for (const note of notes) {
    if (!tags.every((t) => note.tags.includes(t))) continue;
    const title = note.title.toLowerCase();
    const body = note.body.toLowerCase();
    if (!terms.every((t) => title.includes(t) || body.includes(t))) continue;
    const score = terms.reduce((s, t) => s + (title.includes(t) ? 2 : 1), 0);
    scored.push({ note, score });
  }
  return scored.sort((a, b) => b.score - a.score).map((s) => s.note);
}
