/**
 * Definitions (name, kind, lines, enclosing scope, signature, doc comment) and
 * references (identifier name and line) of one parsed file, for every language
 * with a grammar (grammars.ts). One walk over the syntax tree with a cursor, as a
 * generator that pauses every few hundred nodes so the caller can yield to the
 * event loop.
 */
import type { Node, Tree } from 'web-tree-sitter';
import { SYMBOL_REFS_PER_FILE_MAX, SYMBOL_SIGNATURE_MAX_CHARS } from '../../limits';

import type { SymbolKind } from '../../interfaces/symbols';

export type { SymbolKind };

export interface Definition {
  name: string;
  kind: SymbolKind;
  /** 1-based line of the name. */
  line: number;
  /** 1-based first line, doc comment and decorators included. */
  startLine: number;
  /** 1-based last line. */
  endLine: number;
  /** Enclosing definitions, outermost first, joined with '.'; '' at the top level. */
  container: string;
  /** The declaration up to its body, whitespace collapsed. */
  signature: string;
  /** The doc comment or docstring, comment markers removed; '' when none. */
  doc: string;
  children: Definition[];
}

export interface Outline {
  /** Top-level definitions; nested ones are in `children`. */
  definitions: Definition[];
  /** Names used in the file (not at a definition's name), with their 1-based line, deduplicated. */
  references: [name: string, line: number][];
}

type Family = 'js' | 'python' | 'go' | 'rust' | 'java' | 'csharp' | 'c';

const FAMILY_OF: Readonly<Record<string, Family>> = {
  typescript: 'js',
  typescriptreact: 'js',
  javascript: 'js',
  javascriptreact: 'js',
  python: 'python',
  go: 'go',
  rust: 'rust',
  java: 'java',
  csharp: 'csharp',
  c: 'c',
  cpp: 'c',
};

const JS_FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);

/** Node type → kind, per language family. */
const KINDS: Readonly<Record<Family, Readonly<Record<string, SymbolKind>>>> = {
  js: {
    function_declaration: 'function',
    generator_function_declaration: 'function',
    class_declaration: 'class',
    abstract_class_declaration: 'class',
    method_definition: 'method',
    interface_declaration: 'interface',
    type_alias_declaration: 'type',
    enum_declaration: 'enum',
    internal_module: 'module',
    module: 'module',
    abstract_method_signature: 'method',
    method_signature: 'method',
    variable_declarator: 'function',
    assignment_expression: 'function',
  },
  python: { function_definition: 'function', class_definition: 'class' },
  go: { function_declaration: 'function', method_declaration: 'method', type_spec: 'type' },
  rust: {
    function_item: 'function',
    function_signature_item: 'function',
    struct_item: 'struct',
    enum_item: 'enum',
    union_item: 'struct',
    trait_item: 'trait',
    impl_item: 'impl',
    mod_item: 'module',
    type_item: 'type',
    macro_definition: 'function',
  },
  java: {
    class_declaration: 'class',
    interface_declaration: 'interface',
    enum_declaration: 'enum',
    record_declaration: 'class',
    annotation_type_declaration: 'interface',
    method_declaration: 'method',
    constructor_declaration: 'method',
  },
  csharp: {
    class_declaration: 'class',
    interface_declaration: 'interface',
    struct_declaration: 'struct',
    enum_declaration: 'enum',
    record_declaration: 'class',
    method_declaration: 'method',
    constructor_declaration: 'method',
    namespace_declaration: 'module',
    file_scoped_namespace_declaration: 'module',
    property_declaration: 'property',
    delegate_declaration: 'type',
  },
  c: {
    function_definition: 'function',
    struct_specifier: 'struct',
    enum_specifier: 'enum',
    union_specifier: 'struct',
    class_specifier: 'class',
    namespace_definition: 'module',
    type_definition: 'type',
  },
};

/** Wrappers whose start (and the comments above them) belong to the definition they wrap. */
const WRAPPERS = new Set([
  'export_statement',
  'decorated_definition',
  'template_declaration',
  'lexical_declaration',
  'variable_declaration',
  'expression_statement',
  'ambient_declaration',
  'type_declaration',
]);
const COMMENTS = new Set(['comment', 'line_comment', 'block_comment']);
const REFERENCE_TYPES = new Set(['identifier', 'type_identifier', 'property_identifier', 'field_identifier']);
const CONTAINER_KINDS: ReadonlySet<SymbolKind> = new Set(['class', 'interface', 'struct', 'trait', 'impl']);
const C_NAME_TYPES = new Set([
  'identifier',
  'field_identifier',
  'qualified_identifier',
  'destructor_name',
  'operator_name',
  'type_identifier',
]);

export function hasOutline(language: string): boolean {
  return FAMILY_OF[language] !== undefined;
}

