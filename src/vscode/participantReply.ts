/**
 * How one agent turn reads in VS Code's own Chat view (the @memgpt participant): what the agent
 * sends with `send_message` streams as markdown, its function calls show as progress lines, and
 * the `path:line` citations in its messages become references that open the file. Pure (no
 * `vscode` import): chatParticipant.ts turns these outputs into ChatResponseStream calls.
 */
import type { AgentEvent } from '../core/agent/events';
import { CHAT_PARTICIPANT_FOLLOWUPS_MAX } from '../core/limits';
import { findCitations, formatCitation, type Citation } from '../webview/citations';

export type ReplyOutput =
  { kind: 'markdown'; text: string } | { kind: 'progress'; text: string } | { kind: 'references'; citations: Citation[] };

/** Progress words for the functions a user would otherwise wait on in silence. */
function progressText(name: string): string {
  switch (name) {
    case 'archival_memory_search':
      return 'Searching archival memory (workspace and memories)…';
    case 'conversation_search':
    case 'conversation_search_date':
      return 'Searching past conversations…';
    case 'core_memory_append':
    case 'core_memory_replace':
      return 'Updating core memory…';
    case 'archival_memory_insert':
      return 'Remembering…';
    case 'read_file':
      return 'Reading a file…';
    case 'list_files':
    case 'search_text':
    case 'find_symbol':
    case 'file_outline':
      return 'Looking through the workspace…';
    case 'edit_file':
    case 'write_file':
    case 'run_command':
      return 'Waiting for your approval in the MemGPT view…';
    default:
      return `Running ${name}…`;
  }
}

export class ParticipantReply {
  /** Text already streamed per send_message call. */
  private readonly streamed = new Map<string, string>();
  private readonly cited = new Map<string, Citation>();
  private messages = 0;
  private currentCall: string | null = null;
  private coreChanged = false;
  private error: string | undefined;

  constructor(private readonly out: (output: ReplyOutput) => void) {}

  event(e: AgentEvent): void {
    switch (e.type) {
      case 'message_delta':
        this.begin(e.callId);
        this.streamed.set(e.callId, (this.streamed.get(e.callId) ?? '') + e.delta);
        this.out({ kind: 'markdown', text: e.delta });
        return;
      case 'message_complete': {
        const sent = this.streamed.get(e.callId) ?? '';
        // What did not arrive as deltas (all of it, for a model that sends whole calls).
        const rest = e.text.startsWith(sent) ? e.text.slice(sent.length) : sent === '' ? e.text : '';
        if (rest !== '') {
          this.begin(e.callId);
          this.out({ kind: 'markdown', text: rest });
        }
        this.streamed.set(e.callId, e.text);
        const fresh: Citation[] = [];
        for (const c of findCitations(e.text)) {
          const key = formatCitation(c);
          if (this.cited.has(key)) continue;
          this.cited.set(key, { path: c.path, startLine: c.startLine, ...(c.endLine !== undefined ? { endLine: c.endLine } : {}) });
          fresh.push(this.cited.get(key)!);
        }
        if (fresh.length > 0) this.out({ kind: 'references', citations: fresh });
        return;
      }
      case 'function_call_started':
        if (e.name !== 'send_message') this.out({ kind: 'progress', text: progressText(e.name) });
        return;
      case 'model_wait':
        this.out({ kind: 'progress', text: e.text });
        return;
      case 'memory_changed':
        if (e.what === 'core') this.coreChanged = true;
        return;
      case 'error':
        this.error = e.message;
        return;
      default:
        return;
    }
  }

  /** A new message after an earlier one starts a new paragraph. */
  private begin(callId: string): void {
    if (this.currentCall === callId) return;
    if (this.messages > 0) this.out({ kind: 'markdown', text: '\n\n' });
    this.currentCall = callId;
    this.messages++;
  }

  get sentAnything(): boolean {
    return this.messages > 0;
  }

  get errorMessage(): string | undefined {
    return this.error;
  }

  citations(): Citation[] {
    return [...this.cited.values()];
  }

  /** Questions worth asking next, from what this turn touched. */
  followups(): string[] {
    const out: string[] = [];
    const first = this.cited.values().next().value;
    if (first) out.push(`Explain ${first.path} in more detail`);
    if (this.coreChanged) out.push('What do you remember about me?');
    out.push('What do you remember about this project?');
    return out.slice(0, CHAT_PARTICIPANT_FOLLOWUPS_MAX);
  }
}
