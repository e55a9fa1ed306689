/**
 * Definitions and references of the workspace's code files, by name and by
 * file, kept in step with the archival index: the indexer hands each parsed
 * file's outline over with its chunks, deletes and renames follow the chunks.
 *
 * Persisted as a checksummed append log of src/core/storage (one line per file
 * put or deleted), replayed on open and rewritten in one atomic write when it
 * has grown to several times the live data. It is derived data: a damaged line
 * is skipped, and the indexer re-parses any code file the log does not know.
 *
 * A one-shot reader (`memgpt search`, read-only) does not replay the log at open: a search asks
 * at most whether a query word is a defined name, which `symbol-names.json` answers (the sorted
 * names, written by the writer beside the log, valid while the log's size and time match). The
 * log is replayed the first time anything else is asked, or when that table is stale.
 */
import fsSync from 'node:fs';
import path from 'node:path';
import { FILE_OUTLINE_MAX_ENTRIES, SYMBOL_LOG_COMPACT_FACTOR, SYMBOL_RESULTS_MAX } from '../limits';
import { AppendLog, decodeLogLine, encodeLogLine } from '../storage/appendLog';
import { atomicWriteFile } from '../storage/atomicFile';
import type { FindSymbolResult, SymbolDefinition, SymbolKind, SymbolLookup } from '../interfaces/symbols';
import { flattenDefinitions, type Outline } from './syntax/outline';

export const SYMBOL_LOG_FILE = 'symbols.log';
/** The defined names of the log, for a reader that does not replay it (see the top of this file). */
export const SYMBOL_NAMES_FILE = 'symbol-names.json';
const SYMBOL_NAMES_VERSION = 1;

export type { FindSymbolResult, SymbolDefinition, SymbolReference } from '../interfaces/symbols';

type DefRow = [
  name: string,
  kind: SymbolKind,
  line: number,
  startLine: number,
  endLine: number,
  container: string,
  signature: string,
  doc: string,
];

type LogEntry = { op: 'put'; path: string; hash: string; defs: DefRow[]; refs: [string, number][] } | { op: 'del'; path: string };

/** What one file defines and uses, and the content hash it was parsed from. */
export interface FileSymbols {
  hash: string;
  defs: SymbolDefinition[];
  refs: [string, number][];
}

const KIND_SET: ReadonlySet<string> = new Set([
  'class',
  'interface',
  'type',
  'enum',
  'struct',
  'trait',
  'impl',
  'module',
  'function',
  'method',
  'property',
]);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isLine = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** Log lines are input like any file: checked field by field. */
function validateEntry(v: unknown): LogEntry {
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || !isStr(o.path)) throw new Error('not a symbol entry');
  if (o.op === 'del') return { op: 'del', path: o.path };
  if (o.op !== 'put' || !isStr(o.hash) || !Array.isArray(o.defs) || !Array.isArray(o.refs)) throw new Error('not a symbol entry');
  for (const d of o.defs as unknown[]) {
    if (
      !Array.isArray(d) ||
      d.length !== 8 ||
      !isStr(d[0]) ||
      !KIND_SET.has(d[1] as string) ||
      !isLine(d[2]) ||
      !isLine(d[3]) ||
      !isLine(d[4]) ||
      !isStr(d[5]) ||
      !isStr(d[6]) ||
      !isStr(d[7])
    ) {
      throw new Error('a definition is malformed');
    }
  }
  for (const r of o.refs as unknown[])
    if (!Array.isArray(r) || r.length !== 2 || !isStr(r[0]) || !isLine(r[1])) throw new Error('a reference is malformed');
  return { op: 'put', path: o.path, hash: o.hash, defs: o.defs as DefRow[], refs: o.refs as [string, number][] };
}

const KIND_ORDER: Readonly<Record<SymbolKind, number>> = {
  class: 0,
  interface: 0,
  struct: 0,
  trait: 0,
  enum: 1,
  type: 1,
  module: 1,
  function: 2,
  method: 2,
  property: 3,
  impl: 4,
};

/**
 * The files whose symbols a lookup reads: one table, or (for the shared index) a local table
 * laid over a published one. The lookups below work on any such view.
 */
