/**
 * The project's instruction files, read from disk and shown to the agent as a read-only section
 * of its system message (they are not core-memory blocks: nothing of them is stored).
 *
 * Read, per workspace folder, in this order: `AGENTS.md`, `CLAUDE.md`,
 * `.github/copilot-instructions.md`, the `.md`/`.mdc` files of `.cursor/rules/`, `.clinerules`
 * (a file, or the `.md`/`.mdc`/`.txt` files of that folder), then every `AGENTS.md` in the folders
 * on the way from the root to the active file's folder (outermost first, so the nearest comes
 * last and is said to win). Cursor rules follow their front matter: `alwaysApply: true` (or no
 * front matter) is always shown, `globs` only while the active file matches, the others are
 * listed by name and description for the agent to read when relevant.
 *
 * Only in a trusted workspace: in Restricted Mode the files are repository text the user has not
 * vouched for, and a system message is where a hostile repository would most like to write, so
 * nothing is read until the user trusts the folder (the memory view says so). Secret-looking
 * files, links out of the folder and hard links are never read (safeRead.ts).
 *
 * Everything shown fits a budget (INSTRUCTION_FILES_MAX_CHARS, at most
 * INSTRUCTION_FILES_MAX_WINDOW_FRACTION of the window): small files are shown whole and the
 * large ones share the rest; a cut file ends with a notice naming the line to read on from.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import picomatch from 'picomatch';
import { isDefaultExcludedDir, type WorkspaceRoot } from '../index/discovery';
import type { InstructionBlock, ListedRule, ProjectInstructions } from '../interfaces/instructions';
import {
  CHARS_PER_TOKEN_ESTIMATE,
  DEFAULT_CONTEXT_WINDOW_TOKENS,
  INSTRUCTION_FILE_MAX_READ_BYTES,
  INSTRUCTION_FILES_MAX_CHARS,
  INSTRUCTION_FILES_MAX_COUNT,
  INSTRUCTION_FILES_MAX_WINDOW_FRACTION,
  INSTRUCTION_NESTED_MAX_DEPTH,
  INSTRUCTION_RULE_DESCRIPTION_MAX_CHARS,
} from '../limits';
import { locateRelative, readWorkspaceText, relativeOf } from '../workspace/safeRead';
import { Emitter } from '../base/emitter';
import { SerialQueue } from '../base/serialQueue';

/** One file as read, before the budget is applied. */
export interface InstructionSource {
  path: string;
  text: string;
  /** The file was longer than INSTRUCTION_FILE_MAX_READ_BYTES (its size in bytes). */
  readCutAt?: number;
  reason: 'always' | 'active-file';
}

export interface InstructionSnapshot {
  blocks: InstructionBlock[];
  listed: ListedRule[];
  /** Files found but not read, with why (a secret name, a link out of the folder, too many files). */
  skipped: { path: string; why: string }[];
  /** Why nothing was read at all (Restricted Mode), else undefined. */
  notice?: string;
}

export interface InstructionFilesOptions {
  roots: () => readonly WorkspaceRoot[];
  trusted: () => boolean;
}

const RULE_EXTENSIONS = new Set(['.md', '.mdc']);
const CLINE_EXTENSIONS = new Set(['.md', '.mdc', '.txt']);

/** Characters the section may take for a window of `windowTokens`. */
export function instructionBudgetChars(windowTokens: number): number {
  return Math.min(INSTRUCTION_FILES_MAX_CHARS, Math.floor(windowTokens * INSTRUCTION_FILES_MAX_WINDOW_FRACTION * CHARS_PER_TOKEN_ESTIMATE));
}

export class InstructionFiles implements ProjectInstructions {
  private activeFile: string | undefined;
  private windowTokens = DEFAULT_CONTEXT_WINDOW_TOKENS;
  private sources: InstructionSource[] = [];
  private snapshot: InstructionSnapshot = { blocks: [], listed: [], skipped: [] };
  private hasGlobRules = false;
  private readonly queue = new SerialQueue();
  private readonly changes = new Emitter<void>();

  constructor(private readonly options: InstructionFilesOptions) {}

  // ─── ProjectInstructions ─────────────────────────────────────────────────

