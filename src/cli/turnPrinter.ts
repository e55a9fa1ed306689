/**
 * Shows one agent turn in a terminal: what the agent says (send_message) streams to stdout as it
 * arrives; function calls and problems go to stderr in one short line each, so `memgpt ask … >
 * answer.txt` captures only the answer. With --json nothing streams; the caller prints the record.
 */
import type { AgentEvent } from '../core/agent/events';
import { CLI_CALL_PREVIEW_CHARS } from '../core/limits';
import type { Output, StreamRedactor } from './output';

export interface FunctionCallRecord {
  name: string;
  /** Parsed arguments when they are JSON, else the raw text the model sent. */
  arguments: unknown;
  status: 'OK' | 'Failed';
}

export class TurnPrinter {
  readonly functionCalls: FunctionCallRecord[] = [];
  readonly errors: string[] = [];
  /** Per send_message call: redactor and how much of the text is already printed. */
  private readonly streams = new Map<string, { redactor: StreamRedactor; printed: string }>();
  private midLine = false;

  constructor(
    private readonly out: Output,
    private readonly json: boolean,
  ) {}

  readonly onEvent = (event: AgentEvent): void => {
    switch (event.type) {
      case 'message_delta':
        if (!this.json) this.printMessagePart(event.callId, event.delta);
        break;
      case 'message_complete':
        if (!this.json) this.completeMessage(event.callId, event.text);
        break;
      case 'function_call_started':
        if (!this.json && event.name !== 'send_message') this.note(`→ ${event.name}(${preview(event.arguments)})`);
        break;
      case 'function_call_finished':
        this.functionCalls.push({ name: event.name, arguments: parseArguments(event.arguments), status: event.status });
        if (!this.json && event.status === 'Failed') this.note(`  ✗ ${event.name} failed: ${preview(event.result)}`);
        break;
      case 'system_event':
        if (!this.json && (event.kind === 'memory_pressure' || event.kind === 'summary'))
          this.note(
            `· ${event.kind === 'summary' ? 'older messages summarised' : 'memory pressure: the agent was asked to save what matters'}`,
          );
        // With --json too (stderr): the answer may rest on part of the input, the user must know.
        else if (event.kind === 'message_cut') this.note(`· ${event.text}`);
        break;
      case 'command_output':
        // A running command's output, live, on stderr: stdout keeps only the agent's reply.
        if (!this.json) {
          if (this.midLine) this.out.content('\n');
          this.midLine = false;
          this.out.stderrRaw(event.chunk.replace(/^/gm, '  | '));
          if (!event.chunk.endsWith('\n')) this.out.stderrRaw('\n');
        }
        break;
      case 'files_changed':
        if (!this.json)
          this.note(
            `· changed ${event.paths.join(', ')} (checkpoint ${event.checkpointId}; \`memgpt restore <folder> ${event.checkpointId}\` brings back the files as they were)`,
          );
        break;
      case 'model_wait':
        // Printed with --json too: it goes to stderr, and a wait with nothing said looks like a hang.
        this.note(event.text);
        break;
      case 'error':
        this.errors.push(event.message);
        // Recoverable errors (a retry, a repaired call) are details; the final one is printed by the caller.
        if (!this.json && event.recoverable && this.out.debug) this.note(`· ${event.message}`);
        break;
      default:
        break;
    }
  };

  private printMessagePart(callId: string, delta: string): void {
    let stream = this.streams.get(callId);
    if (!stream) {
      stream = { redactor: this.out.streamRedactor(), printed: '' };
      this.streams.set(callId, stream);
    }
    stream.printed += delta;
    const text = stream.redactor.push(delta);
    if (text) {
      this.out.content(text);
      this.midLine = !text.endsWith('\n');
    }
  }

  private completeMessage(callId: string, full: string): void {
    const stream = this.streams.get(callId);
    // A message that did not stream is printed whole; one whose final text differs from what streamed
    // (arguments repaired after the stream) keeps what was shown: reprinting would duplicate it.
    if (!stream) this.printMessagePart(callId, full);
    else if (full.startsWith(stream.printed)) this.printMessagePart(callId, full.slice(stream.printed.length));
    const done = this.streams.get(callId)!;
    this.streams.delete(callId);
    const rest = done.redactor.end();
    if (rest) {
      this.out.content(rest);
      this.midLine = !rest.endsWith('\n');
    }
    if (this.midLine) this.out.content('\n');
    this.midLine = false;
  }

  /** A stderr line; a reply being streamed on stdout is ended first so the two do not interleave. */
  private note(text: string): void {
    if (this.midLine) this.out.content('\n');
    this.midLine = false;
    this.out.message(text);
  }

  /** After the turn: ends a reply that stopped mid-line (a cancelled turn), held-back text included. */
  finish(): void {
    for (const stream of this.streams.values()) {
      const rest = stream.redactor.end();
      if (rest) this.out.content(rest);
      if (rest) this.midLine = !rest.endsWith('\n');
    }
    this.streams.clear();
    if (this.midLine) this.out.content('\n');
    this.midLine = false;
  }
}

function parseArguments(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function preview(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > CLI_CALL_PREVIEW_CHARS ? `${one.slice(0, CLI_CALL_PREVIEW_CHARS)}…` : one;
}
