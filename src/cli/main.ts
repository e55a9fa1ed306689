/**
 * `memgpt`: the headless command line over the same core and storage as the VS Code extension.
 * Parses the arguments, runs one command, prints one clear line on failure and exits with the
 * code from exitCodes.ts (0 ok, 1 runtime failure, 2 usage, 3 no model, 4 server unreachable,
 * 5 folder missing, 130 interrupted). Stack traces only with MEMGPT_DEBUG=1.
 */
import { parseArgs } from './args';
import { COMMANDS, OPTIONS, commandSpec, type CommandName } from './commandTable';
import { runAsk } from './commands/ask';
import { runChat } from './commands/chat';
import { runCheckpoints, runRestore } from './commands/checkpoints';
import { runDownloadModel } from './commands/downloadModel';
import type { CommandRunner } from './commands/context';
import { runIndex } from './commands/index';
import { runMcp } from './commands/mcp';
import { runMemory } from './commands/memory';
import { runReflect } from './commands/reflect';
import { runMcpServers } from './commands/mcpServers';
import { runSearch } from './commands/search';
import { runSymbols } from './commands/symbols';
import { runExport, runImport } from './commands/transfer';
import { resolveStateDir, runtimeConfigFrom, type Environment } from './config';
import { CliError, ExitCode, exitCodeFor, usageError } from './exitCodes';
import { commandHelp, generalHelp } from './help';
import { Interrupts } from './interrupts';
import { Output } from './output';
import { cliVersion } from './version';
import { errorMessage } from '../core/base/errors';

const RUNNERS: Record<CommandName, CommandRunner> = {
  index: runIndex,
  search: runSearch,
  symbols: runSymbols,
  ask: runAsk,
  chat: runChat,
  memory: runMemory,
  reflect: runReflect,
  export: runExport,
  import: runImport,
  mcp: runMcp,
  'mcp-servers': runMcpServers,
  checkpoints: runCheckpoints,
  restore: runRestore,
  'download-model': runDownloadModel,
};

export async function runCli(argv: readonly string[], env: Environment, out: Output, interrupts: Interrupts): Promise<ExitCode> {
  try {
    const parsed = parseArgs(argv, OPTIONS);
    if (parsed.options.version === true) {
      out.content(`memgpt ${cliVersion()}\n`);
      return ExitCode.ok;
    }
    const [name, ...rest] = parsed.positionals;
    if (name === undefined) {
      if (parsed.options.help === true) {
        out.content(`${generalHelp()}\n`);
        return ExitCode.ok;
      }
      throw usageError(`No command given. Commands: ${COMMANDS.map((c) => c.name).join(', ')}. Run \`memgpt --help\` for usage.`);
    }
    const spec = commandSpec(name);
    if (!spec)
      throw usageError(`Unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')}. Run \`memgpt --help\` for usage.`);
    if (parsed.options.help === true) {
      out.content(`${commandHelp(spec)}\n`);
      return ExitCode.ok;
    }
    const foreign = parsed.given.find((o) => !(spec.options as readonly string[]).includes(o));
    if (foreign)
      throw usageError(
        `Option --${foreign} does not apply to \`memgpt ${spec.name}\`. Run \`memgpt ${spec.name} --help\` for its options.`,
      );
    if (rest.length < spec.positionals.length) {
      const missing = spec.positionals
        .slice(rest.length)
        .map((p) => `<${p}>`)
        .join(' ');
      throw usageError(`\`memgpt ${spec.name}\` needs ${missing}. Usage: ${commandHelp(spec).split('\n')[0]!.replace('Usage: ', '')}`);
    }
    if (rest.length > spec.positionals.length) {
      throw usageError(
        `Unexpected argument "${rest[spec.positionals.length]}" for \`memgpt ${spec.name}\`. Quote a message or query that has spaces.`,
      );
    }
    const args = Object.fromEntries(spec.positionals.map((p, i) => [p, rest[i]!]));
    const config = runtimeConfigFrom(parsed.options, env);
    const stateDir = resolveStateDir(parsed.options, env);
    const code = await RUNNERS[spec.name]({
      command: spec,
      args,
      options: parsed.options,
      config,
      stateDir,
      out,
      interrupts,
      // Read on use: creating process.stdin loads Node's stream modules, which a search never needs.
      get stdin() {
        return process.stdin;
      },
      // 0 or undefined when the terminal does not report a size (e.g. under `script`).
      columns: () => process.stderr.columns || 80,
    });
    return interrupts.interrupted ? ExitCode.interrupted : code;
  } catch (error) {
    if (interrupts.interrupted) {
      out.message('Interrupted. State was saved.');
      return ExitCode.interrupted;
    }
    if (error instanceof CliError) {
      out.message(`memgpt: ${error.message}`);
      return error.exitCode;
    }
    const text = errorMessage(error);
    out.message(`memgpt: ${text}${out.debug ? '' : ' (run with MEMGPT_DEBUG=1 for details)'}`);
    if (out.debug && error instanceof Error && error.stack) out.message(error.stack);
    return exitCodeFor(error);
  }
}

function start(): void {
  const env = process.env;
  const out = new Output(process.stdout, process.stderr, env.OPENAI_API_KEY, env.MEMGPT_DEBUG === '1');
  // `memgpt search … | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok);
  });
  const interrupts = new Interrupts(() => {
    out.message('Interrupted again: exiting without waiting for the memory to be saved.');
    process.exit(ExitCode.interrupted);
  });
  const uninstall = interrupts.install();
  void runCli(process.argv.slice(2), env, out, interrupts).then((code) => {
    uninstall();
    // Exit explicitly: keep-alive sockets of the model client would otherwise hold the process open.
    process.stdout.write('', () => process.exit(code));
  });
}

start();
