/**
 * Core memory as files: `memgpt-memory:/persona.md`, `/human.md`, `/project.md`. The user reads
 * and edits a block in a normal editor; saving writes it back through the runtime, which enforces
 * the block's character limit (an over-limit save fails with the reason and changes nothing) and
 * tells the agent (`core_memory_edited_by_user`). Agent edits refresh open editors. A user-scoped
 * block (`human` by default) is the same file in every workspace's window: saving it here changes
 * it there at that agent's next step.
 *
 * The project's instruction files appear read-only under `/instructions/<path>`, exactly as the
 * agent sees them (cut notice included); they are changed by editing the files themselves.
 */
import * as vscode from 'vscode';
import { charCount, scopeDescription } from '../core/memory/coreMemory';
import type { AgentRuntimePort } from '../core/runtime/runtimePort';
import { coreMemoryPreview } from './coreMemoryPreview';
import type { ReflectionRecord } from '../core/runtime/reflectionService';
import { reflectionPicks, showReflection } from './commands/reflectionCommands';
import type { ReadOnlyDocuments } from './readOnlyDocuments';

export const CORE_MEMORY_SCHEME = 'memgpt-memory';

export function coreMemoryUri(label: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CORE_MEMORY_SCHEME, path: `/${label}.md` });
}

const INSTRUCTIONS_DIR = '/instructions';

export function instructionUri(filePath: string): vscode.Uri {
  return vscode.Uri.from({ scheme: CORE_MEMORY_SCHEME, path: `${INSTRUCTIONS_DIR}/${filePath}` });
}

/** The instruction file a URI names (workspace-relative path), or undefined when it is not under /instructions/. */
function instructionPathOf(uri: vscode.Uri): string | undefined {
  return uri.path.startsWith(`${INSTRUCTIONS_DIR}/`) ? uri.path.slice(INSTRUCTIONS_DIR.length + 1) : undefined;
}

function labelOf(uri: vscode.Uri): string | undefined {
  const m = /^\/([A-Za-z0-9_-]+)\.md$/.exec(uri.path);
  return m?.[1];
}

export class CoreMemoryFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  private readonly subscription: { dispose(): void };
  private mtime = Date.now();
  readonly onDidChangeFile = this.emitter.event;

  /** Strictly increasing: VS Code decides "changed on disk" (reload, save conflicts) by mtime. */
  private touch(): void {
    this.mtime = Math.max(Date.now(), this.mtime + 1);
  }

  private readonly instructionsSubscription: { dispose(): void } | undefined;

  constructor(private readonly runtime: AgentRuntimePort) {
    this.subscription = runtime.chat.onEvent((event) => {
      if (event.type === 'memory_changed' && event.what === 'core') void this.announceAll();
    });
    this.instructionsSubscription = runtime.files.onDidChangeInstructionFiles(() => this.announceInstructions());
  }

  /** Open views of instruction files show the file as read again. */
  private announceInstructions(): void {
    this.touch();
    const files = this.runtime.files.instructionFiles().blocks;
    this.emitter.fire([
      { type: vscode.FileChangeType.Changed, uri: vscode.Uri.from({ scheme: CORE_MEMORY_SCHEME, path: INSTRUCTIONS_DIR }) },
      ...files.map((b) => ({ type: vscode.FileChangeType.Changed, uri: instructionUri(b.path) })),
    ]);
  }

  private instruction(uri: vscode.Uri): { path: string; text: string } | undefined {
    const filePath = instructionPathOf(uri);
    if (filePath === undefined) return undefined;
    const block = this.runtime.files.instructionFiles().blocks.find((b) => b.path === filePath);
    if (!block) throw vscode.FileSystemError.FileNotFound(uri);
    return block;
  }

  /** Tells open editors every block changed (agent edit, agent switch or reset). */
  async announceAll(): Promise<void> {
    this.touch();
    const blocks = await this.runtime.memory.coreMemory().catch(() => []);
    this.emitter.fire(blocks.map((b) => ({ type: vscode.FileChangeType.Changed, uri: coreMemoryUri(b.label) })));
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  private async block(uri: vscode.Uri) {
    const label = labelOf(uri);
    const block = label ? (await this.runtime.memory.coreMemory()).find((b) => b.label === label) : undefined;
    if (!block) throw vscode.FileSystemError.FileNotFound(uri);
    return block;
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    if (uri.path === '/' || uri.path === '') return { type: vscode.FileType.Directory, ctime: 0, mtime: this.mtime, size: 0 };
    if (uri.path === INSTRUCTIONS_DIR)
      return { type: vscode.FileType.Directory, ctime: 0, mtime: this.mtime, size: 0, permissions: vscode.FilePermission.Readonly };
    const file = this.instruction(uri);
    if (file)
      return {
        type: vscode.FileType.File,
        ctime: 0,
        mtime: this.mtime,
        size: new TextEncoder().encode(file.text).length,
        permissions: vscode.FilePermission.Readonly,
      };
    const block = await this.block(uri);
    return { type: vscode.FileType.File, ctime: 0, mtime: this.mtime, size: new TextEncoder().encode(block.value).length };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    if (uri.path === INSTRUCTIONS_DIR) {
      // Instruction paths are flattened into names here: the tree is short and read-only.
      return this.runtime.files.instructionFiles().blocks.map((b) => [b.path, vscode.FileType.File]);
    }
    const blocks: [string, vscode.FileType][] = (await this.runtime.memory.coreMemory()).map((b) => [
      `${b.label}.md`,
      vscode.FileType.File,
    ]);
    return [...blocks, ['instructions', vscode.FileType.Directory]];
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const file = this.instruction(uri);
    if (file) return new TextEncoder().encode(file.text);
    return new TextEncoder().encode((await this.block(uri)).value);
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    const file = this.instruction(uri);
    if (file) {
      throw vscode.FileSystemError.NoPermissions(
        `${file.path} is a project instruction file: MemGPT shows it read-only. Edit ${file.path} in the workspace; the agent sees the change when you save it.`,
      );
    }
    const block = await this.block(uri);
    // Editors add a final newline on save (files.insertFinalNewline); it is not part of the memory.
    const value = new TextDecoder().decode(content).replace(/\r\n/g, '\n').replace(/\n$/, '');
    const chars = charCount(value);
    if (chars > block.limit) {
      throw vscode.FileSystemError.NoPermissions(
        `Core memory "${block.label}" holds at most ${block.limit} characters; this text has ${chars}. Shorten it by ${chars - block.limit} characters and save again (nothing was changed).`,
      );
    }
    if (value === block.value) return;
    await this.runtime.memory.setCoreMemoryBlock(block.label, value);
    this.touch();
    this.emitter.fire([{ type: vscode.FileChangeType.Changed, uri }]);
  }

  createDirectory(): void {
    throw vscode.FileSystemError.NoPermissions('Core memory has a fixed set of blocks; folders cannot be created.');
  }
  delete(): void {
    throw vscode.FileSystemError.NoPermissions('Core memory blocks cannot be deleted; clear the text and save instead.');
  }
  rename(): void {
    throw vscode.FileSystemError.NoPermissions('Core memory blocks cannot be renamed.');
  }

  dispose(): void {
    this.subscription.dispose();
    this.instructionsSubscription?.dispose();
    this.emitter.dispose();
  }
}

