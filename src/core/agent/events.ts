/**
 * What goes into the agent (AgentInput) and what comes out of it (AgentEvent).
 * Every front end (sidebar chat, command line, extension API, tests) speaks these.
 */

export type AgentInput =
  | { type: 'user_message'; text: string }
  | { type: 'login'; lastLogin: string | null }
  | { type: 'system_alert'; text: string }
  | { type: 'file_opened'; path: string }
  | { type: 'file_saved'; path: string }
  | { type: 'selection_remembered'; path: string; startLine: number; endLine: number; memoryId: string }
  | { type: 'core_memory_edited_by_user'; label: string }
  /** An automatic wake-up (file events, timers): not run while heartbeats are paused. */
  | { type: 'heartbeat'; reason: string }
  /** A wake-up the user asked for (Retry): runs even while heartbeats are paused. */
  | { type: 'manual_heartbeat'; reason: string }
  | { type: 'timer'; text: string };

export interface ContextUsage {
  windowTokens: number;
  systemTokens: number;
  coreMemoryTokens: number;
  functionsTokens: number;
  summaryTokens: number;
  messagesTokens: number;
  usedTokens: number;
  /** 'ok' below the pressure threshold, 'warned' after the alert, 'flushing' while summarising. */
  pressure: 'ok' | 'warned' | 'flushing';
  recallCount: number;
  archivalCount: number;
}

export type AgentEvent =
  /** `automatic`: the step belongs to a turn nobody asked for (login, timer, file wake-up); its reply is not an answer to the user. */
  | { type: 'step_started'; stepId: string; step: number; automatic?: true }
  | { type: 'monologue'; stepId: string; text: string }
  | { type: 'monologue_delta'; stepId: string; delta: string }
  | { type: 'function_call_started'; stepId: string; callId: string; name: string; arguments: string }
  | {
      type: 'function_call_finished';
      stepId: string;
      callId: string;
      name: string;
      arguments: string;
      status: 'OK' | 'Failed';
      result: string;
    }
  | { type: 'message_delta'; stepId: string; callId: string; delta: string }
  /** Live output of a running run_command (secrets masked); the function result keeps its head and tail. */
  | { type: 'command_output'; stepId: string; callId: string; chunk: string }
  /** An approved edit_file/write_file changed files; `checkpointId` restores this turn's files. */
  | { type: 'files_changed'; stepId: string; callId: string; checkpointId: string; paths: string[] }
  | { type: 'message_complete'; stepId: string; callId: string; text: string; recallId?: string; partial?: boolean }
  /** `message_cut`: a user message too long for the context reaches the model cut (start, end, a note); recall keeps it whole. */
  | { type: 'system_event'; kind: AgentInput['type'] | 'memory_pressure' | 'summary' | 'message_cut'; text: string }
  | { type: 'memory_changed'; what: 'core' | 'recall' | 'archival' | 'summary' }
  | { type: 'context_usage'; usage: ContextUsage }
  | { type: 'error'; message: string; recoverable: boolean }
  /** The model has not started answering: still waiting (every few seconds), or about to retry and why. Status text, not part of the conversation. */
  | { type: 'model_wait'; stepId: string; kind: 'waiting' | 'retrying'; text: string }
  /** `preempted`: an automatic turn (login, timer, file wake-up, reflection) gave way to the user or was stopped. */
  | { type: 'turn_finished'; reason: 'done' | 'step_limit' | 'cancelled' | 'preempted' | 'error' | 'paused' };

/**
 * Inputs the editor sends on its own (a window opening, a timer, file events waking the agent).
 * A turn they start gives way at once to a message from the user.
 */
export const AUTOMATIC_INPUTS: readonly AgentInput['type'][] = ['login', 'timer', 'heartbeat', 'file_opened', 'file_saved'];

export type AgentEventListener = (event: AgentEvent) => void;
