import {
  CoreMemory,
  CoreMemoryError,
  CORE_MEMORY_LABELS,
  defaultLimit,
  type BlockScope,
  type CoreMemoryBlock,
  type CoreMemoryJSON,
  type CoreMemoryLimits,
} from './coreMemory';
import { HUMAN_PRESETS, INITIAL_PROJECT_TEXT } from './presets';
import { SharedBlockFile, type SharedBlocks } from './sharedBlockFile';
import { UnsupportedFileError } from '../storage/atomicFile';

/**
 * The shared scopes of core memory: blocks of the user (one file under the state folder, seen
 * by every workspace) and of the workspace (one file beside its agents, seen by all of them).
 * The agent's own blocks stay in its state file. `human` is the user's by default (what the
 * agent learns about you follows you to the next repository); the setting `humanScope:
 * 'workspace'` keeps it per workspace. `project` is the workspace's, `persona` the agent's.
 *
 * A label shown by a narrower scope hides the same label of a wider one (agent, then workspace,
 * then user), so nothing stored is ever dropped by a name clash.
 */

export type HumanScope = 'user' | 'workspace';
export const HUMAN_SCOPES: readonly HumanScope[] = ['user', 'workspace'];

export interface MemoryScopesOptions {
  user: SharedBlockFile;
  workspace: SharedBlockFile;
  humanScope: HumanScope;
  limits?: CoreMemoryLimits;
  /** What the user must be told (a conversion of old memory), by key so it is said once. */
  notice?: (key: string, message: string) => void;
}

/** A block moved into a shared scope, or kept beside it, while converting or importing. */
export interface MergeOutcome {
  /** The agent's own blocks afterwards (scoped JSON, ready to save). */
  coreMemory: CoreMemoryJSON;
  /** One line per block that changed place, for the notice ('' items are silent). */
  moved: string[];
}

export class MemoryScopes {
  private user: SharedBlocks = { revision: 0, lastModified: '', blocks: [] };
  private workspace: SharedBlocks = { revision: 0, lastModified: '', blocks: [] };
  private stamps = { user: '', workspace: '' };

  constructor(private readonly options: MemoryScopesOptions) {}

  get humanScope(): HumanScope {
    return this.options.humanScope;
  }

  get limits(): CoreMemoryLimits | undefined {
    return this.options.limits;
  }

  private file(scope: Exclude<BlockScope, 'agent'>): SharedBlockFile {
    return scope === 'user' ? this.options.user : this.options.workspace;
  }

  /** Reads both files; with `human` kept per workspace, a workspace without one starts from the user's. */
  async load(): Promise<void> {
    await this.reread('user');
    await this.reread('workspace');
    if (this.options.humanScope === 'workspace' && !this.options.workspace.readOnly && !has(this.workspace, 'human')) {
      const userHuman = this.user.blocks.find((b) => b.label === 'human');
      if (userHuman) {
        this.workspace = await this.options.workspace.update((blocks) => {
          if (blocks.some((b) => b.label === 'human')) return false;
          blocks.unshift({ ...userHuman, scope: 'workspace' });
        });
        this.stamps.workspace = await this.options.workspace.stamp();
      }
    }
  }

  /** Rereads a file another window or process changed since the last look; true when anything did. */
  async refresh(): Promise<boolean> {
    let changed = false;
    for (const scope of ['user', 'workspace'] as const) {
      if ((await this.file(scope).stamp()) !== this.stamps[scope]) {
        await this.reread(scope);
        changed = true;
      }
    }
    return changed;
  }

  private async reread(scope: Exclude<BlockScope, 'agent'>): Promise<void> {
    const file = this.file(scope);
    const stamp = await file.stamp();
    this[scope] = await file.read();
    this.stamps[scope] = stamp;
  }

  /** The shared blocks an agent sees, each with its scope, standard limits from the settings. */
  blocks(): CoreMemoryBlock[] {
    const humanFrom = this.options.humanScope;
    const pick = (s: SharedBlocks, scope: 'user' | 'workspace') =>
      s.blocks.filter((b) => b.label !== 'human' || humanFrom === scope).map((b) => this.withLimit({ ...b, scope }));
    const workspace = pick(this.workspace, 'workspace');
    const labels = new Set(workspace.map((b) => b.label));
    return [...workspace, ...pick(this.user, 'user').filter((b) => !labels.has(b.label))];
  }

  lastModified(): string {
    return this.user.lastModified > this.workspace.lastModified ? this.user.lastModified : this.workspace.lastModified;
  }

  private withLimit(b: CoreMemoryBlock): CoreMemoryBlock {
    return (CORE_MEMORY_LABELS as readonly string[]).includes(b.label) ? { ...b, limit: defaultLimit(b.label, this.options.limits) } : b;
  }

  /** The scope a standard block belongs in (persona: the agent; human: the setting; project: the workspace). */
  homeOf(label: string): BlockScope {
    if (label === 'human') return this.options.humanScope;
    if (label === 'project') return 'workspace';
    return 'agent';
  }