interface Named {
  name: string;
  /** Scope named by the definition itself (`Reply.prototype.send = …`, `void A::f()`, `impl X`). */
  container?: string;
  nameNode: Node | null;
  /** Where the signature starts (the declaration, not only the declarator). */
  sigStart: Node;
  /** The node whose `body` ends the signature. */
  bodyOwner: Node;
}

/** The name of a definition node, or undefined when it is not one after all (a `const x = 1`). */
function nameOf(node: Node, family: Family): Named | undefined {
  const type = node.type;
  if (family === 'js' && type === 'variable_declarator') {
    const value = node.childForFieldName('value');
    const name = node.childForFieldName('name');
    if (!value || !name || name.type !== 'identifier' || !JS_FUNCTION_VALUES.has(value.type)) return undefined;
    return { name: name.text, nameNode: name, sigStart: node.parent ?? node, bodyOwner: value };
  }
  if (family === 'js' && type === 'assignment_expression') {
    const right = node.childForFieldName('right');
    const left = node.childForFieldName('left');
    if (!right || !left || !JS_FUNCTION_VALUES.has(right.type)) return undefined;
    if (left.type === 'identifier') return { name: left.text, nameNode: left, sigStart: node, bodyOwner: right };
    if (left.type !== 'member_expression') return undefined;
    const prop = left.childForFieldName('property');
    const object = left.childForFieldName('object');
    if (!prop) return undefined;
    const container = object ? object.text.replace(/\.prototype$/, '') : '';
    const named: Named = { name: prop.text, nameNode: prop, sigStart: node, bodyOwner: right };
    if (
      container !== '' &&
      container.length <= 60 &&
      /^[\w$.]+$/.test(container) &&
      container !== 'module' &&
      container !== 'exports' &&
      container !== 'module.exports'
    )
      named.container = container;
    return named;
  }
  if (family === 'rust' && type === 'impl_item') {
    const t = node.childForFieldName('type');
    if (!t) return undefined;
    const trait = node.childForFieldName('trait');
    return { name: t.text, nameNode: t, sigStart: node, bodyOwner: node, ...(trait ? { container: '' } : {}) };
  }
  if (family === 'c' && type === 'function_definition') {
    let d = node.childForFieldName('declarator');
    while (d && !C_NAME_TYPES.has(d.type)) d = d.childForFieldName('declarator');
    if (!d) return undefined;
    if (d.type === 'qualified_identifier') {
      const scope = d.childForFieldName('scope');
      const name = d.childForFieldName('name');
      const named: Named = { name: (name ?? d).text, nameNode: name ?? d, sigStart: node, bodyOwner: node };
      if (scope) named.container = scope.text;
      return named;
    }
    return { name: d.text, nameNode: d, sigStart: node, bodyOwner: node };
  }
  if (
    family === 'c' &&
    (type === 'struct_specifier' || type === 'enum_specifier' || type === 'union_specifier' || type === 'class_specifier')
  ) {
    if (!node.childForFieldName('body')) return undefined; // `struct foo *p;` is a use, not a definition
  }
  if (family === 'c' && type === 'type_definition') {
    const d = node.childForFieldName('declarator');
    if (!d || d.type !== 'type_identifier') return undefined;
    return { name: d.text, nameNode: d, sigStart: node, bodyOwner: node };
  }
  const name = node.childForFieldName('name');
  if (!name) return undefined;
  const sigStart = family === 'go' && node.parent?.type === 'type_declaration' ? node.parent : node;
  return { name: name.text, nameNode: name, sigStart, bodyOwner: node };
}

function kindOf(node: Node, family: Family, base: SymbolKind, parent: Definition | undefined): SymbolKind {
  if (family === 'go' && node.type === 'type_spec') {
    const t = node.childForFieldName('type')?.type;
    return t === 'struct_type' ? 'struct' : t === 'interface_type' ? 'interface' : 'type';
  }
  if (base === 'function' && parent && CONTAINER_KINDS.has(parent.kind)) return 'method';
  return base;
}

