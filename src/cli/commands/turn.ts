/** What ask and chat share: choosing the agent, running one message, reporting how the turn ended. */
import type { ApprovalRequester } from '../../core/interfaces/approval';
import type { TurnOutcome } from '../../core/runtime/runtimePort';
import type { WorkspaceRuntimePort } from '../../core/runtime/runtimePort';
import { ExitCode } from '../exitCodes';
import type { Output } from '../output';
import { findAgent } from '../session';
import { TurnPrinter } from '../turnPrinter';

/** `--agent` makes that agent the active one (as picking it in the chat view does). */
export async function selectAgent(runtime: WorkspaceRuntimePort, wanted: string | undefined): Promise<{ id: string; name: string }> {
  if (wanted !== undefined) {
    const agent = await findAgent(runtime, wanted);
    if (!agent.active) await runtime.agents.switchAgent(agent.id);
    return agent;
  }
  const agent = await runtime.agent();
  const info = (await runtime.agents.listAgents()).find((a) => a.id === agent.id);
  return { id: agent.id, name: info?.name ?? agent.id };
}

export interface TurnReport {
  outcome: TurnOutcome;
  printer: TurnPrinter;
}

export async function runTurn(
  runtime: WorkspaceRuntimePort,
  out: Output,
  text: string,
  signal: AbortSignal,
  json: boolean,
  approver?: ApprovalRequester,
): Promise<TurnReport> {
  const printer = new TurnPrinter(out, json);
  const outcome = await runtime.chat.handle(
    { type: 'user_message', text },
    { signal, onEvent: printer.onEvent, source: 'cli', ...(approver ? { approver } : {}) },
  );
  printer.finish();
  return { outcome, printer };
}

/** Prints how a turn ended (stderr) and maps it to an exit code. */
export function reportTurnEnd(out: Output, { outcome }: TurnReport): ExitCode {
  switch (outcome.reason) {
    case 'error':
      out.message(`error: ${outcome.error ?? 'the turn failed'}`);
      return ExitCode.runtimeFailure;
    case 'cancelled':
    case 'preempted':
      out.message('Cancelled. The message and everything before it are saved.');
      return ExitCode.interrupted;
    case 'step_limit':
      out.message('note: the agent hit its step limit (too many chained function calls) and was stopped.');
      return ExitCode.ok;
    default:
      if (outcome.messages.length === 0) out.message('note: the agent sent no message this turn.');
      return ExitCode.ok;
  }
}

export function turnJson({ outcome, printer }: TurnReport): Record<string, unknown> {
  return {
    reply: outcome.messages.join('\n\n'),
    functionCalls: printer.functionCalls,
    finishReason: outcome.reason,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
  };
}