  blocks(): readonly InstructionBlock[] {
    return this.snapshot.blocks;
  }

  listed(): readonly ListedRule[] {
    return this.snapshot.listed;
  }

  isReadOnly(label: string): boolean {
    if (typeof label !== 'string') return false;
    const l = normalLabel(label);
    if (l === '') return false;
    if (l === 'instructions' || l === 'project instructions' || l === 'project_instructions') return true;
    return (
      this.snapshot.blocks.some((b) => normalLabel(b.path) === l || normalLabel(path.posix.basename(b.path)) === l) ||
      this.snapshot.listed.some((r) => normalLabel(r.path) === l)
    );
  }

  // ─── What the views show ─────────────────────────────────────────────────

  view(): InstructionSnapshot {
    return this.snapshot;
  }

  onChange(listener: () => void): () => void {
    const subscription = this.changes.on(listener);
    return () => subscription.dispose();
  }

  // ─── Keeping current ─────────────────────────────────────────────────────

  /** The agent's window: the budget follows it. */
  setWindow(windowTokens: number): void {
    if (windowTokens === this.windowTokens) return;
    this.windowTokens = windowTokens;
    this.rebuild();
  }

  /** Re-reads every file (start, trust granted or withdrawn, folders changed). */
  refresh(): Promise<void> {
    return this.serial(() => this.readAll());
  }

  /**
   * The file the user now looks at (workspace-relative). Nested AGENTS.md files and Cursor rules
   * with globs depend on it, so the files are read again when it moves to another folder or such
   * rules exist.
   */
  setActiveFile(relPath: string | undefined): Promise<void> {
    const before = this.activeFile;
    this.activeFile = relPath;
    if (before === relPath) return Promise.resolve();
    const dirOf = (p: string | undefined) => (p === undefined ? undefined : path.posix.dirname(p));
    if (dirOf(before) === dirOf(relPath) && !this.hasGlobRules) return Promise.resolve();
    return this.refresh();
  }

  /** A file was saved, changed, created or deleted on disk: re-read when it is (or could be) an instruction file. */
  async fileChanged(absPath: string): Promise<boolean> {
    const rel = relativeOf(this.options.roots(), absPath);
    if (rel === undefined || !isInstructionPath(rel)) return false;
    await this.refresh();
    return true;
  }

  private serial(work: () => Promise<void>): Promise<void> {
    return this.queue.run(work);
  }