export interface SymbolSource {
  fileOf(filePath: string): FileSymbols | undefined;
  /** Files defining a name, by its lower-cased spelling. */
  definersOf(lowerName: string): Iterable<string>;
  /** Files using a name, by its exact spelling. */
  usersOf(name: string): Iterable<string>;
  /** Every lower-cased defined name with the files defining it. */
  definedNames(): Iterable<[string, Iterable<string>]>;
  paths(): Iterable<string>;
}

/**
 * Definitions of `name` (exact spelling first, then any case; `Class.method` narrows by
 * container), then the places that use it.
 */
export function findSymbol(source: SymbolSource, query: string, limit = SYMBOL_RESULTS_MAX): FindSymbolResult {
  const q = query.trim();
  const dot = q.lastIndexOf('.');
  const name = dot > 0 ? q.slice(dot + 1) : q;
  const container = dot > 0 ? q.slice(0, dot) : '';
  const defs: SymbolDefinition[] = [];
  for (const p of source.definersOf(name.toLowerCase())) {
    for (const d of source.fileOf(p)?.defs ?? []) {
      if (d.name.toLowerCase() !== name.toLowerCase()) continue;
      if (container !== '' && !(d.container === container || d.container.endsWith(`.${container}`))) continue;
      defs.push(d);
    }
  }
  const exact = (d: SymbolDefinition): number => (d.name === name ? 0 : 1);
  defs.sort((a, b) => exact(a) - exact(b) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.path.localeCompare(b.path) || a.line - b.line);
  const refs: FindSymbolResult['references'] = [];
  let total = 0;
  const defLines = new Set(defs.map((d) => `${d.path}:${d.line}`));
  const users = [...source.usersOf(name)].sort();
  for (const p of users) {
    for (const [n, line] of source.fileOf(p)?.refs ?? []) {
      if (n !== name || defLines.has(`${p}:${line}`)) continue;
      total++;
      if (refs.length < limit) refs.push({ name: n, path: p, line });
    }
  }
  const shownDefs = defs.slice(0, limit);
  return {
    definitions: shownDefs,
    references: refs.slice(0, Math.max(0, limit - shownDefs.length)),
    moreReferences: total - Math.min(refs.length, Math.max(0, limit - shownDefs.length)),
  };
}

/** The definitions of one file in line order, or undefined when the file has no symbols. */
export function outlineOf(source: SymbolSource, filePath: string, limit = FILE_OUTLINE_MAX_ENTRIES): SymbolDefinition[] | undefined {
  const f = source.fileOf(filePath);
  if (!f) return undefined;
  return [...f.defs].sort((a, b) => a.startLine - b.startLine || a.line - b.line).slice(0, limit);
}

/** Definitions whose name contains `text` (any case), prefix matches first: the Search Memory list. */
export function matchSymbols(source: SymbolSource, text: string, limit = SYMBOL_RESULTS_MAX): SymbolDefinition[] {
  const q = text.trim().toLowerCase();
  if (q.length < 2) return [];
  const hits: SymbolDefinition[] = [];
  for (const [lower, paths] of source.definedNames()) {
    if (!lower.includes(q)) continue;
    for (const p of paths) for (const d of source.fileOf(p)?.defs ?? []) if (d.name.toLowerCase() === lower) hits.push(d);
  }
  const rank = (d: SymbolDefinition): number => (d.name.toLowerCase() === q ? 0 : d.name.toLowerCase().startsWith(q) ? 1 : 2);
  hits.sort(
    (a, b) => rank(a) - rank(b) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.name.length - b.name.length || a.path.localeCompare(b.path),
  );
  return hits.slice(0, limit);
}

/** Symbols of files held in memory, with the name maps the lookups need. */
export class SymbolTable implements SymbolLookup, SymbolSource {
  private readonly files = new Map<string, FileSymbols>();
  /** Lower-cased name → files defining it. */
  private readonly definers = new Map<string, Set<string>>();
  /** Exact name → files using it. */
  private readonly users = new Map<string, Set<string>>();

  /** Fills the maps before they are read; a table that loads on demand overrides it. */
  protected materialize(): void {}

