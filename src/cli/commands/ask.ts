/** `memgpt ask <folder> "<message>"`: one user message through the full agent, reply streamed. */
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

export const runAsk: CommandRunner = async (ctx) => {
  const json = ctx.options.json === true;
  assertModelConfigured(ctx.config);
  const text = await messageText(ctx);
  return withRuntime(ctx, async (runtime) => {
    assertWritable(runtime, 'ask the agent');
    await probeServer(runtime, ctx.config, ctx.interrupts.signal);
    if (ctx.interrupts.interrupted) return ExitCode.interrupted;
    await selectAgent(runtime, ctx.options.agent);
    const report = await runTurn(runtime, ctx.out, text, ctx.interrupts.signal, json);
    const code = reportTurnEnd(ctx.out, report);
    if (json) ctx.out.json(turnJson(report));
    return code;
  });
};
