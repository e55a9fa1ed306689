import {
  CORE_MEMORY_BLOCK_LIMIT_CHARS,
  CORE_MEMORY_DESCRIPTION_MAX_CHARS,
  CORE_MEMORY_MAX_BLOCK_LIMIT_CHARS,
  CORE_MEMORY_MAX_BLOCKS,
  CORE_MEMORY_MIN_BLOCK_LIMIT_CHARS,
  CORE_MEMORY_PROJECT_LIMIT_CHARS,
  CORE_MEMORY_TOTAL_BUDGET_CHARS,
} from '../limits';
import { DEFAULT_HUMAN_PRESET, DEFAULT_PERSONA_PRESET, humanPreset, INITIAL_PROJECT_TEXT, personaPreset } from './presets';
import { MemgptError } from '../base/errors';
import { Emitter } from '../base/emitter';

/**
 * Core memory: MemGPT's read-write "working context", labelled blocks that are
 * always in the system message. Edits follow MemGPT's functions and error
 * texts; an edit that fails changes nothing.
 *
 * Characters are counted as Unicode code points (what a person calls a
 * character; an emoji counts once), as MemGPT's Python `len` does.
 *
 * render() format, one element per block in label order (scope only for shared blocks,
 * description only when set):
 *   <human characters="123/2000" scope="user">
 *   …text…
 *   </human>
 *
 * Every block belongs to a scope: the user (shared by every workspace on this machine), the
 * workspace (shared by its agents) or the agent. One CoreMemory holds the combined view an agent
 * sees; MemoryScopes keeps the shared scopes on disk and ScopedCoreMemory routes edits there.
 */

export const CORE_MEMORY_LABELS = ['persona', 'human', 'project'] as const;
export type CoreMemoryLabel = (typeof CORE_MEMORY_LABELS)[number];

export const BLOCK_SCOPES = ['user', 'workspace', 'agent'] as const;
export type BlockScope = (typeof BLOCK_SCOPES)[number];

/** Who sees a block, in words for the memory view and `memgpt memory`. */
export function scopeDescription(scope: BlockScope): string {
  switch (scope) {
    case 'user':
      return 'user: shared by every workspace';
    case 'workspace':
      return "workspace: shared by this workspace's agents";
    case 'agent':
      return 'agent: this agent only';
  }
}

/** Letters, digits and '_', starting with a letter: safe as an XML-like tag in the prompt. */
const LABEL_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

export interface CoreMemoryBlock {
  label: string;
  value: string;
  limit: number;
  /** Absent in memory saved before blocks had scopes (then it is the agent's own). */
  scope?: BlockScope;
  /** What belongs in the block, for blocks the agent created (shown in the prompt). */
  description?: string;
  /** Reserved for blocks nobody may edit; no such block is written yet. */
  readOnly?: boolean;
}

export interface CoreMemoryJSON {
  blocks: CoreMemoryBlock[];
  lastModified: string;
  /**
   * True once blocks have scopes: the file then holds only the agent's own blocks, and the
   * standard ones missing from it live in a shared scope (they are not added back empty).
   */
  scoped?: boolean;
}

export interface CoreMemoryChange {
  label: string;
  operation: 'append' | 'replace' | 'set' | 'create' | 'rename' | 'delete' | 'update';
  /** 'agent' for the memory functions, 'user' for setBlock (an edit in the UI). */
  source: 'agent' | 'user';
  value: string;
}

export type CoreMemoryListener = (change: CoreMemoryChange) => void;

/** An edit was refused; `message` is the text to return to the model as a failed function result. */
export class CoreMemoryError extends MemgptError {
  constructor(message: string) {
    super('core_memory_refused', message);
  }
}

export function charCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Character limits chosen by the user (settings); absent ones are limits.ts defaults. */
export interface CoreMemoryLimits {
  block?: number;
  project?: number;
}

export function defaultLimit(label: string, limits: CoreMemoryLimits = {}): number {
  return label === 'project' ? (limits.project ?? CORE_MEMORY_PROJECT_LIMIT_CHARS) : (limits.block ?? CORE_MEMORY_BLOCK_LIMIT_CHARS);
}

export class CoreMemory {
  private readonly blocks = new Map<string, CoreMemoryBlock>();
  private readonly changes = new Emitter<CoreMemoryChange>();
  private modified: string;
  /** Newest edit of the shared scopes shown here (they are edited in other windows too). */
  private sharedModified = '';
  /** Holds scoped blocks: toJSON keeps only the agent's own (see CoreMemoryJSON.scoped). */
  private scoped = false;