  /** Number of files with symbols. */
  get fileCount(): number {
    this.materialize();
    return this.files.size;
  }

  has(filePath: string): boolean {
    this.materialize();
    return this.files.has(filePath);
  }

  fileOf(filePath: string): FileSymbols | undefined {
    this.materialize();
    return this.files.get(filePath);
  }

  definersOf(lowerName: string): Iterable<string> {
    this.materialize();
    return this.definers.get(lowerName) ?? [];
  }

  usersOf(name: string): Iterable<string> {
    this.materialize();
    return this.users.get(name) ?? [];
  }

  definedNames(): Iterable<[string, Iterable<string>]> {
    this.materialize();
    return this.definers;
  }

  paths(): Iterable<string> {
    this.materialize();
    return this.files.keys();
  }

  /** Paths with symbols under a folder (or the file itself). */
  pathsUnder(fileOrFolder: string): string[] {
    this.materialize();
    if (this.files.has(fileOrFolder)) return [fileOrFolder];
    const prefix = fileOrFolder.endsWith('/') ? fileOrFolder : `${fileOrFolder}/`;
    return [...this.files.keys()].filter((p) => p.startsWith(prefix));
  }

  find(query: string, limit = SYMBOL_RESULTS_MAX): FindSymbolResult {
    return findSymbol(this, query, limit);
  }

  outline(filePath: string, limit = FILE_OUTLINE_MAX_ENTRIES): SymbolDefinition[] | undefined {
    return outlineOf(this, filePath, limit);
  }

  match(text: string, limit = SYMBOL_RESULTS_MAX): SymbolDefinition[] {
    return matchSymbols(this, text, limit);
  }

  /** True when some file defines exactly this name (case-sensitive). */
  defines(name: string): boolean {
    this.materialize();
    for (const p of this.definers.get(name.toLowerCase()) ?? []) if (this.files.get(p)!.defs.some((d) => d.name === name)) return true;
    return false;
  }

  set(filePath: string, f: FileSymbols): void {
    this.materialize();
    this.drop(filePath);
    this.files.set(filePath, f);
    for (const d of f.defs) addTo(this.definers, d.name.toLowerCase(), filePath);
    for (const [n] of f.refs) addTo(this.users, n, filePath);
  }

  drop(filePath: string): void {
    this.materialize();
    const f = this.files.get(filePath);
    if (!f) return;
    this.files.delete(filePath);
    for (const d of f.defs) removeFrom(this.definers, d.name.toLowerCase(), filePath);
    for (const [n] of f.refs) removeFrom(this.users, n, filePath);
  }
}

/** One file's symbols as stored (the symbol log's put line, and a published row): checked field by field. */
export function decodeFileSymbols(filePath: string, hash: string, defs: unknown, refs: unknown): FileSymbols {
  const e = validateEntry({ op: 'put', path: filePath, hash, defs, refs });
  if (e.op !== 'put') throw new Error('not a symbol entry');
  return { hash: e.hash, defs: e.defs.map((d) => fromRow(filePath, d)), refs: e.refs };
}

/** The stored shape of a file's definitions (compact rows, as in the symbol log). */
export function encodeDefinitions(defs: readonly SymbolDefinition[]): unknown[] {
  return defs.map(toRow);
}

export class SymbolIndex extends SymbolTable {
  private lines = 0;
  /** A reader that has not replayed the log yet (it does so on first use). */
  private unread: boolean;
  /** The names table, once looked at: sorted names, or null when missing, damaged or stale. */
  private names: string[] | null | undefined;
  /** The writer changed the table since it opened: the names table is written again at close. */
  private changed = false;

  private constructor(
    private readonly file: string,
    /** The append log; null for a reader, which never appends. */
    private log: AppendLog<LogEntry> | null,
    entries: readonly LogEntry[] | null,
    readonly readOnly: boolean,
    private readonly report: (m: string) => void,
  ) {
    super();
    this.unread = entries === null;
    if (entries) this.replay(entries);
  }

