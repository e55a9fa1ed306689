/**
 * A small typed argument parser: `--name value`, `--name=value`, `-k value`, flags, and `--`
 * to end options. Options may come before or after the command and its positionals, as in git.
 * Anything it does not understand is a usage error (exit 2) naming the offending argument.
 */
import { usageError } from './exitCodes';

export type OptionKind = 'string' | 'integer' | 'flag';

export interface OptionSpec {
  kind: OptionKind;
  /** One-letter alias, e.g. `k` for `-k`. */
  short?: string;
  /** Placeholder shown in help, e.g. `N` or `dir`. */
  valueName?: string;
  description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S['kind'] extends 'flag' ? boolean : S['kind'] extends 'integer' ? number : string;

export type ParsedOptions<S extends OptionSpecs> = { -readonly [K in keyof S]?: ValueOf<S[K]> };

export interface ParsedArgs<S extends OptionSpecs> {
  positionals: string[];
  options: ParsedOptions<S>;
  /** Option names in the order given (to reject those a command does not take). */
  given: string[];
}

export function parseArgs<S extends OptionSpecs>(argv: readonly string[], specs: S): ParsedArgs<S> {
  const positionals: string[] = [];
  const options: Record<string, string | number | boolean> = {};
  const given: string[] = [];
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // A lone "-" is a positional (stdin), and so is a negative-looking word only when no option matches.
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      const letter = arg.slice(1, 2);
      const long = byShort.get(letter);
      if (!long) throw usageError(`Unknown option ${arg}. Run \`memgpt --help\` for the options.`);
      name = long;
      const rest = arg.slice(2);
      inline = rest === '' ? undefined : rest.replace(/^=/, '');
    }
    const spec = specs[name];
    if (!spec) throw usageError(`Unknown option --${name}.${suggest(name, Object.keys(specs))} Run \`memgpt --help\` for the options.`);
    if (name in options) throw usageError(`Option --${name} is given twice; give it once.`);
    given.push(name);
    if (spec.kind === 'flag') {
      if (inline !== undefined) throw usageError(`Option --${name} takes no value (got "${inline}").`);
      options[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw usageError(`Option --${name} needs a value (${spec.valueName ?? 'value'}).`);
    if (spec.kind === 'integer') {
      if (!/^-?\d+$/.test(value.trim())) throw usageError(`Option --${name} needs a whole number; got "${value}".`);
      options[name] = Number(value.trim());
    } else {
      options[name] = value;
    }
  }
  return { positionals, options: options as ParsedOptions<S>, given };
}

function suggest(name: string, known: readonly string[]): string {
  const close = known.find((k) => k.startsWith(name) || name.startsWith(k) || editDistance(k, name) <= 2);
  return close ? ` Did you mean --${close}?` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
