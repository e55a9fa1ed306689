/**
 * Code symbols of the indexed workspace: where a name is defined and used, and
 * what a file defines. Implemented by the archival index's SymbolIndex.
 */

export type SymbolKind =
  'class' | 'interface' | 'type' | 'enum' | 'struct' | 'trait' | 'impl' | 'module' | 'function' | 'method' | 'property';

export interface SymbolDefinition {
  name: string;
  kind: SymbolKind;
  /** Workspace-relative path. */
  path: string;
  /** 1-based line of the name. */
  line: number;
  /** First line (doc comment included) and last line of the definition. */
  startLine: number;
  endLine: number;
  /** Enclosing definitions joined with '.', '' at the top level. */
  container: string;
  /** The declaration up to its body. */
  signature: string;
  /** Its doc comment, markers removed; '' when none. */
  doc: string;
}

export interface SymbolReference {
  name: string;
  path: string;
  line: number;
}

export interface FindSymbolResult {
  definitions: SymbolDefinition[];
  references: SymbolReference[];
  /** References found beyond those returned. */
  moreReferences: number;
}

export interface SymbolLookup {
  /** Definitions of `name` (`Class.method` narrows by container), then the places using it. */
  find(name: string, limit?: number): FindSymbolResult;
  /** What a file defines, in line order; undefined when the file has no symbols (not code, or not indexed). */
  outline(path: string, limit?: number): SymbolDefinition[] | undefined;
  /** Definitions whose name contains `text`, best first (pickers). */
  match(text: string, limit?: number): SymbolDefinition[];
  /** Files with symbols. */
  readonly fileCount: number;
}
