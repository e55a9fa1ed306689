/**
 * Functions that come from outside the agent (the tools of MCP servers the user configured),
 * offered next to MemGPT's own. Their list may change between turns (a server starts, stops or
 * is added), never during one. Each call is approved by the user before it runs.
 */
import type { ApprovalRequester } from './approval';
import type { ToolSchema } from './chatModel';

export interface ExternalCallContext {
  /** The model's call id: the approval card sits on that call's card. */
  callId: string;
  signal?: AbortSignal;
  /** Who answers for this turn (the CLI's --yes or terminal); default the window's (the chat card). */
  approver?: ApprovalRequester;
}

export interface ExternalCallOutcome {
  status: 'OK' | 'Failed';
  /** What the model reads (and recall keeps). */
  message: string;
}

export interface ExternalTurnFunctions {
  schemas: ToolSchema[];
  /** What the user should know before the turn (a server still starting, one that failed); shown, not sent to the model. */
  notices: string[];
}

export interface ExternalFunctions {
  /** The functions for the next turn; waits a bounded time for sources still starting. Never rejects. */
  prepareTurn(signal?: AbortSignal): Promise<ExternalTurnFunctions>;
  /** True for a name this source owns (also one whose server has gone since the turn began). */
  owns(name: string): boolean;
  /** Runs one call (approval included); never rejects for what the model, the user or the server did. */
  call(name: string, args: Record<string, unknown>, ctx: ExternalCallContext): Promise<ExternalCallOutcome>;
}
