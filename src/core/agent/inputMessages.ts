import type { ChatMessage } from '../interfaces/chatModel';
import type { RecallKind } from '../interfaces/recallStore';
import { formatTime } from '../functions/results';
import type { AgentInput } from './events';

/**
 * How events become messages. As in MemGPT, every event is a `user`-role
 * message holding a JSON envelope with its type and time:
 *   {"type": "user_message", "message": "hi", "time": "2024-05-01 02:03:04 PM +0200"}
 *   {"type": "file_saved", "path": "src/app.ts", "message": "...", "time": ...}
 * The envelope tells the model who is speaking (the user, or the system on
 * the editor's behalf) and when, which conversation_search_date relies on.
 * The user role (not system) keeps local chat templates happy: many accept a
 * system message only at the start.
 */

export interface RenderedInput {
  kind: RecallKind;
  message: ChatMessage;
  /** Short text for the UI's system_event. */
  notice: string;
  /** What the queue holds when it differs from what recall keeps (a user message cut to fit). */
  inContext?: ChatMessage;
}

/** A user message's in-context copy: its start and end, and how long the whole was. */
export interface CutText {
  text: string;
  total: number;
  head: number;
  tail: number;
}

const count = (n: number) => n.toLocaleString('en-US');

/** Not ending on half of a surrogate pair: a cut must not leave a broken character. */
function safeEnd(text: string, end: number): number {
  const c = text.charCodeAt(end - 1);
  return end > 0 && c >= 0xd800 && c <= 0xdbff ? end - 1 : end;
}

/**
 * The start and end of `text` with a note between them saying how much was left out and where
 * the rest is. The model reads the note in place, so it knows it has not seen everything.
 */
export function cutUserText(text: string, headChars: number, tailChars: number): CutText {
  const headEnd = safeEnd(text, Math.max(0, Math.min(headChars, text.length)));
  let tailStart = Math.max(headEnd, text.length - Math.max(0, tailChars));
  // The same for the tail's first character: not the second half of a pair.
  const c = text.charCodeAt(tailStart);
  if (tailStart < text.length && c >= 0xdc00 && c <= 0xdfff) tailStart++;
  const head = text.slice(0, headEnd);
  const tail = text.slice(tailStart);
  const note =
    `[message cut: ${count(text.length)} characters, the first ${count(head.length)} and the last ${count(tail.length)} shown; ` +
    `the ${count(text.length - head.length - tail.length)} between were left out to fit the context window. The whole message is kept in recall memory.]`;
  return { text: `${head}\n\n${note}\n\n${tail}`, total: text.length, head: head.length, tail: tail.length };
}

/** What the user is told when their message reached the model cut. */
export function messageCutNotice(cut: CutText): string {
  return (
    `Your message has ${count(cut.total)} characters, more than the model's context holds: it sees the first ${count(cut.head)} and the last ${count(cut.tail)}, ` +
    'with a note that the rest was cut. The whole message is kept in recall memory.'
  );
}

/** The user's words in a stored user-message envelope, or null for anything else. */
export function userMessageText(message: ChatMessage): string | null {
  if (message.role !== 'user' || !message.content.startsWith('{"type":"user_message"')) return null;
  try {
    const envelope = JSON.parse(message.content) as { type?: unknown; message?: unknown };
    return envelope.type === 'user_message' && typeof envelope.message === 'string' ? envelope.message : null;
  } catch {
    return null;
  }
}

/** The same envelope (type, time) around other words: the in-context copy of a restored message. */
export function withUserMessageText(message: ChatMessage, text: string): ChatMessage {
  if (message.role !== 'user') return message;
  const envelope = JSON.parse(message.content) as Record<string, unknown>;
  return { role: 'user', content: JSON.stringify({ ...envelope, message: text }) };
}

const HIDDEN = '[This is an automated system message hidden from the user]';

function envelope(type: string, fields: Record<string, unknown>, now: Date): string {
  return JSON.stringify({ type, ...fields, time: formatTime(now) });
}

