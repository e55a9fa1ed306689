/**
 * The agent's edits and commands in VS Code: approvals shown as cards in the chat (with the
 * proposed change in VS Code's diff editor on request), and approved edits applied through
 * WorkspaceEdit, so Undo works and an unsaved editor buffer is edited as the user sees it. The
 * decisions (what needs approval, confinement, checkpoints) stay in the core's Actor.
 */
import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import type { FileChangeApplier } from '../core/acting/changeApplier';
import type { CheckpointStore } from '../core/acting/checkpointStore';
import { FileChangeError, type PreparedChange } from '../core/acting/fileChange';
import type { ApprovalAnswer, ApprovalRequest, ApprovalRequester } from '../core/interfaces/approval';
import { ACTING_CARD_DIFF_CHARS } from '../core/limits';
import type { ApprovalCard, ApprovalDecision } from '../protocol';
import { ReadOnlyDocuments } from './readOnlyDocuments';
import { errorMessage } from '../core/base/errors';

export const PROPOSED_SCHEME = 'memgpt-proposed';

type CardChange = { opened: ApprovalCard } | { closed: string };

interface Pending {
  card: ApprovalCard;
  request: ApprovalRequest;
  settle(answer: ApprovalAnswer): void;
}

/** Approvals asked in the chat view: one card per pending edit or command. */
export class ChatApprovals implements ApprovalRequester, vscode.Disposable {
  private readonly pending = new Map<string, Pending>();
  private readonly changes = new vscode.EventEmitter<CardChange>();
  readonly onDidChange = this.changes.event;
  private counter = 0;
  /** The proposed texts "Open diff" shows, read-only. */
  readonly proposed = new ReadOnlyDocuments(PROPOSED_SCHEME);

  constructor(private readonly log: vscode.LogOutputChannel) {}

  request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> {
    const id = `approval-${Date.now().toString(36)}-${++this.counter}`;
    const card = toCard(id, request);
    return new Promise<ApprovalAnswer>((resolve, reject) => {
      const close = (): void => {
        signal.removeEventListener('abort', onAbort);
        if (this.pending.delete(id)) this.changes.fire({ closed: id });
      };
      const onAbort = (): void => {
        close();
        reject(new Error('The approval was withdrawn: the turn was stopped.'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        card,
        request,
        settle: (answer) => {
          close();
          resolve(answer);
        },
      });
      this.changes.fire({ opened: card });
      // The question is in the chat: make sure the chat is where the user looks.
      void vscode.commands.executeCommand('memgpt.chat.focus').then(undefined, () => undefined);
    });
  }

  cards(): ApprovalCard[] {
    return [...this.pending.values()].map((p) => p.card);
  }

  async answer(id: string, decision: ApprovalDecision, reason?: string): Promise<void> {
    const p = this.pending.get(id);
    if (!p) return;
    if (decision === 'always' && p.request.kind === 'command') {
      const prefix = p.request.suggestedPrefix;
      if (!prefix) decision = 'accept';
      else await this.allowPrefix(prefix);
    }
    p.settle({ decision, ...(decision === 'reject' && reason && reason.trim() !== '' ? { reason: reason.trim() } : {}) });
  }

  /** "Always allow commands starting with …": kept in the user's settings, so it holds in every window. */
  private async allowPrefix(prefix: string): Promise<void> {
    const config = vscode.workspace.getConfiguration('memgpt');
    const current = config.get<unknown>('approval.allowedCommands');
    const list = Array.isArray(current) ? current.filter((p): p is string => typeof p === 'string') : [];
    try {
      if (!list.includes(prefix)) await config.update('approval.allowedCommands', [...list, prefix], vscode.ConfigurationTarget.Global);
      if (config.get('approval.commands') !== 'allowList')
        await config.update('approval.commands', 'allowList', vscode.ConfigurationTarget.Global);
    } catch (error) {
      // The session still allows it (the core remembers "always"); only the setting could not be kept.
      this.log.warn(`Could not save "${prefix}" to memgpt.approval.allowedCommands: ${errorMessage(error)}`);
    }
  }

  async openDiff(id: string): Promise<void> {
    const p = this.pending.get(id);
    if (!p || p.request.kind === 'command' || p.request.kind === 'tool') return;
    const r = p.request;
    const right = this.proposed.put(`proposed/${id}/${r.path}`, r.after);
    const left = r.existed ? vscode.Uri.file(r.abs) : this.proposed.put(`empty/${id}/${r.path}`, '');
    await vscode.commands.executeCommand('vscode.diff', left, right, `${r.path} ↔ proposed by MemGPT`, { preview: true });
  }

  dispose(): void {
    for (const p of [...this.pending.values()]) p.settle({ decision: 'reject', reason: 'the window was closed' });
    this.changes.dispose();
    this.proposed.dispose();
  }
}

function toCard(id: string, r: ApprovalRequest): ApprovalCard {
  switch (r.kind) {
    case 'edit':
    case 'write': {
      const cut = r.diff.length > ACTING_CARD_DIFF_CHARS;
      return {
        id,
        callId: r.callId,
        kind: r.kind,
        path: r.path,
        existed: r.existed,
        diff: cut ? r.diff.slice(0, ACTING_CARD_DIFF_CHARS) : r.diff,
        diffCut: cut,
        added: r.added,
        removed: r.removed,
      };
    }
    case 'command':
      return {
        id,
        callId: r.callId,
        kind: 'command',
        command: r.command,
        cwd: r.cwd,
        ...(r.suggestedPrefix ? { suggestedPrefix: r.suggestedPrefix } : {}),
        shellSyntax: r.shellSyntax,
        withheldVariables: r.withheldVariables,
      };
    case 'tool':
      return {
        id,
        callId: r.callId,
        kind: 'tool',
        functionName: r.functionName,
        server: r.server,
        tool: r.tool,
        source: r.source,
        arguments: r.arguments,
        argumentsCut: r.argumentsCut,
        readOnlyHint: r.readOnlyHint,
      };
  }
}

function openDocument(abs: string): vscode.TextDocument | undefined {
  return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === abs && !d.isClosed);
}