  /** Opens (or creates) the symbol log in `dir`; read-only, the log is read on first use. */
  static async open(dir: string, options: { readOnly?: boolean; log?: (m: string) => void } = {}): Promise<SymbolIndex> {
    const file = path.join(dir, SYMBOL_LOG_FILE);
    const readOnly = options.readOnly === true;
    const report = options.log ?? (() => undefined);
    if (readOnly) return new SymbolIndex(file, null, null, true, report);
    const opened = await AppendLog.open<LogEntry>(file, { validate: validateEntry, durable: false });
    reportDamage(opened.report.droppedTailLines + opened.report.corruptLinesSkipped + opened.report.invalidEntriesSkipped, report);
    const index = new SymbolIndex(file, opened.log, opened.entries, readOnly, report);
    await index.maybeCompact();
    return index;
  }

  /**
   * True when some file defines exactly this name. A reader that has not replayed the log asks
   * the names table instead, when it is current.
   */
  override defines(name: string): boolean {
    if (this.unread) {
      const names = this.namesTable();
      if (names) return sortedHas(names, name);
    }
    return super.defines(name);
  }

  protected override materialize(): void {
    if (!this.unread) return;
    this.unread = false;
    const { entries, damaged } = readLogNow(this.file);
    reportDamage(damaged, this.report);
    this.replay(entries);
  }

  private replay(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      if (e.op === 'del') this.drop(e.path);
      else this.set(e.path, { hash: e.hash, defs: e.defs.map((d) => fromRow(e.path, d)), refs: e.refs });
    }
    this.lines = entries.length;
  }

  /** Records the outline of `filePath` (made from content `hash`), replacing what was known. */
  async put(filePath: string, hash: string, outline: Outline): Promise<void> {
    const defs = flattenDefinitions(outline.definitions).map((d) => ({
      name: d.name,
      kind: d.kind,
      path: filePath,
      line: d.line,
      startLine: d.startLine,
      endLine: d.endLine,
      container: d.container,
      signature: d.signature,
      doc: d.doc,
    }));
    const entry: LogEntry = { op: 'put', path: filePath, hash, defs: defs.map(toRow), refs: outline.references };
    if (!this.readOnly) await this.append([entry]);
    this.set(filePath, { hash, defs, refs: outline.references });
  }

  /** Forgets files (a deleted file, or one no longer parsed). */
  async remove(paths: readonly string[]): Promise<void> {
    const known = paths.filter((p) => this.has(p));
    if (known.length === 0) return;
    if (!this.readOnly) await this.append(known.map((p) => ({ op: 'del', path: p })));
    for (const p of known) this.drop(p);
  }

  /** Moves a file's symbols to a new path (a rename), without parsing again. */
  async rename(oldPath: string, newPath: string): Promise<void> {
    const f = this.fileOf(oldPath);
    if (!f) return;
    const defs = f.defs.map((d) => ({ ...d, path: newPath }));
    const entries: LogEntry[] = [
      { op: 'del', path: oldPath },
      { op: 'put', path: newPath, hash: f.hash, defs: defs.map(toRow), refs: f.refs },
    ];
    if (!this.readOnly) await this.append(entries);
    this.drop(oldPath);
    this.set(newPath, { hash: f.hash, defs, refs: f.refs });
  }

  /** Closes the log; the writer then brings the names table up to date with it. */
  async close(): Promise<void> {
    if (!this.log) return;
    await this.log.close();
    this.log = null;
    if (this.readOnly || (!this.changed && this.namesTable() !== null)) return;
    try {
      await this.writeNames();
    } catch (error) {
      // Only a reader's shortcut is lost: it replays the log instead.
      this.report(`Symbol index: ${SYMBOL_NAMES_FILE} could not be written (${(error as Error).message}).`);
    }
  }

  private async append(entries: LogEntry[]): Promise<void> {
    if (!this.log) throw new Error(`${this.file} is closed.`);
    await this.log.append(entries);
    this.lines += entries.length;
    this.changed = true;
    await this.maybeCompact();
  }

  /** Rewrites the log as one put per live file once deletes and replaced puts dominate it. */
  private async maybeCompact(): Promise<void> {
    if (this.readOnly || !this.log || this.lines <= SYMBOL_LOG_COMPACT_FACTOR * this.fileCount + 1000) return;
    const lines: Buffer[] = [];
    for (const p of this.paths()) {
      const f = this.fileOf(p)!;
      lines.push(encodeLogLine({ op: 'put', path: p, hash: f.hash, defs: f.defs.map(toRow), refs: f.refs } satisfies LogEntry));
    }
    await this.log.close();
    await atomicWriteFile(this.file, Buffer.concat(lines));
    this.log = (await AppendLog.open<LogEntry>(this.file, { validate: validateEntry, durable: false })).log;
    this.lines = lines.length;
    this.changed = true;
  }

  private namesPath(): string {
    return path.join(path.dirname(this.file), SYMBOL_NAMES_FILE);
  }

  /** The names table when it describes the log as it is now, else null (read once). */
  private namesTable(): string[] | null {
    if (this.names !== undefined) return this.names;
    this.names = null;
    let raw: string;
    let log: fsSync.Stats;
    try {
      raw = fsSync.readFileSync(this.namesPath(), 'utf8');
      log = fsSync.statSync(this.file);
    } catch {
      return null; // no table yet (or no log): the log is read instead
    }
    try {
      const t = JSON.parse(raw) as { version?: unknown; logBytes?: unknown; logMtimeMs?: unknown; names?: unknown };
      if (t.version !== SYMBOL_NAMES_VERSION || t.logBytes !== log.size || t.logMtimeMs !== log.mtimeMs) return null;
      const names = t.names;
      if (!Array.isArray(names) || !names.every((n, i) => typeof n === 'string' && (i === 0 || (names[i - 1] as string) < n))) {
        throw new Error('the names are not a sorted list of strings');
      }
      this.names = names as string[];
    } catch (error) {
      this.report(`Symbol index: ${SYMBOL_NAMES_FILE} is damaged (${(error as Error).message}); the symbol log is read instead.`);
    }
    return this.names;
  }

  private async writeNames(): Promise<void> {
    const names = new Set<string>();
    for (const p of this.paths()) for (const d of this.fileOf(p)!.defs) names.add(d.name);
    const log = fsSync.statSync(this.file);
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const table = { version: SYMBOL_NAMES_VERSION, logBytes: log.size, logMtimeMs: log.mtimeMs, names: sorted };
    await atomicWriteFile(this.namesPath(), JSON.stringify(table));
    this.names = sorted;
    this.changed = false;
  }
}

