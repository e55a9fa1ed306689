/**
 * Recall records shaped as the agent writes them (MemGPT envelopes, send_message calls), for the
 * tests of rules that read the newest records (is the user's last message answered?).
 */
import { renderInput } from '../../../src/core/agent/inputMessages';
import type { RecallRecord } from '../../../src/core/interfaces/recallStore';

export const RECORDS_NOW = new Date('2026-12-01T10:00:00Z');

let seq = 0;
/** A record with the next sequence number. */
export function record(fields: Pick<RecallRecord, 'kind' | 'message'> & { automatic?: true }): RecallRecord {
  seq += 1;
  return { id: `r${seq}`, seq, time: RECORDS_NOW.toISOString(), agentId: 'a', ...fields };
}
const mark = (automatic?: true): { automatic?: true } => (automatic ? { automatic } : {});

/** A MemGPT input (user message, editor event) as it is recorded. */
export const input = (message: Parameters<typeof renderInput>[0]): RecallRecord => record(renderInput(message, RECORDS_NOW));
/** The user's message. */
export const said = (text: string): RecallRecord => record(renderInput({ type: 'user_message', text }, RECORDS_NOW));
/** A login event (automatic when a turn nobody asked for wrote it). */
export const loginEvent = (automatic?: true): RecallRecord =>
  record({ ...renderInput({ type: 'login', lastLogin: null }, RECORDS_NOW), ...mark(automatic) });
/** An inner thought of the assistant, no reply. */
export const thought = (automatic?: true): RecallRecord =>
  record({ kind: 'assistant', message: { role: 'assistant', content: 'Hmm.' }, ...mark(automatic) });
/** A reply to the user through send_message. */
export const answer = (text: string, automatic?: true): RecallRecord =>
  record({
    kind: 'assistant',
    message: {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: `c${seq}`, type: 'function', function: { name: 'send_message', arguments: JSON.stringify({ message: text }) } }],
    },
    ...mark(automatic),
  });
