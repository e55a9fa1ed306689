/**
 * Approval at the terminal: the proposed edit (its diff) or command (its folder and the variables
 * it will not see) is printed on stderr, then one line is read: y(es), n(o) with an optional
 * reason after it ("n not in this file"), or a(lways) — every edit, or every command starting
 * with the suggested prefix, for the rest of the session. Anything else asks again. Stop (Ctrl-C)
 * withdraws the question.
 */
import type { ApprovalAnswer, ApprovalRequest, ApprovalRequester } from '../core/interfaces/approval';
import { ACTING_CARD_DIFF_CHARS } from '../core/limits';
import type { Output } from './output';

/** Reads one line from the user; rejects when `signal` aborts. */
export type LineReader = (signal: AbortSignal) => Promise<string>;

export class TerminalApprover implements ApprovalRequester {
  constructor(
    private readonly out: Output,
    private readonly readLine: LineReader,
  ) {}

  async request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> {
    this.out.stderrRaw(`${describeRequest(request)}\n`);
    const always =
      request.kind === 'command'
        ? request.suggestedPrefix
          ? `, [a]lways allow "${request.suggestedPrefix} …"`
          : ''
        : request.kind === 'tool'
          ? `, [a]lways allow ${request.tool} this session`
          : ', [a]lways apply edits this session';
    const question = request.kind === 'command' ? 'Run this command' : request.kind === 'tool' ? 'Call this tool' : 'Apply this change';
    for (;;) {
      this.out.stderrRaw(`${question}? [y]es, [n]o (a reason may follow)${always}: `);
      const answer = parseAnswer(await this.readLine(signal), request);
      if (answer) return answer;
    }
  }
}

/** y / yes, n / no [reason], a / always (when offered); undefined for anything else. */
export function parseAnswer(line: string, request: ApprovalRequest): ApprovalAnswer | undefined {
  const text = line.trim();
  const [word = '', ...rest] = text.split(/\s+/);
  switch (word.toLowerCase()) {
    case 'y':
    case 'yes':
      return { decision: 'accept' };
    case 'n':
    case 'no': {
      const reason = rest.join(' ').trim();
      return { decision: 'reject', ...(reason ? { reason } : {}) };
    }
    case 'a':
    case 'always':
      if (request.kind === 'command' && !request.suggestedPrefix) return undefined;
      return { decision: 'always' };
    default:
      return undefined;
  }
}

export function describeRequest(request: ApprovalRequest): string {
  switch (request.kind) {
    case 'edit':
    case 'write': {
      const what = request.kind === 'edit' ? 'edit' : request.existed ? 'overwrite' : 'create';
      const diff =
        request.diff.length > ACTING_CARD_DIFF_CHARS ? `${request.diff.slice(0, ACTING_CARD_DIFF_CHARS)}\n[… diff cut]` : request.diff;
      return `The agent wants to ${what} ${request.path} (+${request.added} −${request.removed} lines):\n${diff.trimEnd()}`;
    }
    case 'command': {
      const withheld = request.withheldVariables.length > 0 ? `\n  without: ${request.withheldVariables.join(', ')}` : '';
      const chained =
        request.shellSyntax.length > 0
          ? `\n  note: it uses ${request.shellSyntax.join(' ')} (chains, pipes or redirects), so no prefix can allow it`
          : '';
      return `The agent wants to run a command in ${request.cwd}:\n  $ ${request.command}${withheld}${chained}`;
    }
    case 'tool': {
      const readOnly = request.readOnlyHint ? ' (the server says it only reads)' : '';
      const args = request.arguments
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n');
      return `The agent wants to call tool "${request.tool}" of MCP server "${request.server}" (${request.source})${readOnly} with:\n${args}${request.argumentsCut ? '\n  [… arguments cut]' : ''}`;
    }
  }
}
