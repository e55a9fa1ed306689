import type { ChatMessage } from '../interfaces/chatModel';

/**
 * One line of readable text for a stored message, used where the model reads
 * old messages back (conversation_search results, the summariser's input).
 * Event messages are JSON envelopes (`{"type": ..., "message": ...}`); they are
 * unpacked so the model reads "user: hello", not escaped JSON.
 */
export function messageText(message: ChatMessage): string {
  switch (message.role) {
    case 'system':
      return `system: ${message.content}`;
    case 'user': {
      const envelope = parseEnvelope(message.content);
      if (!envelope) return `user: ${message.content}`;
      if (envelope.type === 'user_message') return `user: ${envelope.text}`;
      return `event ${envelope.type}: ${envelope.text}`;
    }
    case 'assistant': {
      const parts: string[] = [];
      if (message.content) parts.push(`assistant (thinking): ${message.content}`);
      for (const call of message.tool_calls ?? []) {
        if (call.function.name === 'send_message') {
          parts.push(`assistant: ${sendMessageText(call.function.arguments)}`);
        } else {
          parts.push(`assistant called ${call.function.name}(${call.function.arguments})`);
        }
      }
      return parts.join('\n') || 'assistant: (empty)';
    }
    case 'tool': {
      const envelope = parseEnvelope(message.content);
      return `function result: ${envelope ? `${envelope.status ?? ''} ${envelope.text}`.trim() : message.content}`;
    }
  }
}

/** The `message` argument of a send_message call, or the raw arguments when they do not parse. */
export function sendMessageText(rawArguments: string): string {
  try {
    const parsed = JSON.parse(rawArguments) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // fall through: show what the model sent
  }
  return rawArguments;
}

interface Envelope {
  type: string;
  text: string;
  status?: string;
}

function parseEnvelope(content: string): Envelope | null {
  if (!content.startsWith('{')) return null;
  try {
    const o = JSON.parse(content) as Record<string, unknown>;
    if (typeof o !== 'object' || o === null) return null;
    const type = typeof o.type === 'string' ? o.type : typeof o.status === 'string' ? 'result' : null;
    if (!type) return null;
    const rest = Object.entries(o)
      .filter(([k]) => k !== 'type' && k !== 'time' && k !== 'message' && k !== 'status')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    const text = [typeof o.message === 'string' ? o.message : '', ...rest].filter((s) => s !== '').join(' ');
    return { type, text, ...(typeof o.status === 'string' ? { status: o.status } : {}) };
  } catch {
    return null;
  }
}
