/** `memgpt symbols <folder> <name>`: where a code symbol is defined, then where it is used. */
import type { SymbolDefinition } from '../../core/interfaces/symbols';
import { SYMBOL_RESULTS_MAX } from '../../core/limits';
import { escapeForDisplay } from '../../core/workspace/displayText';
import { ExitCode, usageError } from '../exitCodes';
import { withRuntime, type CommandRunner } from './context';

function definitionLine(d: SymbolDefinition): string {
  const scope = d.container ? ` in ${escapeForDisplay(d.container)}` : '';
  const doc = d.doc ? `\n      ${escapeForDisplay(d.doc.length > 160 ? `${d.doc.slice(0, 159)}…` : d.doc)}` : '';
  return `  ${escapeForDisplay(d.path)}:${d.line}  ${d.kind} ${escapeForDisplay(d.name)}${scope}\n      ${escapeForDisplay(d.signature)}${doc}`;
}

export const runSymbols: CommandRunner = (ctx) => {
  const name = ctx.args.name!.trim();
  if (name === '') throw usageError('The name is empty: give an identifier from the code, e.g. parseConfig or Server.listen.');
  return withRuntime(ctx, async (runtime, folder) => {
    const symbols = runtime.index.symbols;
    const r = symbols.find(name, SYMBOL_RESULTS_MAX);
    if (symbols.fileCount === 0) {
      ctx.out.message(`note: no code symbols are indexed for ${folder}. Run \`memgpt index ${ctx.args.folder}\` first.`);
    }
    if (ctx.options.json === true) {
      ctx.out.json({ name, definitions: r.definitions, references: r.references, moreReferences: r.moreReferences });
      return ExitCode.ok;
    }
    if (r.definitions.length === 0 && r.references.length === 0) {
      ctx.out.message(`No definition or use of "${escapeForDisplay(name)}" is indexed.`);
      return ExitCode.ok;
    }
    const lines: string[] = [];
    lines.push(
      r.definitions.length > 0
        ? `Definitions of ${escapeForDisplay(name)} (${r.definitions.length}):`
        : `No definition of ${escapeForDisplay(name)} is indexed (it may come from a dependency).`,
    );
    lines.push(...r.definitions.map(definitionLine));
    const total = r.references.length + r.moreReferences;
    if (total > 0) {
      lines.push(`References (${total}${r.moreReferences > 0 ? `, first ${r.references.length} shown` : ''}):`);
      lines.push(...r.references.map((u) => `  ${escapeForDisplay(u.path)}:${u.line}`));
    }
    ctx.out.content(`${lines.join('\n')}\n`);
    return ExitCode.ok;
  });
};
