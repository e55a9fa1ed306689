/**
 * `@memgpt` in VS Code's own Chat view: the same agent and memory as the MemGPT view, answering
 * there. The message is a turn of the active agent (it lands in recall, and the MemGPT view shows
 * it); replies stream as markdown, function calls as progress, citations as references that open
 * the file, and a few follow-ups are offered. Stop in the Chat view cancels the turn.
 *
 * Which model answers: MemGPT's own when one is set up (a server with its key, or memgpt.provider
 * "vscode-lm"'s choice is the Chat view's picker, so that picker wins there); otherwise the model
 * picked in the Chat view (the request's model), so someone with Copilot and no MemGPT setup can
 * ask at once. Approvals of edits and commands stay in the MemGPT view, which is the memory's home.
 */
import * as vscode from 'vscode';
import type { ChatModel } from '../core/interfaces/chatModel';
import { chatProvider, modelConfigured } from '../core/runtime/runtimeConfig';
import type { WorkspaceRuntime } from '../core/runtime/workspaceRuntime';
import { resolveWorkspacePath } from './commandContext';
import type { LiveSettings } from './config';
import type { VsCodeModelSource } from './lmChatModel';
import { ParticipantReply } from './participantReply';
import { formatCitation, type Citation } from '../webview/citations';
import type { ApiKeyStore } from './secrets';

export const CHAT_PARTICIPANT_ID = 'memgpt-vscode.memgpt';
/** A column past the end of any line: a citation's range covers its last line whole. */
const CITATION_LINE_END = 100_000;

interface ParticipantMetadata {
  followups: string[];
}

export interface ChatParticipantDeps {
  runtime: WorkspaceRuntime;
  models: VsCodeModelSource;
  settings: LiveSettings;
  keys: ApiKeyStore;
  log: vscode.LogOutputChannel;
  extensionUri: vscode.Uri;
}

/** The model that answers a Chat view request (undefined: MemGPT's own). */
async function modelFor(request: vscode.ChatRequest, deps: ChatParticipantDeps): Promise<ChatModel | undefined> {
  const s = deps.settings.current;
  const provider = chatProvider(s);
  if (provider === 'vscode-lm') return deps.models.forRequest(request.model);
  const hasKey = (await deps.keys.source(provider)) !== 'none';
  return modelConfigured(s.baseUrl, hasKey, provider) ? undefined : deps.models.forRequest(request.model);
}

/** Where a citation points, when it names a file of this workspace that exists. */
async function existingLocation(citation: Citation): Promise<vscode.Location | undefined> {
  const uri = resolveWorkspacePath(citation.path);
  if (!uri) return undefined;
  try {
    if (((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.File) === 0) return undefined;
  } catch {
    return undefined;
  }
  const start = citation.startLine - 1;
  const end = (citation.endLine ?? citation.startLine) - 1;
  // To the end of the last cited line (the editor clamps the column to the line's length).
  return new vscode.Location(uri, new vscode.Range(start, 0, end, CITATION_LINE_END));
}

export function registerChatParticipant(deps: ChatParticipantDeps): vscode.Disposable {
  const handler: vscode.ChatRequestHandler = async (request, _context, stream, token) => {
    const { runtime } = deps;
    if (runtime.readOnly) {
      const activity = runtime.activity();
      stream.markdown(
        `MemGPT cannot answer in this window: ${activity.kind === 'read-only' ? activity.reason : 'another window holds this workspace’s memory.'}`,
      );
      return {};
    }
    const text = request.prompt.trim();
    if (text === '') {
      stream.markdown('Ask me anything about this workspace, or tell me something to remember.');
      return {};
    }
    const controller = new AbortController();
    const cancel = token.onCancellationRequested(() => controller.abort());
    const reply = new ParticipantReply((out) => {
      switch (out.kind) {
        case 'markdown':
          stream.markdown(out.text);
          return;
        case 'progress':
          stream.progress(out.text);
          return;
        case 'references':
          // Shown once the turn ends, for the cited files that exist.
          return;
      }
    });
    try {
      const model = await modelFor(request, deps);
      const outcome = await runtime.chat.handle(
        { type: 'user_message', text },
        { signal: controller.signal, source: 'editor', onEvent: (e) => reply.event(e), ...(model ? { model } : {}) },
      );
      // Cited files that exist: listed as references, and as anchors under the answer that open the cited lines.
      const cited = (await Promise.all(reply.citations().map(async (c) => ({ c, where: await existingLocation(c) })))).filter(
        (x): x is { c: Citation; where: vscode.Location } => x.where !== undefined,
      );
      if (cited.length > 0) {
        stream.markdown('\n\n');
        for (const { c, where } of cited) {
          stream.reference(where);
          stream.anchor(where, formatCitation(c));
          stream.markdown(' ');
        }
      }
      switch (outcome.reason) {
        case 'done':
        case 'paused':
          if (!reply.sentAnything) stream.markdown('_(MemGPT finished without a message: it only updated its memory or thought.)_');
          break;
        case 'step_limit':
          stream.markdown('\n\n_(MemGPT stopped after its step limit, memgpt.agent.heartbeatStepLimit.)_');
          break;
        case 'cancelled':
        case 'preempted':
          return { metadata: { followups: [] } satisfies ParticipantMetadata };
        case 'error': {
          const message = outcome.error ?? reply.errorMessage ?? 'The turn failed.';
          return { errorDetails: { message }, metadata: { followups: [] } satisfies ParticipantMetadata };
        }
      }
      return { metadata: { followups: reply.followups() } satisfies ParticipantMetadata };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      deps.log.error(`@memgpt: ${message}`);
      return { errorDetails: { message } };
    } finally {
      cancel.dispose();
    }
  };

  const participant = vscode.chat.createChatParticipant(CHAT_PARTICIPANT_ID, handler);
  participant.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'memgpt.svg');
  participant.followupProvider = {
    provideFollowups(result) {
      const followups = (result.metadata as ParticipantMetadata | undefined)?.followups ?? [];
      return followups.map((prompt) => ({ prompt, label: prompt }));
    },
  };
  return participant;
}
