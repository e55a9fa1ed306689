/** `memgpt --help` and `memgpt <command> --help`, generated from the command table. */
import { COMMANDS, OPTIONS, type CommandSpec, type OptionName } from './commandTable';

function optionLine(name: OptionName): string {
  const spec = OPTIONS[name];
  const value = 'valueName' in spec ? ` <${spec.valueName}>` : '';
  // A one-letter option is only ever written short (-k 5).
  const names = 'short' in spec ? (spec.short === name ? `-${name}` : `-${spec.short}, --${name}`) : `--${name}`;
  return `  ${`${names}${value}`.padEnd(34)} ${spec.description}`;
}

function usageLine(c: CommandSpec): string {
  const own = c.options.filter(
    (o) =>
      ![
        'state-dir',
        'base-url',
        'provider',
        'model',
        'context-window',
        'request-timeout',
        'agent',
        'embeddings-base-url',
        'embeddings-model',
        'help',
      ].includes(o),
  );
  const opts = own.map((o) =>
    OPTIONS[o].kind === 'flag' ? `[--${o}]` : `[--${o} ${'valueName' in OPTIONS[o] ? OPTIONS[o].valueName : 'value'}]`,
  );
  return `memgpt ${c.name} ${c.positionals.map((p) => `<${p}>`).join(' ')}${opts.length ? ` ${opts.join(' ')}` : ''}`.replace(
    '[--k N]',
    '[-k N]',
  );
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
  MEMGPT_HUMAN_SCOPE     user (default: the human block is shared by every workspace) or workspace
  MEMGPT_RERANK=1        default for --rerank (search)
  MEMGPT_DEBUG=1         print stack traces and runtime details on stderr`;

export function generalHelp(): string {
  return [
    'memgpt: the MemGPT coding agent of the VS Code extension, headless, on the same memory.',
    '',
    'Usage:',
    ...COMMANDS.map((c) => `  ${usageLine(c)}`),
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    'Options:',
    ...(Object.keys(OPTIONS) as OptionName[]).map(optionLine),
    '',
    ENVIRONMENT_HELP,
    '',
    EXIT_CODES_HELP,
    '',
    'Full guide: docs/cli.md',
  ].join('\n');
}

export function commandHelp(c: CommandSpec): string {
  return [`Usage: ${usageLine(c)}`, '', c.summary, '', 'Options:', ...c.options.map(optionLine), '', EXIT_CODES_HELP].join('\n');
}