  private constructor(
    blocks: readonly CoreMemoryBlock[],
    lastModified: string,
    private readonly now: () => Date,
  ) {
    for (const b of blocks) this.blocks.set(b.label, { ...b });
    this.modified = lastModified;
  }

  /** A new core memory from preset names (see presets.ts) or explicit texts. */
  static create(
    init: { persona?: string; human?: string; project?: string; personaPreset?: string; humanPreset?: string } = {},
    options: { now?: () => Date; limits?: CoreMemoryLimits } = {},
  ): CoreMemory {
    const now = options.now ?? (() => new Date());
    const values: Record<CoreMemoryLabel, string> = {
      persona: init.persona ?? personaPreset(init.personaPreset ?? DEFAULT_PERSONA_PRESET).text,
      human: init.human ?? humanPreset(init.humanPreset ?? DEFAULT_HUMAN_PRESET).text,
      project: init.project ?? INITIAL_PROJECT_TEXT,
    };
    const blocks = CORE_MEMORY_LABELS.map((label) => ({ label, value: values[label], limit: defaultLimit(label, options.limits) }));
    for (const b of blocks) {
      const n = charCount(b.value);
      if (n > b.limit) throw new CoreMemoryError(`Edit failed: Exceeds ${b.limit} character limit (requested ${n}).`);
    }
    return new CoreMemory(blocks, now().toISOString(), now);
  }

  /**
   * Restores saved memory. Limits come from `options.limits` or limits.ts, not the file, so a
   * changed limit applies; a saved value above its limit is kept as is (never
   * truncated) and can only shrink until it fits.
   */
  static fromJSON(json: unknown, options: { now?: () => Date; limits?: CoreMemoryLimits } = {}): CoreMemory {
    const o = json as Partial<CoreMemoryJSON> | null;
    if (!o || typeof o !== 'object' || !Array.isArray(o.blocks)) {
      throw new Error('Core memory is malformed: expected an object with a "blocks" array.');
    }
    const blocks = parseBlocks(o.blocks, 'Core memory', options.limits);
    const scoped = o.scoped === true;
    if (!scoped) {
      for (const label of CORE_MEMORY_LABELS) {
        if (!blocks.some((b) => b.label === label)) blocks.push({ label, value: '', limit: defaultLimit(label, options.limits) });
      }
    }
    const now = options.now ?? (() => new Date());
    const lastModified = typeof o.lastModified === 'string' ? o.lastModified : now().toISOString();
    const memory = new CoreMemory(blocks, lastModified, now);
    memory.scoped = scoped;
    return memory;
  }

  /** The blocks to save with the agent: all of them, or once scoped only the agent's own. */
  toJSON(): CoreMemoryJSON {
    const own = [...this.blocks.values()].filter((b) => !this.scoped || b.scope === undefined || b.scope === 'agent');
    return { blocks: own.map((b) => ({ ...b })), lastModified: this.modified, ...(this.scoped ? { scoped: true } : {}) };
  }

  /** Every block with its scope, in prompt order (the memory view and `memgpt memory` show these). */
  allBlocks(): CoreMemoryBlock[] {
    return [...this.blocks.values()].map((b) => ({ ...b, scope: b.scope ?? 'agent' }));
  }

  scopeOf(label: string): BlockScope {
    return this.block(label).scope ?? 'agent';
  }

  has(label: string): boolean {
    return this.blocks.has(label);
  }

  /**
   * Puts the current blocks of the shared scopes in place (read from disk after any window's
   * edit). A label the agent itself has shadows a shared one of the same name (narrower wins).
   */
  setShared(blocks: readonly CoreMemoryBlock[], modified: string): void {
    const next = new Map<string, CoreMemoryBlock>();
    const own = [...this.blocks.values()].filter((b) => b.scope === undefined || b.scope === 'agent');
    const ownLabels = new Set(own.map((b) => b.label));
    const shared = blocks.filter((b) => b.scope !== undefined && b.scope !== 'agent' && !ownLabels.has(b.label));
    const all = [...own, ...shared];
    for (const label of CORE_MEMORY_LABELS) {
      const b = all.find((x) => x.label === label);
      if (b) next.set(label, { ...b });
    }
    // Others keep the order they had, new ones come last.
    for (const label of this.blocks.keys()) {
      const b = all.find((x) => x.label === label);
      if (b && !next.has(label)) next.set(label, { ...b });
    }
    for (const b of all) if (!next.has(b.label)) next.set(b.label, { ...b });
    this.blocks.clear();
    for (const [k, v] of next) this.blocks.set(k, v);
    this.sharedModified = modified;
  }