type MemoryPick = vscode.QuickPickItem & { block?: string; instruction?: string; reflection?: ReflectionRecord };

/** The instruction files for the picker: each file, or why none were read. */
function instructionPicks(runtime: AgentRuntimePort): MemoryPick[] {
  const view = runtime.files.instructionFiles();
  if (!view) return [];
  const files: MemoryPick[] = view.blocks.map((b) => ({
    label: `$(lock) ${b.path}`,
    description: `read-only · ${b.shownChars < b.chars ? `${b.shownChars} of ${b.chars} characters shown` : `${b.chars} characters`}${b.reason === 'active-file' ? ' · for the active file' : ''}`,
    detail: b.text.split('\n')[0] ?? '',
    instruction: b.path,
  }));
  const notes: MemoryPick[] = view.notice ? [{ label: '$(shield) Instruction files not read', detail: view.notice }] : [];
  if (files.length === 0 && notes.length === 0) return [];
  return [
    { label: 'Instruction files (read-only: edit the files themselves)', kind: vscode.QuickPickItemKind.Separator },
    ...files,
    ...notes,
  ];
}

/** "Show core memory": pick a block (with its size), an instruction file or a reflection and open it. */
export async function showCoreMemory(
  runtime: AgentRuntimePort,
  args?: { label?: string },
  documents?: ReadOnlyDocuments,
): Promise<vscode.Uri | undefined> {
  const blocks = await runtime.memory.coreMemory();
  let label = args?.label;
  if (label === undefined) {
    const picked = await vscode.window.showQuickPick<MemoryPick>(
      [
        ...blocks.map((b) => ({
          label: b.label,
          description: `${charCount(b.value)}/${b.limit} characters · ${scopeDescription(b.scope ?? 'agent')}${b.description ? ` · ${b.description}` : ''}`,
          // What the block holds, newest line first: what was just remembered shows without opening it.
          detail: coreMemoryPreview(b.value),
          block: b.label,
        })),
        ...instructionPicks(runtime),
        ...(documents ? await reflectionPicks(runtime) : []),
      ],
      { title: 'MemGPT: core memory (saving a block writes it back and tells the agent)', ignoreFocusOut: true },
    );
    if (picked?.reflection && documents) return showReflection(documents, picked.reflection);
    if (picked?.instruction !== undefined) {
      const doc = await vscode.workspace.openTextDocument(instructionUri(picked.instruction));
      await vscode.window.showTextDocument(doc, { preview: false });
      return doc.uri;
    }
    label = picked?.block;
  }
  if (label === undefined) return undefined;
  if (!blocks.some((b) => b.label === label))
    throw new Error(`Core memory has no block "${label}". It has: ${blocks.map((b) => b.label).join(', ')}.`);
  const uri = coreMemoryUri(label);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: false });
  return uri;
}