function reportDamage(damaged: number, report: (m: string) => void): void {
  if (damaged > 0)
    report(
      `Symbol index: ${damaged} damaged line(s) of ${SYMBOL_LOG_FILE} were skipped; the files they described are parsed again at the next index run.`,
    );
}

/**
 * The symbol log read at once, as a reader reads it: nothing is repaired, an unfinished last line
 * (the writer may be mid-append) is skipped, damaged lines are counted and skipped.
 */
function readLogNow(file: string): { entries: LogEntry[]; damaged: number } {
  let buf: Buffer;
  try {
    buf = fsSync.readFileSync(file);
  } catch {
    return { entries: [], damaged: 0 }; // never written: no symbols yet
  }
  const entries: LogEntry[] = [];
  let damaged = 0;
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0; start = nl + 1, nl = buf.indexOf(0x0a, start)) {
    if (nl === start) continue;
    try {
      entries.push(validateEntry(decodeLogLine(buf.subarray(start, nl))));
    } catch {
      damaged++;
    }
  }
  return { entries, damaged };
}

/** Binary search in names sorted by code unit. */
function sortedHas(sorted: readonly string[], name: string): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid]!;
    if (v === name) return true;
    if (v < name) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

function toRow(d: SymbolDefinition): DefRow {
  return [d.name, d.kind, d.line, d.startLine, d.endLine, d.container, d.signature, d.doc];
}

function fromRow(filePath: string, r: DefRow): SymbolDefinition {
  return {
    name: r[0],
    kind: r[1],
    path: filePath,
    line: r[2],
    startLine: r[3],
    endLine: r[4],
    container: r[5],
    signature: r[6],
    doc: r[7],
  };
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
