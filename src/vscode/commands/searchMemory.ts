/**
 * "Search memory": a QuickPick over code symbols (definitions whose name contains the text), recall
 * (the conversation) and archival memory (memories and the indexed workspace), searched as the user
 * types (debounced; a newer query aborts the older one). A symbol or a workspace hit opens the file
 * at its lines; a message scrolls the chat to it; a memory opens read-only.
 */
import * as vscode from 'vscode';
import type { ArchivalHit } from '../../core/interfaces/archivalStore';
import type { RecallRecord } from '../../core/interfaces/recallStore';
import type { SymbolDefinition, SymbolKind } from '../../core/interfaces/symbols';
import { MEMORY_SEARCH_DEBOUNCE_MS, MEMORY_SEARCH_RESULTS_PER_SOURCE } from '../../core/limits';
import { resolveWorkspacePath, type CommandContext } from '../commandContext';
import { conversationHits, relevantArchival, type ConversationHit } from '../memorySearchResults';
import type { ReadOnlyDocuments } from '../readOnlyDocuments';
import { errorMessage } from '../../core/base/errors';

type SearchItem = vscode.QuickPickItem & ({ recall: RecallRecord } | { hit: ArchivalHit } | { symbol: SymbolDefinition } | { none: true });

function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function recallItem(hit: ConversationHit): SearchItem {
  // alwaysShow: the search already ranked these; the quick pick's own word filter would hide semantic hits.
  return {
    label: `$(${hit.who === 'you' ? 'account' : 'hubot'}) ${oneLine(hit.text)}`,
    description: `${hit.who === 'you' ? 'you said' : 'MemGPT said'} · ${new Date(hit.record.time).toLocaleString()}`,
    detail: 'Opens in the chat',
    alwaysShow: true,
    recall: hit.record,
  };
}

function archivalItem(hit: ArchivalHit): SearchItem {
  const where = hit.path
    ? `${hit.path}${hit.startLine ? `:${hit.startLine}${hit.endLine && hit.endLine !== hit.startLine ? `-${hit.endLine}` : ''}` : ''}`
    : 'memory';
  const icon = hit.source === 'workspace' ? '$(file-code)' : '$(bookmark)';
  const remembered = hit.source === 'memory' ? `remembered${hit.time ? ` ${new Date(hit.time).toLocaleString()}` : ''}` : '';
  // A memory whose cited code changed says so first: it may no longer be true.
  const description = hit.note ? `$(warning) ${hit.note.split(';')[0]} · ${remembered}` : remembered;
  return { label: `${icon} ${where}`, description, detail: oneLine(hit.text, 200), alwaysShow: true, hit };
}

const SYMBOL_ICONS: Readonly<Record<SymbolKind, string>> = {
  class: 'symbol-class',
  interface: 'symbol-interface',
  type: 'symbol-class',
  enum: 'symbol-enum',
  struct: 'symbol-structure',
  trait: 'symbol-interface',
  impl: 'symbol-namespace',
  module: 'symbol-namespace',
  function: 'symbol-function',
  method: 'symbol-method',
  property: 'symbol-property',
};

function symbolItem(d: SymbolDefinition): SearchItem {
  return {
    label: `$(${SYMBOL_ICONS[d.kind]}) ${d.name}`,
    description: `${d.kind}${d.container ? ` in ${d.container}` : ''} · ${d.path}:${d.line}`,
    detail: oneLine(d.doc ? `${d.signature} — ${d.doc}` : d.signature, 200),
    alwaysShow: true,
    symbol: d,
  };
}

export type SearchChoice =
  { kind: 'file'; uri: vscode.Uri; range: vscode.Range } | { kind: 'document'; uri: vscode.Uri } | { kind: 'message'; recordId: string };