/** The unsaved text of an open editor, when it differs from the disk. */
export function unsavedText(abs: string): string | undefined {
  const doc = openDocument(abs);
  return doc?.isDirty ? doc.getText() : undefined;
}

/** Applies approved changes as WorkspaceEdits (see the module comment). */
export class WorkspaceEditApplier implements FileChangeApplier {
  async apply(change: PreparedChange, checkpoint: { store: CheckpointStore; turnId: string }): Promise<void> {
    const uri = vscode.Uri.file(change.abs);
    const doc = openDocument(change.abs);
    const wasDirty = doc?.isDirty ?? false;
    const now = doc ? doc.getText() : await readIfExists(change.abs);
    if (now !== change.before) {
      const what = now === undefined ? 'was deleted' : change.before === undefined ? 'was created by someone else' : 'was changed';
      throw new FileChangeError(
        'stale',
        `${change.path} ${what} after the change was proposed, so it was not applied (it would undo that). Read the file again and propose the change anew.`,
      );
    }
    await checkpoint.store.snapshot(checkpoint.turnId, [{ path: change.path, abs: change.abs }]);
    const edit = new vscode.WorkspaceEdit();
    if (!change.existed) {
      edit.createFile(uri, { ignoreIfExists: true });
      edit.insert(uri, new vscode.Position(0, 0), change.after);
    } else {
      const document = doc ?? (await vscode.workspace.openTextDocument(uri));
      edit.replace(uri, new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length)), change.after);
    }
    if (!(await vscode.workspace.applyEdit(edit))) {
      throw new FileChangeError(
        'refused',
        `VS Code did not apply the change to ${change.path} (is the file read-only?). Nothing was changed.`,
      );
    }
    // Saved, so tests, builds and the agent's next read see it; a buffer the user had not saved stays theirs to save.
    if (!wasDirty) {
      const document = await vscode.workspace.openTextDocument(uri);
      // save() answers false for a document with nothing left to save (the workbench may have saved it already): the disk decides.
      if (document.isDirty && !(await document.save()) && (await readIfExists(change.abs)) !== document.getText()) {
        throw new FileChangeError(
          'refused',
          `The change to ${change.path} is in the editor but could not be saved to disk; save it there, or undo it.`,
        );
      }
    }
  }
}

async function readIfExists(abs: string): Promise<string | undefined> {
  try {
    return await fs.readFile(abs, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
