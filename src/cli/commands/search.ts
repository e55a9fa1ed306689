/** `memgpt search <folder> "<query>"`: hybrid archival search (workspace chunks and memories). */
import { CLI_SEARCH_DEFAULT_RESULTS, CLI_SEARCH_EXCERPT_LINES, SEARCH_MAX_RESULTS } from '../../core/limits';
import type { ArchivalHit } from '../../core/interfaces/archivalStore';
import { escapeForDisplay } from '../../core/workspace/displayText';
import { ExitCode, usageError } from '../exitCodes';
import { withSearchRuntime, type CommandContext, type CommandRunner } from './context';

function searchOptions(ctx: CommandContext): { limit: number; source?: 'workspace' | 'memory'; pathGlob?: string } {
  const k = ctx.options.k ?? CLI_SEARCH_DEFAULT_RESULTS;
  if (k < 1 || k > SEARCH_MAX_RESULTS) throw usageError(`-k ${k} is out of range: give 1 to ${SEARCH_MAX_RESULTS} results.`);
  const source = ctx.options.source;
  if (source !== undefined && source !== 'workspace' && source !== 'memory') {
    throw usageError(`--source "${source}" is not a source: use workspace (indexed files) or memory (remembered items).`);
  }
  const query = ctx.args.query!.trim();
  if (query === '') throw usageError('The query is empty: give the words or code to search for.');
  const glob = ctx.options.path?.trim();
  return { limit: k, ...(source ? { source } : {}), ...(glob ? { pathGlob: glob } : {}) };
}

export function hitJson(hit: ArchivalHit, rank: number): Record<string, unknown> {
  return {
    rank,
    source: hit.source,
    path: hit.path ?? null,
    startLine: hit.startLine ?? null,
    endLine: hit.endLine ?? null,
    score: hit.score,
    id: hit.id,
    ...(hit.time ? { time: hit.time } : {}),
    text: hit.text,
  };
}

/** Where a hit is from; the name is escaped, so it can neither fake a second result line nor drive the terminal. */
function location(hit: ArchivalHit): string {
  if (!hit.path) return hit.source === 'memory' ? `memory ${escapeForDisplay(hit.id)}` : escapeForDisplay(hit.id);
  const name = escapeForDisplay(hit.path);
  if (hit.startLine === undefined) return name;
  return `${name}:${hit.startLine}${hit.endLine !== undefined && hit.endLine !== hit.startLine ? `-${hit.endLine}` : ''}`;
}

function excerpt(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n');
  // File text is printed to a terminal: escape sequences and bidi overrides in it are shown, not obeyed.
  const shown = lines.slice(0, CLI_SEARCH_EXCERPT_LINES).map((l) => `    ${escapeForDisplay(l, { line: true })}`);
  if (lines.length > CLI_SEARCH_EXCERPT_LINES)
    shown.push(`    … ${lines.length - CLI_SEARCH_EXCERPT_LINES} more lines (--json prints all)`);
  return shown.join('\n');
}

export const runSearch: CommandRunner = (ctx) => {
  const options = searchOptions(ctx);
  return withSearchRuntime(ctx, async (runtime, folder) => {
    const query = ctx.args.query!.trim();
    const hits = await runtime.memory.searchArchival(query, { ...options, signal: ctx.interrupts.signal });
    if (ctx.interrupts.interrupted) return ExitCode.interrupted;
    const counts = runtime.memory.archivalCounts();
    if (counts.workspace + counts.memory === 0) {
      ctx.out.message(`note: the archival memory of ${folder} is empty. Run \`memgpt index ${ctx.args.folder}\` first.`);
    }
    if (ctx.options.json === true) {
      ctx.out.json({ query, results: hits.map((h, i) => hitJson(h, i + 1)) });
      return ExitCode.ok;
    }
    if (hits.length === 0) {
      ctx.out.message(`No results for "${query}".`);
      return ExitCode.ok;
    }
    ctx.out.content(
      hits.map((h, i) => `${i + 1}. ${location(h)}  (${h.source}, score ${h.score.toFixed(4)})\n${excerpt(h.text)}`).join('\n\n') + '\n',
    );
    return ExitCode.ok;
  });
};