  private async readAll(): Promise<void> {
    if (!this.options.trusted()) {
      this.sources = [];
      this.hasGlobRules = false;
      this.apply({
        listed: [],
        skipped: [],
        notice: 'Not read in Restricted Mode: trust this workspace to let the agent follow its instruction files.',
      });
      return;
    }
    const roots = this.options.roots();
    const sources: InstructionSource[] = [];
    const listed: ListedRule[] = [];
    const skipped: { path: string; why: string }[] = [];
    let globRules = false;
    const prefix = (root: WorkspaceRoot, rel: string) => (roots.length > 1 ? `${root.name}/${rel}` : rel);
    const full = () => sources.length + listed.length >= INSTRUCTION_FILES_MAX_COUNT;
    const add = async (root: WorkspaceRoot, rel: string, reason: InstructionSource['reason'] = 'always'): Promise<void> => {
      const shown = prefix(root, rel);
      if (full()) {
        skipped.push({ path: shown, why: `more than ${INSTRUCTION_FILES_MAX_COUNT} instruction files` });
        return;
      }
      const read = await readWorkspaceText(roots, shown, INSTRUCTION_FILE_MAX_READ_BYTES);
      if (!read.ok) {
        if (read.reason === 'refused') skipped.push({ path: shown, why: read.detail });
        return;
      }
      const text = read.text.replace(/\r\n?/g, '\n').trim();
      if (text === '') return;
      sources.push({ path: shown, text, reason, ...(read.truncated ? { readCutAt: read.size } : {}) });
    };

    const active = this.activeFile !== undefined ? locateRelative(roots, this.activeFile) : undefined;
    for (const root of roots) {
      await add(root, 'AGENTS.md');
      await add(root, 'CLAUDE.md');
      await add(root, '.github/copilot-instructions.md');
      for (const name of await filesIn(root, '.cursor/rules', RULE_EXTENSIONS)) {
        const rel = `.cursor/rules/${name}`;
        const read = await readWorkspaceText(roots, prefix(root, rel), INSTRUCTION_FILE_MAX_READ_BYTES);
        if (!read.ok) {
          if (read.reason === 'refused') skipped.push({ path: prefix(root, rel), why: read.detail });
          continue;
        }
        const rule = parseCursorRule(read.text.replace(/\r\n?/g, '\n'));
        const inRoot = active && active.root === root ? active.segments.join('/') : undefined;
        if (rule.globs.length > 0) globRules = true;
        const applies = rule.alwaysApply || (!rule.hasFrontMatter && rule.globs.length === 0);
        const matches = inRoot !== undefined && rule.globs.length > 0 && picomatch(rule.globs, { dot: true })(inRoot);
        if (!applies && !matches) {
          if (!full())
            listed.push({ path: prefix(root, rel), description: clip(rule.description, INSTRUCTION_RULE_DESCRIPTION_MAX_CHARS) });
          else skipped.push({ path: prefix(root, rel), why: `more than ${INSTRUCTION_FILES_MAX_COUNT} instruction files` });
          continue;
        }
        if (rule.body.trim() === '') continue;
        if (full()) {
          skipped.push({ path: prefix(root, rel), why: `more than ${INSTRUCTION_FILES_MAX_COUNT} instruction files` });
          continue;
        }
        sources.push({
          path: prefix(root, rel),
          text: rule.body.trim(),
          reason: applies ? 'always' : 'active-file',
          ...(read.truncated ? { readCutAt: read.size } : {}),
        });
      }
      const cline = await kindOf(root, '.clinerules');
      if (cline === 'file') await add(root, '.clinerules');
      else if (cline === 'dir')
        for (const name of await filesIn(root, '.clinerules', CLINE_EXTENSIONS)) await add(root, `.clinerules/${name}`);
      if (active && active.root === root) {
        // The folders between the root and the active file, outermost first: the nearest file comes last.
        const folders = active.segments.slice(0, -1).slice(0, INSTRUCTION_NESTED_MAX_DEPTH);
        for (let i = 1; i <= folders.length; i++) {
          const name = folders[i - 1]!;
          if (isDefaultExcludedDir(name) || name.startsWith('.git')) break;
          await add(root, `${folders.slice(0, i).join('/')}/AGENTS.md`, 'active-file');
        }
      }
    }
    this.sources = sources;
    this.hasGlobRules = globRules;
    this.apply({ listed, skipped });
  }

  private apply(rest: Omit<InstructionSnapshot, 'blocks'>): void {
    const blocks = fitToBudget(this.sources, instructionBudgetChars(this.windowTokens));
    const next: InstructionSnapshot = { blocks, ...rest };
    const changed = JSON.stringify(next) !== JSON.stringify(this.snapshot);
    this.snapshot = next;
    // A closed view must not stop the others from hearing about the change: the emitter ignores its throw.
    if (changed) this.changes.fire();
  }

  private rebuild(): void {
    this.apply({
      listed: this.snapshot.listed,
      skipped: this.snapshot.skipped,
      ...(this.snapshot.notice ? { notice: this.snapshot.notice } : {}),
    });
  }
}

/** True for paths that are (or may become) instruction files: a save of one refreshes the section. */
export function isInstructionPath(relPath: string): boolean {
  const segments = relPath.split('/');
  const base = segments[segments.length - 1] ?? '';
  if (base === 'AGENTS.md' || base === 'CLAUDE.md') return true;
  if (relPath.endsWith('.github/copilot-instructions.md')) return true;
  if (segments.includes('.clinerules')) return true;
  const i = segments.indexOf('.cursor');
  return i >= 0 && segments[i + 1] === 'rules';
}

function normalLabel(label: string): string {
  return label
    .trim()
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .toLowerCase();
}

async function kindOf(root: WorkspaceRoot, rel: string): Promise<'file' | 'dir' | undefined> {
  try {
    const stat = await fs.lstat(path.join(root.path, rel));
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : undefined;
  } catch {
    return undefined;
  }
}