  get labels(): string[] {
    return [...this.blocks.keys()];
  }

  /** ISO time of the last successful edit, here or (for shared blocks) in any window. */
  get lastModified(): string {
    return this.sharedModified > this.modified ? this.sharedModified : this.modified;
  }

  get(label: string): string {
    return this.block(label).value;
  }

  limit(label: string): number {
    return this.block(label).limit;
  }

  /** MemGPT's core_memory_append: the content goes on a new line at the end of the block. */
  append(label: string, content: string): void {
    const block = this.block(label);
    requireText(content, 'content');
    if (content.trim() === '') throw new CoreMemoryError('Edit failed: content is empty. Give the text to add to the memory block.');
    const value = block.value === '' ? content : `${block.value}\n${content}`;
    this.commit(block, value, 'append', 'agent');
  }

  /**
   * MemGPT's core_memory_replace: `oldContent` becomes `newContent` (an empty `newContent`
   * deletes). An empty `oldContent` is an error: it would otherwise match between every
   * character. Text found more than once is refused unless `replaceAll`: a short phrase
   * that happens to repeat would otherwise change facts the agent never meant to touch.
   */
  replace(label: string, oldContent: string, newContent: string, replaceAll = false): void {
    const block = this.block(label);
    requireText(oldContent, 'old_content');
    requireText(newContent, 'new_content');
    if (oldContent === '') {
      throw new CoreMemoryError(
        `Edit failed: old_content is empty. Give the exact text to replace in memory block '${label}' ` +
          `(to add text, use core_memory_append).`,
      );
    }
    if (!block.value.includes(oldContent)) {
      throw new CoreMemoryError(`Old content '${oldContent}' not found in memory block '${label}'`);
    }
    const occurrences = block.value.split(oldContent).length - 1;
    const ambiguous = occurrences > 1 && !replaceAll;
    const next = ambiguous ? block.value.replace(oldContent, () => newContent) : block.value.split(oldContent).join(newContent);
    // An over-long result is the first thing to hear about: it is refused either way.
    this.checkFits(block, next, 'agent');
    if (ambiguous) {
      throw new CoreMemoryError(
        `Edit failed: old_content occurs ${occurrences} times in memory block '${label}', so the edit is ambiguous and nothing was changed. ` +
          'Include more of the surrounding text so it matches once, or set replace_all=true to change every occurrence.',
      );
    }
    this.commit(block, next, 'replace', 'agent');
  }

  /** The user's own edit of a whole block (same limit as the agent's edits). */
  setBlock(label: string, value: string): void {
    const block = this.block(label);
    requireText(value, 'value');
    this.commit(block, value, 'set', 'user');
  }

  /**
   * A new block (the agent shapes its own memory). The label must be new, the limit within the
   * total budget of all blocks; nothing changes when a check fails.
   */
  createBlock(label: string, init: { limit: number; description: string; scope: BlockScope; value?: string }): void {
    requireText(label, 'label');
    if (!LABEL_PATTERN.test(label)) {
      throw new CoreMemoryError(
        `Edit failed: the label '${label}' is not usable: use 1-40 lowercase letters, digits or '_', starting with a letter (e.g. "coding_style").`,
      );
    }
    if (this.blocks.has(label))
      throw new CoreMemoryError(`Edit failed: a memory block named '${label}' exists already. Pick another label, or edit that block.`);
    if (this.blocks.size >= CORE_MEMORY_MAX_BLOCKS) {
      throw new CoreMemoryError(
        `Edit failed: core memory holds ${this.blocks.size} blocks, the most it may. Delete or merge a block first.`,
      );
    }
    checkDescription(init.description);
    checkLimit(init.limit);
    this.checkBudget(init.limit);
    const value = init.value ?? '';
    requireText(value, 'value');
    if (charCount(value) > init.limit)
      throw new CoreMemoryError(`Edit failed: Exceeds ${init.limit} character limit (requested ${charCount(value)}).`);
    const block: CoreMemoryBlock = { label, value, limit: init.limit, scope: init.scope, description: init.description.trim() };
    this.blocks.set(label, block);
    this.touch({ label, operation: 'create', source: 'agent', value });
  }

