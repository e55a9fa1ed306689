/**
 * How function results look to the model, as MemGPT packages them:
 *   {"status": "OK" | "Failed", "message": <text>, "time": <local time>}
 * Search results are paged with a `Showing n of total results (page p/last):`
 * header (pages are 0-based, as in MemGPT); other results longer than their
 * budget are cut with a visible note, never silently.
 */

export type FunctionStatus = 'OK' | 'Failed';

/** `2024-05-01 02:03:04 PM +0200`: MemGPT's readable local time with the UTC offset. */
export function formatTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const h = date.getHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(h12)}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${h < 12 ? 'AM' : 'PM'} ` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

export function packageResult(status: FunctionStatus, message: string, now: Date): string {
  return JSON.stringify({ status, message, time: formatTime(now) });
}

/**
 * Cuts `text` to `maxChars` with a note that says how much was left out and
 * what to do about it. Cuts at a line break when one is near, so code stays readable.
 */
export function truncateWithNote(text: string, maxChars: number, hint = 'ask for a smaller part'): string {
  if (text.length <= maxChars) return text;
  const note = `\n[... truncated: the result was ${text.length} characters, only the first part is shown; ${hint}.]`;
  const room = Math.max(0, maxChars - note.length);
  let cut = text.slice(0, room);
  const lastBreak = cut.lastIndexOf('\n');
  if (lastBreak > room * 0.8) cut = cut.slice(0, lastBreak);
  return cut + note;
}

/** MemGPT's paging header; `page` is 0-based and `pageCount` may be 0 for no results. */
export function pageHeader(shown: number, total: number, page: number, pageCount: number, totalIsUpperBound = false): string {
  const last = Math.max(0, pageCount - 1);
  return `Showing ${shown} of ${totalIsUpperBound ? 'at most ' : ''}${total} results (page ${page}/${totalIsUpperBound ? 'at most ' : ''}${last}):`;
}

/** A page asked for beyond the last one: say what exists rather than returning nothing. */
export function pageOutOfRange(page: number, total: number, pageCount: number): string {
  return `Page ${page} does not exist: there are ${total} results on ${pageCount} page(s), numbered 0 to ${Math.max(0, pageCount - 1)}.`;
}

/** Clips one search hit or record to its share of the result budget, saying so when it does. */
export function clipItem(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, Math.max(0, maxChars - 40))} [... cut, ${text.length} chars in total]`;
}