/** File names directly in a folder of the root, with one of `extensions`, sorted (the order is the user's naming). */
async function filesIn(root: WorkspaceRoot, rel: string, extensions: ReadonlySet<string>): Promise<string[]> {
  try {
    const entries = await fs.readdir(path.join(root.path, rel), { withFileTypes: true });
    return entries
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && extensions.has(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

interface CursorRule {
  hasFrontMatter: boolean;
  alwaysApply: boolean;
  globs: string[];
  description: string;
  body: string;
}

/** Cursor's `.mdc` front matter: `description`, `globs` (a list or comma-separated) and `alwaysApply`. */
export function parseCursorRule(text: string): CursorRule {
  const m = /^---\n([\s\S]*?)\n---(?:\n|$)/.exec(text);
  if (!m) return { hasFrontMatter: false, alwaysApply: false, globs: [], description: '', body: text };
  const fields = new Map<string, string>();
  const listItems = new Map<string, string[]>();
  let lastKey = '';
  for (const line of m[1]!.split('\n')) {
    const item = /^\s+-\s*(.+)$/.exec(line);
    if (item && lastKey) {
      listItems.set(lastKey, [...(listItems.get(lastKey) ?? []), unquote(item[1]!)]);
      continue;
    }
    const kv = /^([A-Za-z_][\w-]*)\s*:\s*(.*)$/.exec(line);
    if (kv) {
      lastKey = kv[1]!;
      fields.set(lastKey, kv[2]!.trim());
    }
  }
  const globsText = unquote(fields.get('globs') ?? '');
  const globs = [
    ...globsText
      .replace(/^\[|\]$/g, '')
      .split(',')
      .map((g) => unquote(g.trim()))
      .filter((g) => g !== ''),
    ...(listItems.get('globs') ?? []),
  ];
  return {
    hasFrontMatter: true,
    alwaysApply: /^true$/i.test(fields.get('alwaysApply') ?? ''),
    globs,
    description: unquote(fields.get('description') ?? ''),
    body: text.slice(m[0].length),
  };
}

function clip(s: string, max: number): string {
  const oneLine = s.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

function unquote(s: string): string {
  return s.trim().replace(/^(["'])(.*)\1$/, '$2');
}

/**
 * Water-filling: files are taken smallest first, each gets at most an equal share of what is
 * left, so small files are shown whole and large ones share the rest. Order is kept.
 */
export function fitToBudget(sources: readonly InstructionSource[], budget: number): InstructionBlock[] {
  const shares = new Map<number, number>();
  const order = sources.map((s, i) => ({ i, n: s.text.length })).sort((a, b) => a.n - b.n);
  let left = Math.max(0, budget);
  order.forEach((o, k) => {
    const share = Math.floor(left / (order.length - k));
    const given = Math.min(o.n, share);
    shares.set(o.i, given);
    left -= given;
  });
  return sources.map((s, i) => {
    const allowed = shares.get(i) ?? 0;
    const cutByRead = s.readCutAt !== undefined;
    if (allowed >= s.text.length && !cutByRead)
      return { path: s.path, text: s.text, chars: s.text.length, shownChars: s.text.length, reason: s.reason };
    const shown = cutAtLine(s.text, allowed);
    const nextLine = shown === '' ? 1 : shown.split('\n').length + 1;
    const total = s.readCutAt !== undefined ? `more than ${s.text.length.toLocaleString('en-US')}` : s.text.length.toLocaleString('en-US');
    const notice = `[cut: ${shown.length.toLocaleString('en-US')} of ${total} characters shown; read the rest of ${s.path} from line ${nextLine} with read_file]`;
    return {
      path: s.path,
      text: shown === '' ? notice : `${shown}\n${notice}`,
      chars: s.text.length,
      shownChars: shown.length,
      reason: s.reason,
    };
  });
}

/** The start of `text` in at most `max` characters, ending at a line end when one is near. */
function cutAtLine(text: string, max: number): string {
  if (max <= 0) return '';
  const head = text.slice(0, max);
  const nl = head.lastIndexOf('\n');
  return nl >= max * 0.5 ? head.slice(0, nl) : head;
}
