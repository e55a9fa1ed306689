import { CORE_MEMORY_BLOCK_LIMIT_CHARS, CORE_MEMORY_PROJECT_LIMIT_CHARS } from '../limits';
import { DEFAULT_HUMAN_PRESET, DEFAULT_PERSONA_PRESET, humanPreset, INITIAL_PROJECT_TEXT, personaPreset } from './presets';
import { MemgptError } from '../base/errors';

/**
 * Core memory: MemGPT's read-write "working context", labelled blocks that are
 * always in the system message. Edits follow MemGPT's functions and error
 * texts; an edit that fails changes nothing.
 *
 * Characters are counted as Unicode code points (what a person calls a
 * character; an emoji counts once), as MemGPT's Python `len` does.
 *
 * render() format, one element per block in label order:
 *   <persona characters="123/2000">
 *   …text…
 *   </persona>
 */

export const CORE_MEMORY_LABELS = ['persona', 'human', 'project'] as const;
export type CoreMemoryLabel = (typeof CORE_MEMORY_LABELS)[number];

export interface CoreMemoryBlock {
  label: string;
  value: string;
  limit: number;
}

export interface CoreMemoryJSON {
  blocks: CoreMemoryBlock[];
  lastModified: string;
}

export interface CoreMemoryChange {
  label: string;
  operation: 'append' | 'replace' | 'set';
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
  private readonly listeners = new Set<CoreMemoryListener>();
  private modified: string;

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
    const seen = new Set<string>();
    const blocks: CoreMemoryBlock[] = o.blocks.map((b: unknown, i: number) => {
      const blk = b as Partial<CoreMemoryBlock> | null;
      if (!blk || typeof blk.label !== 'string' || blk.label === '' || typeof blk.value !== 'string') {
        throw new Error(`Core memory is malformed: block ${i} needs a non-empty string "label" and a string "value".`);
      }
      if (seen.has(blk.label)) throw new Error(`Core memory is malformed: block "${blk.label}" appears twice.`);
      seen.add(blk.label);
      return { label: blk.label, value: blk.value, limit: defaultLimit(blk.label, options.limits) };
    });
    for (const label of CORE_MEMORY_LABELS) {
      if (!seen.has(label)) blocks.push({ label, value: '', limit: defaultLimit(label, options.limits) });
    }
    const now = options.now ?? (() => new Date());
    const lastModified = typeof o.lastModified === 'string' ? o.lastModified : now().toISOString();
    return new CoreMemory(blocks, lastModified, now);
  }

  toJSON(): CoreMemoryJSON {
    return { blocks: [...this.blocks.values()].map((b) => ({ ...b })), lastModified: this.modified };
  }

  get labels(): string[] {
    return [...this.blocks.keys()];
  }

  /** ISO time of the last successful edit. */
  get lastModified(): string {
    return this.modified;
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
   * MemGPT's core_memory_replace: every occurrence of `oldContent` becomes
   * `newContent` (an empty `newContent` deletes). An empty `oldContent` is an
   * error: it would otherwise match between every character.
   */
  replace(label: string, oldContent: string, newContent: string): void {
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
    this.commit(block, block.value.split(oldContent).join(newContent), 'replace', 'agent');
  }

  /** The user's own edit of a whole block (same limit as the agent's edits). */
  setBlock(label: string, value: string): void {
    const block = this.block(label);
    requireText(value, 'value');
    this.commit(block, value, 'set', 'user');
  }

  /** The blocks as they appear in the system message (format in the module comment). */
  render(): string {
    return [...this.blocks.values()]
      .map((b) => `<${b.label} characters="${charCount(b.value)}/${b.limit}">\n${b.value}\n</${b.label}>`)
      .join('\n');
  }

  /** Called after every successful edit; returns an unsubscribe function. */
  onChange(listener: CoreMemoryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private block(label: string): CoreMemoryBlock {
    const b = typeof label === 'string' ? this.blocks.get(label) : undefined;
    if (!b) throw new CoreMemoryError(`No memory section named ${String(label)}. Valid sections: ${this.labels.join(', ')}.`);
    return b;
  }

  private commit(block: CoreMemoryBlock, value: string, operation: CoreMemoryChange['operation'], source: CoreMemoryChange['source']): void {
    const requested = charCount(value);
    // A block already over its limit (limits lowered since it was saved) may still shrink.
    if (requested > block.limit && requested >= charCount(block.value)) {
      throw new CoreMemoryError(`Edit failed: Exceeds ${block.limit} character limit (requested ${requested}).${overflowAdvice(block.label, source)}`);
    }
    block.value = value;
    this.modified = this.now().toISOString();
    const change: CoreMemoryChange = { label: block.label, operation, source, value };
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        // A broken listener must not undo or block a committed edit.
      }
    }
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

function requireText(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw new CoreMemoryError(`Edit failed: ${name} must be a string (got ${value === null ? 'null' : typeof value}).`);
}