  /**
   * Applies `op` to the newest content of a shared scope, under its lock, then shows the result.
   * `op` throws CoreMemoryError to change nothing.
   */
  async edit(scope: Exclude<BlockScope, 'agent'>, op: (memory: CoreMemory) => void): Promise<void> {
    this[scope] = await this.file(scope).update((blocks) => {
      const memory = CoreMemory.fromJSON(
        { blocks, lastModified: '', scoped: true },
        this.options.limits ? { limits: this.options.limits } : {},
      );
      op(memory);
      blocks.splice(0, blocks.length, ...memory.allBlocks().map((b) => ({ ...b, scope })));
    });
    this.stamps[scope] = await this.file(scope).stamp();
  }

  /**
   * Puts blocks meant for a shared scope there: memory saved before scopes existed (the agent's
   * `human` and `project`), or an imported agent's shared blocks. A block the scope lacks is
   * added; one it holds with the same text, or a block that only ever held its starting preset,
   * is dropped; one that differs is kept as the agent's own `<label>_kept`, with a description
   * asking the agent to merge it. Nothing the agent learned is lost.
   */
  async merge(
    agentBlocks: readonly CoreMemoryBlock[],
    incoming: readonly { block: CoreMemoryBlock; scope: Exclude<BlockScope, 'agent'> }[],
    lastModified: string,
  ): Promise<MergeOutcome> {
    const own = agentBlocks.map((b) => ({ ...b, scope: 'agent' as const }));
    const moved: string[] = [];
    for (const { block, scope } of incoming) {
      let outcome = 'same' as 'added' | 'same' | 'kept';
      if (block.value.trim() !== '' || !isStartingText(block)) {
        this[scope] = await this.file(scope).update((blocks) => {
          const there = blocks.find((b) => b.label === block.label);
          if (!there) {
            blocks.push({ ...block, scope });
            outcome = 'added';
            return;
          }
          outcome = there.value === block.value || isStartingText(block) ? 'same' : 'kept';
          return false;
        });
        this.stamps[scope] = await this.file(scope).stamp();
      }
      if (outcome === 'kept') {
        let label = `${block.label}_kept`;
        for (let n = 2; own.some((b) => b.label === label); n++) label = `${block.label}_kept${n}`;
        own.push({
          label,
          value: block.value,
          limit: Math.max(block.limit, defaultLimit(block.label, this.options.limits)),
          scope: 'agent',
          description: `What this agent knew as '${block.label}' before it was shared (${scope} memory): merge what still holds into '${block.label}', then delete this block.`,
        });
        moved.push(`its '${block.label}' differed from the ${scope} memory's and was kept as its own block '${label}'`);
      } else if (outcome === 'added' && !isStartingText(block)) {
        moved.push(`'${block.label}' is now in the ${scope} memory`);
      }
    }
    return { coreMemory: { blocks: own, lastModified, scoped: true }, moved };
  }

  /**
   * Converts an agent saved before scopes: `human` and `project` move to their shared scopes
   * (see merge). Returns null when the memory is scoped already. The user is told when
   * anything the agent had learned moved or was kept aside.
   */
  async adopt(coreMemory: CoreMemoryJSON, agentName: string): Promise<CoreMemoryJSON | null> {
    if (coreMemory.scoped === true) return null;
    const blocks = CoreMemory.fromJSON(coreMemory, this.options.limits ? { limits: this.options.limits } : {}).allBlocks();
    const own: CoreMemoryBlock[] = [];
    const incoming: { block: CoreMemoryBlock; scope: 'user' | 'workspace' }[] = [];
    for (const b of blocks) {
      const home = this.homeOf(b.label);
      if (home === 'agent') own.push(b);
      else incoming.push({ block: b, scope: home });
    }
    let result: MergeOutcome;
    try {
      result = await this.merge(own, incoming, coreMemory.lastModified);
    } catch (err) {
      // A shared file this version must not write (a newer one): the agent runs as saved, converted later.
      if (!(err instanceof UnsupportedFileError)) throw err;
      this.options.notice?.(
        `scopes:unconverted:${agentName}`,
        `Core memory of agent "${agentName}" was not converted to scopes this time: ${err.message}`,
      );
      return null;
    }
    if (result.moved.length > 0) {
      this.options.notice?.(
        `scopes:${agentName}:${coreMemory.lastModified}`,
        `Core memory of agent "${agentName}" was converted to scopes (user, workspace, agent): ${result.moved.join('; ')}. Nothing was deleted.`,
      );
    }
    return result.coreMemory;
  }
}

function has(s: SharedBlocks, label: string): boolean {
  return s.blocks.some((b) => b.label === label);
}

/** Texts a block starts with (presets): dropping one of those loses nothing the agent learned. */
function isStartingText(block: CoreMemoryBlock): boolean {
  const v = block.value.trim();
  if (v === '') return true;
  if (block.label === 'project') return v === INITIAL_PROJECT_TEXT;
  if (block.label === 'human') return Object.values(HUMAN_PRESETS).some((p) => p.text.trim() === v);
  return false;
}