export async function searchMemory(
  ctx: CommandContext,
  documents: ReadOnlyDocuments,
  args?: { query?: string },
): Promise<SearchChoice | undefined> {
  const pick = vscode.window.createQuickPick<SearchItem>();
  pick.title = 'MemGPT: search memory';
  pick.placeholder = 'Search code symbols, the conversation (recall) and archival memory (memories and workspace)';
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;
  let generation = 0;

  const runQuery = async (query: string): Promise<void> => {
    inFlight?.abort();
    const trimmed = query.trim();
    if (!trimmed) {
      pick.items = [];
      pick.busy = false;
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    const mine = ++generation;
    pick.busy = true;
    try {
      const found = await ctx.runtime.memory.searchMemory(trimmed, { limit: MEMORY_SEARCH_RESULTS_PER_SOURCE, signal: controller.signal });
      const recall = conversationHits(found.recall);
      const archival = relevantArchival(found.archival, trimmed);
      if (mine !== generation) return;
      const symbols = ctx.runtime.memory.matchSymbols(trimmed, MEMORY_SEARCH_RESULTS_PER_SOURCE);
      const items: SearchItem[] = [];
      if (symbols.length > 0)
        items.push({ label: 'Code symbols', kind: vscode.QuickPickItemKind.Separator, none: true }, ...symbols.map(symbolItem));
      if (recall.length > 0)
        items.push(
          { label: 'Conversation (recall memory)', kind: vscode.QuickPickItemKind.Separator, none: true },
          ...recall.map(recallItem),
        );
      if (archival.length > 0)
        items.push({ label: 'Archival memory', kind: vscode.QuickPickItemKind.Separator, none: true }, ...archival.map(archivalItem));
      if (items.length === 0) items.push({ label: `No memory matches "${trimmed}"`, alwaysShow: true, none: true });
      pick.items = items;
    } catch (error) {
      if (controller.signal.aborted || mine !== generation) return;
      const message = errorMessage(error);
      pick.items = [{ label: '$(error) The search failed', detail: await ctx.keys.redact(message), alwaysShow: true, none: true }];
    } finally {
      if (mine === generation) pick.busy = false;
    }
  };

  const chosen = new Promise<SearchItem | undefined>((resolve) => {
    pick.onDidChangeValue((value) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void runQuery(value), MEMORY_SEARCH_DEBOUNCE_MS);
    });
    pick.onDidAccept(() => {
      const item = pick.selectedItems[0];
      if (item && !('none' in item)) {
        resolve(item);
        pick.hide();
      }
    });
    pick.onDidHide(() => resolve(undefined));
  });
  pick.show();
  if (args?.query) {
    pick.value = args.query;
    await runQuery(args.query);
  }
  const item = await chosen;
  if (timer) clearTimeout(timer);
  inFlight?.abort();
  pick.dispose();
  if (!item) return undefined;
  return openChoice(item, documents, ctx);
}

async function openChoice(item: SearchItem, documents: ReadOnlyDocuments, ctx: CommandContext): Promise<SearchChoice | undefined> {
  if ('recall' in item) {
    // A message belongs in the conversation: the chat scrolls to it.
    const r = item.recall;
    await ctx.openChat();
    ctx.revealInChat({ recordId: r.id, seq: r.seq });
    return { kind: 'message', recordId: r.id };
  }
  if ('symbol' in item) {
    const d = item.symbol;
    const file = resolveWorkspacePath(d.path);
    if (file) {
      const line = Math.max(0, d.line - 1);
      const range = new vscode.Range(line, 0, line, 0);
      const editor = await vscode.window.showTextDocument(file, { selection: range, preview: true });
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return { kind: 'file', uri: file, range: editor.selection };
    }
    return undefined;
  }
  if ('hit' in item) {
    const hit = item.hit;
    const file = hit.source === 'workspace' && hit.path ? resolveWorkspacePath(hit.path) : undefined;
    if (file) {
      const start = Math.max(0, (hit.startLine ?? 1) - 1);
      const end = Math.max(start, (hit.endLine ?? hit.startLine ?? 1) - 1);
      const range = new vscode.Range(start, 0, end, Number.MAX_SAFE_INTEGER);
      const editor = await vscode.window.showTextDocument(file, { selection: range, preview: true });
      editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      return { kind: 'file', uri: file, range: editor.selection };
    }
    const uri = documents.put(
      `memory-${hit.id.replace(/[^A-Za-z0-9_-]/g, '_')}.md`,
      `# Archival memory${hit.path ? ` from ${hit.path}` : ''}\n\n${hit.text}\n`,
    );
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
    return { kind: 'document', uri };
  }
  return undefined;
}
