/**
 * `memgpt chat <folder>`: an interactive session with the workspace's agent. Lines from stdin are
 * user messages (piped input works too); /memory shows memory, /exit or Ctrl-D quits. Ctrl-C cancels
 * the running reply; a second Ctrl-C (or one while idle, then another) quits, after saving.
 */
import * as readline from 'node:readline';
import { TerminalApprover } from '../approvalPrompt';
import { ExitCode } from '../exitCodes';
import { assertModelConfigured, assertWritable, probeServer } from '../session';
import { withRuntime, type CommandRunner } from './context';
import { memoryReport, renderMemoryReport } from './memory';
import { reportTurnEnd, runTurn, selectAgent } from './turn';

const CHAT_HELP = 'Type a message and press Enter. /memory shows core memory and counts, /exit (or Ctrl-D) quits, Ctrl-C cancels a reply.';

export const runChat: CommandRunner = async (ctx) => {
  assertModelConfigured(ctx.config);
  return withRuntime(ctx, async (runtime, folder) => {
    assertWritable(runtime, 'chat');
    // MCP servers start while the model server is checked, so the first turn finds their tools.
    void runtime.mcp.start();
    await probeServer(runtime, ctx.config, ctx.interrupts.signal);
    if (ctx.interrupts.interrupted) return ExitCode.interrupted;
    const agent = await selectAgent(runtime, ctx.options.agent);
    ctx.out.message(`Chatting with agent "${agent.name}" about ${folder}. ${CHAT_HELP}`);

    const interactive = ctx.stdin.isTTY === true && ctx.out.stdoutIsTTY;
    const rl = readline.createInterface({
      input: ctx.stdin,
      ...(interactive ? { output: process.stdout } : {}),
      terminal: interactive,
      prompt: 'you> ',
    });
    let turn: AbortController | null = null;
    let interruptsSinceInput = 0;
    let quitByInterrupt = false;
    const restore = ctx.interrupts.handleWith(() => {
      interruptsSinceInput++;
      if (turn && !turn.signal.aborted) {
        turn.abort(new Error('Interrupted'));
        return;
      }
      if (interruptsSinceInput >= 2) {
        quitByInterrupt = true;
        ctx.interrupts.markInterrupted();
        rl.close();
      } else {
        ctx.out.message('(Ctrl-C again or Ctrl-D to quit)');
      }
    });
    // On a raw-mode terminal Ctrl-C is a keypress readline reports, not a signal.
    rl.on('SIGINT', () => ctx.interrupts.trigger());
    // Edits and commands are asked on the same input: a pending question takes the next line.
    const approver = new TerminalApprover(
      ctx.out,
      (signal) =>
        new Promise((resolve, reject) => {
          if (signal.aborted) return reject(new Error('The question was withdrawn (stopped).'));
          signal.addEventListener('abort', () => reject(new Error('The question was withdrawn (stopped).')), { once: true });
          rl.question('', { signal }, resolve);
        }),
    );
    try {
      if (interactive) rl.prompt();
      for await (const raw of rl) {
        interruptsSinceInput = 0;
        const line = raw.trim();
        if (line === '/exit' || line === '/quit') break;
        if (line === '/memory') {
          ctx.out.content(renderMemoryReport(await memoryReport(runtime, folder, undefined)));
        } else if (line === '/help') {
          ctx.out.message(CHAT_HELP);
        } else if (line.startsWith('/')) {
          ctx.out.message(`Unknown command ${line.split(/\s/)[0]}. ${CHAT_HELP}`);
        } else if (line !== '') {
          turn = new AbortController();
          try {
            reportTurnEnd(ctx.out, await runTurn(runtime, ctx.out, raw, turn.signal, false, approver));
          } finally {
            turn = null;
          }
        }
        if (quitByInterrupt) break;
        if (interactive) rl.prompt();
      }
    } finally {
      restore();
      rl.close();
    }
    return quitByInterrupt ? ExitCode.interrupted : ExitCode.ok;
  });
};
