/**
 * Code symbols with the shared index laid under the local ones, by the same rule as chunks: a
 * file indexed here answers from the local symbol index (its changes win), a file left to the
 * shared index answers from the publish, and a published file that is gone or different here
 * and not yet indexed answers from neither.
 */
import type { FindSymbolResult, SymbolDefinition, SymbolLookup } from '../interfaces/symbols';
import { findSymbol, matchSymbols, outlineOf, type FileSymbols, type SymbolSource, type SymbolTable } from '../index/symbolIndex';

/** The published side as the overlay knows it now; null while the shared index is not in use. */
export interface PublishedSymbolView {
  table: SymbolTable;
  /** Whether the publish answers for this file (see the module comment). */
  visible(path: string): boolean;
}

export class OverlaySymbols implements SymbolLookup, SymbolSource {
  constructor(
    private readonly local: SymbolTable,
    private readonly published: () => PublishedSymbolView | null,
  ) {}

  get fileCount(): number {
    const view = this.published();
    if (!view) return this.local.fileCount;
    let n = this.local.fileCount;
    for (const p of view.table.paths()) if (!this.local.has(p) && view.visible(p)) n++;
    return n;
  }

  fileOf(path: string): FileSymbols | undefined {
    const mine = this.local.fileOf(path);
    if (mine) return mine;
    const view = this.published();
    return view && view.visible(path) ? view.table.fileOf(path) : undefined;
  }

  definersOf(lowerName: string): Iterable<string> {
    return this.union((t) => t.definersOf(lowerName));
  }

  usersOf(name: string): Iterable<string> {
    return this.union((t) => t.usersOf(name));
  }

  definedNames(): Iterable<[string, Iterable<string>]> {
    const names = new Map<string, Set<string>>();
    const add = (t: SymbolTable): void => {
      for (const [lower, paths] of t.definedNames()) {
        let set = names.get(lower);
        if (!set) names.set(lower, (set = new Set()));
        for (const p of paths) set.add(p);
      }
    };
    add(this.local);
    const view = this.published();
    if (view) add(view.table);
    return names;
  }

  paths(): Iterable<string> {
    return this.union((t) => t.paths());
  }

  find(name: string, limit?: number): FindSymbolResult {
    return findSymbol(this, name, limit);
  }

  outline(path: string, limit?: number): SymbolDefinition[] | undefined {
    return outlineOf(this, path, limit);
  }

  match(text: string, limit?: number): SymbolDefinition[] {
    return matchSymbols(this, text, limit);
  }

  /** Paths from both tables, once each; `fileOf` then picks the side that answers (or neither). */
  private union(of: (t: SymbolTable) => Iterable<string>): Iterable<string> {
    const view = this.published();
    if (!view) return of(this.local);
    return new Set([...of(this.local), ...of(view.table)]);
  }
}