/** Comment markers off, lines joined: the words of a doc comment. */
function cleanComment(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/^\s*(\/\*\*?|\*\/|\*|\/\/\/?|#|"""|''')\s?/, '').replace(/\s*(\*\/|"""|''')\s*$/, ''))
    .filter((l) => l.trim() !== '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The comments right above `anchor` (no blank line between), and where they start. */
function leadingComments(anchor: Node): { doc: string; startRow: number } {
  const parts: string[] = [];
  let startRow = anchor.startPosition.row;
  let prev = anchor.previousSibling;
  while (prev && COMMENTS.has(prev.type) && prev.endPosition.row >= startRow - 1) {
    parts.unshift(prev.text);
    startRow = prev.startPosition.row;
    prev = prev.previousSibling;
  }
  return { doc: cleanComment(parts.join('\n')), startRow };
}

function pythonDocstring(node: Node): string {
  const body = node.childForFieldName('body');
  const first = body?.namedChild(0);
  if (first?.type === 'expression_statement' && first.namedChild(0)?.type === 'string') return cleanComment(first.namedChild(0)!.text);
  return '';
}

function signatureOf(source: string, named: Named): string {
  const body = named.bodyOwner.childForFieldName('body');
  const start = named.sigStart.startIndex;
  let end = body && body.startIndex > start ? body.startIndex : Math.min(named.sigStart.endIndex, start + SYMBOL_SIGNATURE_MAX_CHARS * 2);
  if (!body) {
    // no body field (a Go type, a C struct): the declaration up to its opening brace
    const brace = source.indexOf('{', start);
    if (brace > start && brace < end) end = brace;
  }
  const sig = source
    .slice(start, end)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[{:=>\s]+$/, (m) => (m.includes('=>') ? ' =>' : ''));
  return sig.length > SYMBOL_SIGNATURE_MAX_CHARS ? `${sig.slice(0, SYMBOL_SIGNATURE_MAX_CHARS - 1)}…` : sig;
}

/** Nodes visited between two pauses of `outlineSteps`. */
const NODES_PER_STEP = 2000;

/**
 * Walks `tree` and returns its outline; yields (pauses) every NODES_PER_STEP
 * nodes. `source` must be the text the tree was parsed from.
 */
export function* outlineSteps(tree: Tree, source: string, language: string): Generator<void, Outline, void> {
  const family = FAMILY_OF[language];
  const outline: Outline = { definitions: [], references: [] };
  if (!family) return outline;
  const kinds = KINDS[family];
  const open: { def: Definition; end: number }[] = [];
  const defNames = new Set<string>();
  const refs = new Map<string, [string, number]>();
  const cursor = tree.walk();
  let visited = 0;
  try {
    for (;;) {
      const type = cursor.nodeType;
      const startIndex = cursor.startIndex;
      while (open.length > 0 && open[open.length - 1]!.end <= startIndex) open.pop();
      const base = kinds[type];
      if (base !== undefined) {
        const node = cursor.currentNode;
        const named = nameOf(node, family);
        // `get () {}` inside Object.defineProperties(…, { x: { get () {} } }) is an accessor, not a method worth a name
        const accessor =
          named !== undefined && family === 'js' && (named.name === 'get' || named.name === 'set') && node.parent?.type === 'object';
        if (named && named.name !== '' && !accessor) {
          const parent = open[open.length - 1]?.def;
          let anchor: Node = node;
          while (anchor.parent && WRAPPERS.has(anchor.parent.type) && anchor.parent.startPosition.row >= anchor.startPosition.row - 1)
            anchor = anchor.parent;
          const lead = leadingComments(anchor);
          const doc = family === 'python' ? pythonDocstring(node) || lead.doc : lead.doc;
          const scope = open.map((o) => o.def.name).join('.');
          const container =
            named.container !== undefined
              ? named.container === ''
                ? scope
                : scope === ''
                  ? named.container
                  : `${scope}.${named.container}`
              : scope;
          const line = (named.nameNode ?? node).startPosition.row + 1;
          const def: Definition = {
            name: named.name.length > 120 ? named.name.slice(0, 120) : named.name,
            kind: kindOf(node, family, base, parent),
            line,
            startLine: Math.min(lead.startRow, anchor.startPosition.row) + 1,
            endLine: node.endPosition.row + 1,
            container,
            signature: signatureOf(source, named),
            doc: doc.length > 600 ? `${doc.slice(0, 599)}…` : doc,
            children: [],
          };
          if (named.container && !parent && def.kind === 'function') def.kind = 'method';
          (parent ? parent.children : outline.definitions).push(def);
          open.push({ def, end: cursor.endIndex });
          defNames.add(`${def.name}\u0000${line}`);
        }
      } else if (REFERENCE_TYPES.has(type) && refs.size < SYMBOL_REFS_PER_FILE_MAX) {
        const end = cursor.endIndex;
        if (end - startIndex >= 2 && end - startIndex <= 80) {
          const name = source.slice(startIndex, end);
          const line = cursor.startPosition.row + 1;
          const key = `${name}\u0000${line}`;
          if (!refs.has(key)) refs.set(key, [name, line]);
        }
      }
      if (++visited % NODES_PER_STEP === 0) yield;
      if (cursor.gotoFirstChild()) continue;
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent()) {
          for (const [key, ref] of refs) if (!defNames.has(key)) outline.references.push(ref);
          return outline;
        }
      }
    }
  } finally {
    cursor.delete();
  }
}

/** Every definition of an outline, depth first, in file order. */
export function flattenDefinitions(defs: readonly Definition[]): Definition[] {
  const out: Definition[] = [];
  const walk = (list: readonly Definition[]): void => {
    for (const d of list) {
      out.push(d);
      walk(d.children);
    }
  };
  walk(defs);
  return out;
}