  /** Renames a block the agent created; the standard blocks keep their names (the instructions use them). */
  renameBlock(label: string, newLabel: string): void {
    const block = this.block(label);
    this.requireOwnBlock(label, 'renamed');
    requireText(newLabel, 'new_label');
    if (!LABEL_PATTERN.test(newLabel)) {
      throw new CoreMemoryError(
        `Edit failed: the label '${newLabel}' is not usable: use 1-40 lowercase letters, digits or '_', starting with a letter.`,
      );
    }
    if (this.blocks.has(newLabel)) throw new CoreMemoryError(`Edit failed: a memory block named '${newLabel}' exists already.`);
    const entries = [...this.blocks.entries()].map(([k, v]): [string, CoreMemoryBlock] =>
      k === label ? [newLabel, { ...v, label: newLabel }] : [k, v],
    );
    this.blocks.clear();
    for (const [k, v] of entries) this.blocks.set(k, v);
    this.touch({ label: newLabel, operation: 'rename', source: 'agent', value: block.value });
  }

  /** Deletes a block the agent created; returns the text it held (kept in the function result, so in recall). */
  deleteBlock(label: string): string {
    const block = this.block(label);
    this.requireOwnBlock(label, 'deleted');
    this.blocks.delete(label);
    this.touch({ label, operation: 'delete', source: 'agent', value: '' });
    return block.value;
  }

  /** A new description or limit for a block the agent created. */
  updateBlock(label: string, change: { description?: string; limit?: number }): void {
    const block = this.block(label);
    this.requireOwnBlock(label, 'changed this way');
    if (change.description !== undefined) checkDescription(change.description);
    if (change.limit !== undefined) {
      checkLimit(change.limit);
      this.checkBudget(change.limit - block.limit);
      const n = charCount(block.value);
      if (n > change.limit)
        throw new CoreMemoryError(
          `Edit failed: block '${label}' holds ${n} characters, more than the new limit ${change.limit}. Shorten it first.`,
        );
    }
    if (change.description !== undefined) block.description = change.description.trim();
    if (change.limit !== undefined) block.limit = change.limit;
    this.touch({ label, operation: 'update', source: 'agent', value: block.value });
  }

  /** Characters of the total budget not yet given to a block. */
  budgetLeft(): number {
    let used = 0;
    for (const b of this.blocks.values()) used += b.limit;
    return CORE_MEMORY_TOTAL_BUDGET_CHARS - used;
  }

  private checkBudget(extra: number): void {
    const left = this.budgetLeft();
    if (extra > left) {
      throw new CoreMemoryError(
        `Edit failed: the limits of all blocks may add up to ${CORE_MEMORY_TOTAL_BUDGET_CHARS} characters and ${Math.max(0, left)} are left; ` +
          'ask for a smaller limit, or delete or shrink a block you created.',
      );
    }
  }

  private requireOwnBlock(label: string, what: string): void {
    if ((CORE_MEMORY_LABELS as readonly string[]).includes(label)) {
      throw new CoreMemoryError(
        `Edit failed: '${label}' is a standard block and cannot be ${what}. Edit its text with core_memory_replace instead.`,
      );
    }
    if (this.blocks.get(label)?.readOnly) throw new CoreMemoryError(`Edit failed: memory block '${label}' is read-only.`);
  }

  /** The blocks as they appear in the system message (format in the module comment). */
  render(): string {
    return [...this.blocks.values()]
      .map((b) => {
        // Only shared blocks name their scope: every other block is the agent's own.
        const scope = b.scope === 'user' || b.scope === 'workspace' ? ` scope="${b.scope}"` : '';
        const description = b.description ? ` description="${escapeAttribute(b.description)}"` : '';
        return `<${b.label} characters="${charCount(b.value)}/${b.limit}"${scope}${description}>\n${b.value}\n</${b.label}>`;
      })
      .join('\n');
  }

  /** Called after every successful edit; returns an unsubscribe function. */
  onChange(listener: CoreMemoryListener): () => void {
    const subscription = this.changes.on(listener);
    return () => subscription.dispose();
  }

  private block(label: string): CoreMemoryBlock {
    const b = typeof label === 'string' ? this.blocks.get(label) : undefined;
    if (!b) throw new CoreMemoryError(`No memory section named ${String(label)}. Valid sections: ${this.labels.join(', ')}.`);
    return b;
  }

  private commit(
    block: CoreMemoryBlock,
    value: string,
    operation: CoreMemoryChange['operation'],
    source: CoreMemoryChange['source'],
  ): void {
    this.checkFits(block, value, source);
    block.value = value;
    this.touch({ label: block.label, operation, source, value });
  }