export function renderInput(input: AgentInput, now: Date): RenderedInput {
  const sys = (type: string, notice: string, fields: Record<string, unknown>, kind: RecallKind = 'system_event'): RenderedInput => ({
    kind,
    notice,
    message: { role: 'user', content: envelope(type, fields, now) },
  });
  switch (input.type) {
    case 'user_message':
      return {
        kind: 'user',
        notice: input.text,
        message: { role: 'user', content: envelope('user_message', { message: input.text }, now) },
      };
    case 'login':
      return sys('login', 'The user logged in.', {
        last_login: input.lastLogin ?? 'Never (first login)',
        message: `${HIDDEN} The user opened the chat. Greet them or carry on where you left off, using send_message.`,
      });
    case 'system_alert':
      return sys('system_alert', input.text, { message: input.text }, 'system_alert');
    case 'file_opened':
      return sys('file_opened', `Opened ${input.path}`, {
        path: input.path,
        message: `${HIDDEN} The user opened ${input.path} in the editor.`,
      });
    case 'file_saved':
      return sys('file_saved', `Saved ${input.path}`, {
        path: input.path,
        message: `${HIDDEN} The user saved ${input.path}; its archival index is being updated.`,
      });
    case 'selection_remembered':
      return sys('selection_remembered', `Remembered ${input.path}:${input.startLine}-${input.endLine}`, {
        path: input.path,
        lines: `${input.startLine}-${input.endLine}`,
        memory_id: input.memoryId,
        message: `${HIDDEN} The user asked you to remember ${input.path}:${input.startLine}-${input.endLine}; it was stored in archival memory.`,
      });
    case 'core_memory_edited_by_user':
      return sys('core_memory_edited', `You edited core memory "${input.label}"`, {
        label: input.label,
        message: `${HIDDEN} The user edited your core memory block "${input.label}" by hand; the system message shows the new text.`,
      });
    case 'heartbeat':
    case 'manual_heartbeat':
      // The model reads both the same way; only pausing tells them apart.
      return sys('heartbeat', `Heartbeat: ${input.reason}`, { reason: `${HIDDEN} ${input.reason}` });
    case 'timer':
      return sys('timer', input.text, { message: `${HIDDEN} ${input.text}` });
  }
}

/** MemGPT's memory-pressure warning, inserted once when the window fills up. */
export function memoryPressureAlert(now: Date): RenderedInput {
  const text =
    'Warning: the conversation history will soon reach its maximum length and be trimmed. ' +
    'Make sure to save any important information from the conversation to your memory (core_memory_append, core_memory_replace, archival_memory_insert) before it is removed.';
  return {
    kind: 'system_alert',
    notice: 'Memory pressure: the agent was asked to save what matters.',
    message: { role: 'user', content: envelope('system_alert', { message: `${HIDDEN} ${text}` }, now) },
  };
}

/** Sent once per turn when a user message got no send_message: the user saw nothing yet. */
export function noReplyNudge(now: Date): RenderedInput {
  return {
    kind: 'system_alert',
    notice: 'The agent answered only in thought; it was reminded to reply with send_message.',
    message: {
      role: 'user',
      content: envelope(
        'system_alert',
        { message: `${HIDDEN} You did not call send_message, so the user has seen nothing. Reply to the user now with send_message.` },
        now,
      ),
    },
  };
}

/** Told to the model when one response made more function calls than are run. */
export function tooManyCallsAlert(made: number, limit: number, now: Date): RenderedInput {
  const text =
    `Your last response made ${made} function calls; only the first ${limit} ran. The other ${made - limit} were not run and are not kept. ` +
    `Make at most ${limit} calls per response; request a heartbeat to continue with the rest.`;
  return {
    kind: 'system_alert',
    notice: `The model made ${made} function calls in one response; only the first ${limit} ran.`,
    message: { role: 'user', content: envelope('system_alert', { message: `${HIDDEN} ${text}` }, now) },
  };
}
