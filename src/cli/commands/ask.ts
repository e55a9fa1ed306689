/** `memgpt ask <folder> "<message>"`: one user message through the full agent, reply streamed. */
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import { APPROVE_ALL, declineAll, type ApprovalRequester } from '../../core/interfaces/approval';
import { TerminalApprover, type LineReader } from '../approvalPrompt';
import { ExitCode, usageError } from '../exitCodes';
import { assertModelConfigured, assertWritable, probeServer } from '../session';
import { withRuntime, type CommandContext, type CommandRunner } from './context';
import { reportTurnEnd, runTurn, selectAgent, turnJson } from './turn';

async function messageText(ctx: CommandContext): Promise<string> {
  let text = ctx.args.message!;
  if (text === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    text = Buffer.concat(chunks).toString('utf8');
  }
  if (text.trim() === '') throw usageError('The message is empty: give the text to send, e.g. memgpt ask . "Where is the config parsed?"');
  return text;
}

/**
 * --yes approves the turn's edits and commands; a terminal is asked; with neither (a script, a
 * pipe) every edit and command is declined and the model reads why.
 */
function approverFor(ctx: CommandContext, stdinUsed: boolean): ApprovalRequester {
  if (ctx.options.yes === true) return APPROVE_ALL;
  if (ctx.stdin.isTTY === true && !stdinUsed) return new TerminalApprover(ctx.out, terminalLine(ctx.stdin));
  return declineAll(
    'nobody could be asked — memgpt ask ran without a terminal and without --yes. Say what you would change or run, so the user can approve it (memgpt ask --yes) or do it',
  );
}

/** One line from a terminal, read with a short-lived readline so nothing else is consumed. */
function terminalLine(input: Readable): LineReader {
  return (signal) =>
    new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input, terminal: false });
      const onAbort = (): void => {
        rl.close();
        reject(new Error('The question was withdrawn (stopped).'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      rl.once('line', (line) => {
        signal.removeEventListener('abort', onAbort);
        rl.close();
        resolve(line);
      });
    });
}

export const runAsk: CommandRunner = async (ctx) => {
  const json = ctx.options.json === true;
  assertModelConfigured(ctx.config);
  const text = await messageText(ctx);
  return withRuntime(ctx, async (runtime) => {
    assertWritable(runtime, 'ask the agent');
    // MCP servers start while the model server is checked, so the first turn finds their tools.
    void runtime.mcp.start();
    await probeServer(runtime, ctx.config, ctx.interrupts.signal);
    if (ctx.interrupts.interrupted) return ExitCode.interrupted;
    await selectAgent(runtime, ctx.options.agent);
    const report = await runTurn(runtime, ctx.out, text, ctx.interrupts.signal, json, approverFor(ctx, ctx.args.message === '-'));
    const code = reportTurnEnd(ctx.out, report);
    if (json) ctx.out.json(turnJson(report));
    return code;
  });
};