/**
 * Core memory as one agent sees and edits it: its own blocks plus the shared ones. Edits of a
 * shared block are made on the newest content on disk under its lock (so another window's edit
 * is never overwritten), after a dry run on the whole view that checks the label, the limits and
 * the total budget. Without scopes (tests, a bare agent) every block is the agent's.
 */
export class ScopedCoreMemory {
  constructor(
    readonly view: CoreMemory,
    private readonly scopes: MemoryScopes | null,
  ) {
    if (scopes) view.setShared(scopes.blocks(), scopes.lastModified());
  }

  /** Picks up edits other windows made to shared blocks; true when the view changed. */
  async refresh(): Promise<boolean> {
    if (!this.scopes || !(await this.scopes.refresh())) return false;
    const before = this.view.render();
    this.view.setShared(this.scopes.blocks(), this.scopes.lastModified());
    return this.view.render() !== before;
  }

  async append(label: string, content: string): Promise<void> {
    await this.apply(label, (m) => m.append(label, content));
  }

  async replace(label: string, oldContent: string, newContent: string, replaceAll = false): Promise<void> {
    await this.apply(label, (m) => m.replace(label, oldContent, newContent, replaceAll));
  }

  async setBlock(label: string, value: string): Promise<void> {
    await this.apply(label, (m) => m.setBlock(label, value));
  }

  async createBlock(label: string, init: { limit: number; description: string; scope: BlockScope }): Promise<void> {
    if (init.scope !== 'agent' && !this.scopes)
      throw new CoreMemoryError(`Edit failed: ${init.scope} memory is not available here; create the block with scope "agent".`);
    // The whole view first: the label must be new everywhere and the budget counts every scope.
    this.dryRun((m) => m.createBlock(label, init));
    if (init.scope === 'agent') this.view.createBlock(label, init);
    else await this.sharedEdit(init.scope, (m) => m.createBlock(label, { ...init, limit: init.limit }));
  }

  async renameBlock(label: string, newLabel: string): Promise<void> {
    this.dryRun((m) => m.renameBlock(label, newLabel));
    await this.apply(label, (m) => m.renameBlock(label, newLabel));
  }

  async deleteBlock(label: string): Promise<string> {
    const value = this.view.has(label) ? this.view.get(label) : '';
    await this.apply(label, (m) => void m.deleteBlock(label));
    return value;
  }

  async updateBlock(label: string, change: { description?: string; limit?: number }): Promise<void> {
    this.dryRun((m) => m.updateBlock(label, change));
    await this.apply(label, (m) => m.updateBlock(label, change));
  }

  private async apply(label: string, op: (m: CoreMemory) => void): Promise<void> {
    const scope = this.view.scopeOf(label);
    if (scope === 'agent' || !this.scopes) {
      op(this.view);
      return;
    }
    await this.sharedEdit(scope, op);
  }

  private async sharedEdit(scope: 'user' | 'workspace', op: (m: CoreMemory) => void): Promise<void> {
    await this.scopes!.edit(scope, op);
    this.view.setShared(this.scopes!.blocks(), this.scopes!.lastModified());
  }

  private dryRun(op: (m: CoreMemory) => void): void {
    const copy = CoreMemory.fromJSON(
      { blocks: this.view.allBlocks(), lastModified: this.view.lastModified, scoped: true },
      this.scopes?.limits ? { limits: this.scopes.limits } : {},
    );
    op(copy);
  }
}

/** The scopes of one workspace's memory: the user's file under the state folder, the workspace's beside its agents. */
export function openMemoryScopes(options: {
  userFile: string;
  workspaceFile: string;
  readOnly: boolean;
  humanScope?: HumanScope;
  limits?: CoreMemoryLimits;
  notice?: (key: string, message: string) => void;
}): MemoryScopes {
  const notice = options.notice;
  const fileNotice = notice ? (m: string) => notice(m, m) : undefined;
  return new MemoryScopes({
    user: new SharedBlockFile(options.userFile, 'user', { readOnly: options.readOnly, ...(fileNotice ? { notice: fileNotice } : {}) }),
    workspace: new SharedBlockFile(options.workspaceFile, 'workspace', {
      readOnly: options.readOnly,
      ...(fileNotice ? { notice: fileNotice } : {}),
    }),
    humanScope: options.humanScope ?? 'user',
    ...(options.limits ? { limits: options.limits } : {}),
    ...(notice ? { notice } : {}),
  });
}

/** A saved agent's blocks with the shared ones, as the memory view and `memgpt memory` show them. */
export async function combinedView(coreMemory: CoreMemoryJSON, scopes: MemoryScopes): Promise<CoreMemory> {
  await scopes.load();
  const view = CoreMemory.fromJSON(coreMemory, scopes.limits ? { limits: scopes.limits } : {});
  view.setShared(scopes.blocks(), scopes.lastModified());
  return view;
}
