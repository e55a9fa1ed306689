/**
 * Who says yes before the agent changes a file or runs a command. The agent only ever asks; an
 * answer comes from a person (the chat card in VS Code, the terminal in `memgpt chat`) or from a
 * rule that person set up beforehand (`memgpt ask --yes`). Nothing the model sends can answer.
 */

/** What the user is asked to approve; `callId` ties it to the function call shown in the chat. */
export type ApprovalRequest =
  | {
      kind: 'edit' | 'write';
      callId: string;
      /** Workspace path, as the model and the diff name it. */
      path: string;
      /** Absolute real path (for "Open diff"). */
      abs: string;
      /** False when write_file creates the file. */
      existed: boolean;
      /** Unified diff of the change. */
      diff: string;
      added: number;
      removed: number;
      /** The whole proposed text (for "Open diff"). */
      after: string;
    }
  | {
      kind: 'command';
      callId: string;
      command: string;
      /** Folder it runs in, as a workspace path ("." for the workspace folder). */
      cwd: string;
      /** What "Always allow commands starting with …" would add; absent when the command chains or redirects. */
      suggestedPrefix?: string;
      /** Shell syntax that keeps the command from ever being allowed by a prefix (";", "|", …). */
      shellSyntax: string[];
      /** Environment variables the command will not see (names only). */
      withheldVariables: string[];
    }
  | {
      /** A tool of an MCP server the user configured: it may do anything its server can. */
      kind: 'tool';
      callId: string;
      /** The function the model called (`mcp__<server>__<tool>`). */
      functionName: string;
      server: string;
      tool: string;
      /** Where the server is configured (".vscode/mcp.json", "memgpt.mcpServers"). */
      source: string;
      /** The arguments as indented JSON, cut at MCP_APPROVAL_ARGUMENTS_CHARS. */
      arguments: string;
      argumentsCut: boolean;
      /** The server's own claim that the tool only reads: shown, never a reason to skip the question. */
      readOnlyHint: boolean;
    };

export type ApprovalDecisionKind = 'accept' | 'reject' | 'always';

export interface ApprovalAnswer {
  decision: ApprovalDecisionKind;
  /** Why the user rejected it, in their words; passed to the model. */
  reason?: string;
  /** 'always' on a command: the prefix to allow from now on (default the suggested one). 'always' on a tool: that tool, for the session. */
  prefix?: string;
}

export interface ApprovalRequester {
  /**
   * Asks and waits. Resolves with the answer, or rejects when `signal` aborts (Stop) — the
   * question must then disappear from the screen.
   */
  request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer>;
}

/** Approves everything: `memgpt ask --yes`, where the user said so on the command line. */
export const APPROVE_ALL: ApprovalRequester = {
  request: () => Promise.resolve({ decision: 'accept' }),
};

/** Declines everything with a reason the model reads (no one is there to ask). */
export function declineAll(reason: string): ApprovalRequester {
  return { request: () => Promise.resolve({ decision: 'reject', reason }) };
}
