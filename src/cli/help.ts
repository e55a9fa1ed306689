/** `memgpt --help` and `memgpt <command> --help`, generated from the command table. */
import { COMMANDS, COMMON_OPTIONS, OPTIONS, type CommandSpec, type OptionName } from './commandTable';

function optionLine(name: OptionName): string {
  const spec = OPTIONS[name];
  const value = 'valueName' in spec ? ` <${spec.valueName}>` : '';
  // A one-letter option is only ever written short (-k 5).
  const names = 'short' in spec ? (spec.short === name ? `-${name}` : `-${spec.short}, --${name}`) : `--${name}`;
  return `  ${`${names}${value}`.padEnd(34)} ${spec.description}`;
}

/** The options a command takes beyond the common ones. */
function ownOptions(c: CommandSpec): OptionName[] {
  return c.options.filter((o) => !COMMON_OPTIONS.includes(o));
}

function usageLine(c: CommandSpec): string {
  const opts = ownOptions(c).map((o) => {
    const spec = OPTIONS[o];
    const flag = 'short' in spec && spec.short === o ? `-${o}` : `--${o}`;
    return spec.kind === 'flag' ? `[${flag}]` : `[${flag} ${'valueName' in spec ? spec.valueName : 'value'}]`;
  });
  return ['memgpt', c.name, ...c.positionals.map((p) => `<${p}>`), ...opts, '[common options]'].join(' ');
}

export const EXIT_CODES_HELP = `Exit codes:
  0    ok
  1    runtime failure (the turn failed; memory locked by another process for ask/chat/index/import)
  2    usage error (unknown command or option, missing argument, unreadable file)
  3    no model configured (no OPENAI_API_KEY for OpenAI, no ANTHROPIC_API_KEY for Anthropic, and no --base-url / OPENAI_BASE_URL)
  4    model server unreachable
  5    folder missing or not a folder
  130  interrupted (Ctrl-C); state was saved`;

const ENVIRONMENT_HELP = `Environment:
  OPENAI_API_KEY         API key (never a flag, never printed); needed for OpenAI, optional elsewhere
  OPENAI_BASE_URL        default for --base-url
  ANTHROPIC_API_KEY      API key with --provider anthropic (never a flag, never printed)
  ANTHROPIC_BASE_URL     default for --base-url with --provider anthropic
  MEMGPT_MODEL, OPENAI_MODEL   default for --model
  MEMGPT_STATE_DIR       default for --state-dir
  MEMGPT_LOCAL_MODEL     default for --local-model
  MEMGPT_REFLECTION_MODEL  the model reflect uses (default: the chat model)
  MEMGPT_HUMAN_SCOPE     user (default: the human block is shared by every workspace) or workspace
  MEMGPT_RERANK=1        default for --rerank (search)
  MEMGPT_POSTGRES_URL    the team's shared index (postgres://…; never printed)
  MEMGPT_SHARED_STORE    auto or a repository id: read the shared index in MEMGPT_POSTGRES_URL
  MEMGPT_DEBUG=1         print stack traces and runtime details on stderr
  NODE_DISABLE_COMPILE_CACHE=1  compile the command line from source (no code cache in the temp dir)`;

/** Command names line up in one column, the longest one included. */
const NAME_WIDTH = Math.max(...COMMANDS.map((c) => c.name.length)) + 1;

export function generalHelp(): string {
  return [
    'memgpt: the MemGPT coding agent of the VS Code extension, headless, on the same memory.',
    '',
    'Usage:',
    ...COMMANDS.map((c) => `  ${usageLine(c)}`),
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(NAME_WIDTH)} ${c.summary}`),
    '',
    'Common options (every command):',
    ...COMMON_OPTIONS.map(optionLine),
    '',
    'Command options:',
    ...(Object.keys(OPTIONS) as OptionName[]).filter((o) => !COMMON_OPTIONS.includes(o)).map(optionLine),
    '',
    ENVIRONMENT_HELP,
    '',
    EXIT_CODES_HELP,
    '',
    'Full guide: docs/cli.md',
  ].join('\n');
}

export function commandHelp(c: CommandSpec): string {
  const own = ownOptions(c);
  return [
    `Usage: ${usageLine(c)}`,
    '',
    c.summary,
    '',
    ...(own.length > 0 ? ['Options:', ...own.map(optionLine), ''] : []),
    'Common options:',
    ...COMMON_OPTIONS.map(optionLine),
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}
