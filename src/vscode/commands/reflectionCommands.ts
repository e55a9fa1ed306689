/**
 * Reflection in the editor: "Reflect on Memory Now" runs one pass (cancellable, with progress),
 * "Undo Reflection" puts a pass back, and the passes are listed in Show Core Memory. What changed
 * opens as a read-only document, every block and item before and after.
 */
import * as vscode from 'vscode';
import type { ReflectionOutcome, ReflectionPort, ReflectionRecord } from '../../core/runtime/reflectionService';
import { describeReflection, reflectionOutcomeText, reflectionSummary } from '../../core/runtime/reflectionText';
import type { CommandContext } from '../commandContext';
import type { ReadOnlyDocuments } from '../readOnlyDocuments';

const SHOW = 'Show Changes';
const UNDO = 'Undo';

function reflectionOf(ctx: CommandContext): ReflectionPort {
  if (!ctx.runtime.reflection) throw new Error('Reflection is not available in this window.');
  return ctx.runtime.reflection;
}

/** Opens what a pass changed as a read-only document. */
export async function showReflection(documents: ReadOnlyDocuments, record: ReflectionRecord): Promise<vscode.Uri> {
  const uri = documents.put(`Reflection ${record.time.replace(/[:.]/g, '-')}.txt`, describeReflection(record));
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
  return uri;
}

/** "Reflect on Memory Now": one pass on the active agent, whatever memgpt.reflection.enabled says. */
export async function reflectNow(ctx: CommandContext, documents: ReadOnlyDocuments): Promise<ReflectionOutcome> {
  const reflection = reflectionOf(ctx);
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'MemGPT: reflecting on memory…', cancellable: true },
    (_progress, token) => {
      const controller = new AbortController();
      const cancel = token.onCancellationRequested(() => controller.abort());
      return reflection.reflect({ signal: controller.signal }).finally(() => cancel.dispose());
    },
  );
  const text = reflectionOutcomeText(outcome);
  if (outcome.status === 'failed') {
    void vscode.window.showErrorMessage(text);
  } else if (outcome.status === 'changed') {
    ctx.log.info(`${text} (${outcome.record.id})`);
    void vscode.window.showInformationMessage(text, SHOW, UNDO).then(async (choice) => {
      try {
        if (choice === SHOW) await showReflection(documents, outcome.record);
        if (choice === UNDO) await undoReflection(ctx, { id: outcome.record.id });
      } catch (error) {
        await ctx.reportError('Undoing the reflection failed', error);
      }
    });
  } else {
    void vscode.window.showInformationMessage(text);
  }
  return outcome;
}

/** "Undo Reflection": the pass named, else one picked from those not undone yet. */
export async function undoReflection(ctx: CommandContext, args?: { id?: string }): Promise<ReflectionRecord | undefined> {
  const reflection = reflectionOf(ctx);
  let id = args?.id;
  if (id === undefined) {
    const open = (await reflection.records()).filter((r) => !r.undoneAt);
    if (open.length === 0) {
      void vscode.window.showInformationMessage('MemGPT: no reflection to undo.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      open.map((r) => ({ label: reflectionSummary(r), description: new Date(r.time).toLocaleString(), detail: r.id, id: r.id })),
      { title: 'MemGPT: undo which reflection? (every block and item goes back as it was)' },
    );
    id = picked?.id;
  }
  if (id === undefined) return undefined;
  const undone = await reflection.undo(id);
  void vscode.window.showInformationMessage(`MemGPT: reflection undone (${reflectionSummary(undone)}); memory is as it was before it.`);
  return undone;
}

/** The newest passes as picks for Show Core Memory; a pick opens its changes. */
export async function reflectionPicks(runtime: {
  reflection?: ReflectionPort;
}): Promise<(vscode.QuickPickItem & { reflection?: ReflectionRecord })[]> {
  const records = (await runtime.reflection?.records()) ?? [];
  if (records.length === 0) return [];
  return [
    { label: 'Reflections (open one to see each change; MemGPT: Undo Reflection puts one back)', kind: vscode.QuickPickItemKind.Separator },
    ...records.slice(0, 5).map((r) => ({
      label: `$(history) ${reflectionSummary(r)}`,
      description: `${new Date(r.time).toLocaleString()}${r.undoneAt ? ' · undone' : ''}`,
      reflection: r,
    })),
  ];
}