  private checkFits(block: CoreMemoryBlock, value: string, source: CoreMemoryChange['source']): void {
    if (block.readOnly) throw new CoreMemoryError(`Edit failed: memory block '${block.label}' is read-only.`);
    const requested = charCount(value);
    // A block already over its limit (limits lowered since it was saved) may still shrink.
    if (requested > block.limit && requested >= charCount(block.value)) {
      throw new CoreMemoryError(
        `Edit failed: Exceeds ${block.limit} character limit (requested ${requested}).${overflowAdvice(block.label, source)}`,
      );
    }
  }

  private touch(change: CoreMemoryChange): void {
    this.modified = this.now().toISOString();
    // A broken listener must not undo or block a committed edit: the emitter ignores its throw.
    this.changes.fire(change);
  }
}

/**
 * MemGPT's advice after an over-limit edit: without it a model tends to retry the same edit.
 * The user editing a block by hand gets a plain instruction instead (they have no archival tool).
 */
function overflowAdvice(label: string, source: CoreMemoryChange['source']): string {
  if (source === 'user') return ' Shorten the text and save again.';
  return ` Consider summarizing existing core memories in '${label}' and/or moving lower priority content to archival memory (archival_memory_insert) to free up space in core memory, then try again.`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/\n/g, ' ');
}

function checkDescription(description: unknown): void {
  requireText(description, 'description');
  if (description.trim() === '') throw new CoreMemoryError('Edit failed: a block needs a description: one line saying what belongs in it.');
  if (charCount(description) > CORE_MEMORY_DESCRIPTION_MAX_CHARS) {
    throw new CoreMemoryError(
      `Edit failed: the description has ${charCount(description)} characters; keep it under ${CORE_MEMORY_DESCRIPTION_MAX_CHARS}.`,
    );
  }
}

function checkLimit(limit: unknown): void {
  if (
    typeof limit !== 'number' ||
    !Number.isInteger(limit) ||
    limit < CORE_MEMORY_MIN_BLOCK_LIMIT_CHARS ||
    limit > CORE_MEMORY_MAX_BLOCK_LIMIT_CHARS
  ) {
    throw new CoreMemoryError(
      `Edit failed: limit must be a whole number of characters from ${CORE_MEMORY_MIN_BLOCK_LIMIT_CHARS} to ${CORE_MEMORY_MAX_BLOCK_LIMIT_CHARS}.`,
    );
  }
}

/**
 * Blocks as saved (in an agent's file, a shared memory file or an export): labels unique, texts
 * strings. Limits of the standard blocks come from the settings, so a changed setting applies;
 * a block the agent created keeps the limit it chose.
 */
export function parseBlocks(raw: readonly unknown[], where: string, limits?: CoreMemoryLimits): CoreMemoryBlock[] {
  const seen = new Set<string>();
  return raw.map((b: unknown, i: number) => {
    const blk = b as Partial<CoreMemoryBlock> | null;
    if (!blk || typeof blk !== 'object' || typeof blk.label !== 'string' || blk.label === '' || typeof blk.value !== 'string') {
      throw new Error(`${where} is malformed: block ${i} needs a non-empty string "label" and a string "value".`);
    }
    if (seen.has(blk.label)) throw new Error(`${where} is malformed: block "${blk.label}" appears twice.`);
    seen.add(blk.label);
    if (blk.scope !== undefined && !(BLOCK_SCOPES as readonly unknown[]).includes(blk.scope)) {
      throw new Error(
        `${where} is malformed: block "${blk.label}" has scope ${JSON.stringify(blk.scope)}; use ${BLOCK_SCOPES.join(', ')}.`,
      );
    }
    const standard = (CORE_MEMORY_LABELS as readonly string[]).includes(blk.label);
    const saved = typeof blk.limit === 'number' && Number.isInteger(blk.limit) && blk.limit > 0 ? blk.limit : undefined;
    const block: CoreMemoryBlock = {
      label: blk.label,
      value: blk.value,
      limit: standard || saved === undefined ? defaultLimit(blk.label, limits) : saved,
    };
    if (blk.scope !== undefined) block.scope = blk.scope;
    if (typeof blk.description === 'string' && blk.description !== '') block.description = blk.description;
    if (blk.readOnly === true) block.readOnly = true;
    return block;
  });
}

function requireText(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string')
    throw new CoreMemoryError(`Edit failed: ${name} must be a string (got ${value === null ? 'null' : typeof value}).`);
}
