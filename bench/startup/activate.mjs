// Loads the built dist/extension.js in a plain Node process with a small `vscode` stand-in and runs
// activate(), printing one JSON line of timings. It measures what the extension host itself would
// spend in our code: reading and running the bundle, then activate() until every command of the
// manifest is registered and the chat view exists (the moment the editor can use the extension,
// before the memory and its index open), and then until activate() returns.
// Usage: node activate.mjs <repo> <workspace folder> <storage folder>
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [repo, folder, storage] = process.argv.slice(2);
// The extension host loads extensions through CommonJS: so does this script.
const load = createRequire(path.join(repo, 'package.json'));
const manifest = load(path.join(repo, 'package.json'));
const expectedCommands = new Set(manifest.contributes.commands.map((c) => c.command));
const registered = new Set();
const marks = {};
const now = () => performance.now();
let views = 0;

function checkReady() {
  if (marks.ready === undefined && views > 0 && [...expectedCommands].every((c) => registered.has(c))) marks.ready = now();
}

const disposable = () => ({ dispose() {} });
/** Anything the extension touches that this stand-in does not model: callable, constructible, never a promise. */
function anything(name) {
  const target = function () {};
  return new Proxy(target, {
    get(t, prop) {
      if (prop === 'then') return undefined;
      if (prop === Symbol.toPrimitive) return () => name;
      if (prop === Symbol.iterator) return function* () {};
      if (prop === 'dispose') return () => undefined;
      if (!(prop in t)) t[prop] = anything(`${name}.${String(prop)}`);
      return t[prop];
    },
    apply: () => anything(`${name}()`),
    construct: () => anything(`new ${name}`),
  });
}
const event = () => disposable();

class Uri {
  constructor(scheme, fsPath) {
    this.scheme = scheme;
    this.fsPath = fsPath;
    this.path = fsPath;
    this.authority = '';
    this.query = '';
    this.fragment = '';
  }
  static file(p) {
    return new Uri('file', p);
  }
  static joinPath(base, ...parts) {
    return new Uri(base.scheme, path.join(base.fsPath, ...parts));
  }
  static parse(s) {
    return new Uri('file', s.replace(/^file:\/\//, ''));
  }
  static from(c) {
    return new Uri(c.scheme, c.path);
  }
  with(change) {
    return new Uri(change.scheme ?? this.scheme, change.path ?? this.fsPath);
  }
  toString() {
    return pathToFileURL(this.fsPath).href;
  }
  toJSON() {
    return this.toString();
  }
}
class EventEmitter {
  constructor() {
    this.listeners = new Set();
    this.event = (l) => {
      this.listeners.add(l);
      return { dispose: () => this.listeners.delete(l) };
    };
  }
  fire(e) {
    for (const l of this.listeners) l(e);
  }
  dispose() {
    this.listeners.clear();
  }
}
class Disposable {
  constructor(fn) {
    this.fn = fn;
  }
  static from(...ds) {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose() {
    this.fn?.();
  }
}
const channel = () => {
  const c = {};
  for (const k of ['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'show', 'hide', 'clear', 'replace', 'dispose'])
    c[k] = () => undefined;
  c.onDidChangeLogLevel = event;
  c.logLevel = 2;
  return c;
};
const configuration = {
  get: (_key, fallback) => fallback,
  has: () => false,
  inspect: () => undefined,
  update: async () => undefined,
};
const workspaceFolder = { uri: Uri.file(folder), name: path.basename(folder), index: 0 };
const stub = {
  Uri,
  EventEmitter,
  Disposable,
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  FileType: { Unknown: 0, File: 1, Directory: 2, SymbolicLink: 64 },
  ViewColumn: { Active: -1, Beside: -2, One: 1 },
  workspace: {
    workspaceFolders: [workspaceFolder],
    isTrusted: true,
    getConfiguration: () => configuration,
    getWorkspaceFolder: () => workspaceFolder,
    onDidChangeConfiguration: event,
    onDidChangeWorkspaceFolders: event,
    onDidGrantWorkspaceTrust: event,
    onDidSaveTextDocument: event,
    onDidOpenTextDocument: event,
    onDidCloseTextDocument: event,
    onDidChangeTextDocument: event,
    onDidCreateFiles: event,
    onDidDeleteFiles: event,
    onDidRenameFiles: event,
    textDocuments: [],
    createFileSystemWatcher: () => ({
      onDidCreate: event,
      onDidChange: event,
      onDidDelete: event,
      dispose() {},
    }),
    registerTextDocumentContentProvider: () => disposable(),
    fs: anything('workspace.fs'),
  },
  window: {
    createOutputChannel: () => channel(),
    createStatusBarItem: () => ({ show() {}, hide() {}, dispose() {} }),
    registerWebviewViewProvider: () => {
      views++;
      checkReady();
      return disposable();
    },
    onDidChangeActiveTextEditor: event,
    onDidChangeVisibleTextEditors: event,
    onDidChangeTextEditorSelection: event,
    onDidChangeWindowState: event,
    activeTextEditor: undefined,
    visibleTextEditors: [],
    showErrorMessage: async (m) => {
      marks.error = String(m);
    },
    showWarningMessage: async () => undefined,
    showInformationMessage: async () => undefined,
    setStatusBarMessage: () => disposable(),
    withProgress: async (_o, task) => task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: event }),
  },
  commands: {
    registerCommand: (id) => {
      registered.add(id);
      checkReady();
      return disposable();
    },
    executeCommand: async () => undefined,
  },
  env: { uiKind: 1, remoteName: undefined, appName: 'stand-in', language: 'en', machineId: 'x', sessionId: 'x' },
  version: manifest.engines.vscode.replace(/^\^/, ''),
};
// The bundle copies the module's own properties once (esbuild's interop), so every namespace and
// class it may use must exist up front; the ones not modelled above accept anything.
for (const name of [
  'chat',
  'lm',
  'languages',
  'extensions',
  'authentication',
  'tasks',
  'debug',
  'l10n',
  'scm',
  'tests',
  'notebooks',
  'tasks',
])
  stub[name] ??= anything(`vscode.${name}`);
for (const name of [
  'ThemeIcon',
  'ThemeColor',
  'MarkdownString',
  'Range',
  'Position',
  'Selection',
  'Location',
  'WorkspaceEdit',
  'TreeItem',
  'CancellationTokenSource',
  'CancellationError',
  'FileSystemError',
  'RelativePattern',
  'LanguageModelTextPart',
  'LanguageModelToolCallPart',
  'LanguageModelToolResultPart',
  'LanguageModelChatMessage',
  'LanguageModelToolResult',
  'LanguageModelChatMessageRole',
  'LanguageModelChatToolMode',
  'LanguageModelError',
  'McpStdioServerDefinition',
  'ChatResponseMarkdownPart',
  'QuickPickItemKind',
  'FileChangeType',
  'FilePermission',
  'DiagnosticSeverity',
  'TextEditorRevealType',
  'UIKind',
])
  stub[name] ??= anything(`vscode.${name}`);
for (const name of ['workspace', 'window', 'commands', 'env']) {
  stub[name] = new Proxy(stub[name], {
    get(t, prop) {
      if (!(prop in t)) t[prop] = anything(`vscode.${name}.${String(prop)}`);
      return t[prop];
    },
  });
}
const vscode = stub;
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
};
load.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscode };

const memento = () => {
  const m = new Map();
  return {
    get: (k, d) => (m.has(k) ? m.get(k) : d),
    update: async (k, v) => void m.set(k, v),
    keys: () => [...m.keys()],
    setKeysForSync() {},
  };
};
const context = {
  subscriptions: [],
  extensionUri: Uri.file(repo),
  extensionPath: repo,
  globalStorageUri: Uri.file(storage),
  storageUri: Uri.file(path.join(storage, 'ws')),
  logUri: Uri.file(path.join(storage, 'log')),
  globalState: memento(),
  workspaceState: memento(),
  secrets: { get: async () => undefined, store: async () => undefined, delete: async () => undefined, onDidChange: event },
  extensionMode: 1,
  extension: { id: `${manifest.publisher}.${manifest.name}`, packageJSON: manifest, extensionUri: Uri.file(repo) },
  environmentVariableCollection: anything('environmentVariableCollection'),
  asAbsolutePath: (p) => path.join(repo, p),
};

const vendorLoads = [];
const moduleLoad = Module._load;
Module._load = function (request, ...rest) {
  if (/[\\/]dist[\\/](vendor|tokenizer)[\\/]/.test(request)) vendorLoads.push(path.basename(request));
  return moduleLoad.call(this, request, ...rest);
};

(async () => {
  marks.start = now();
  const extension = load(path.join(repo, 'dist', 'extension.js'));
  marks.loaded = now();
  const api = await extension.activate(context);
  marks.activated = now();
  const vendorBeforeDone = [...vendorLoads];
  await extension.deactivate?.();
  for (const d of context.subscriptions) {
    try {
      d.dispose();
    } catch {
      // a stand-in object may not dispose cleanly; the timings are already taken
    }
  }
  process.stdout.write(
    JSON.stringify({
      loadMs: marks.loaded - marks.start,
      readyMs: marks.ready === undefined ? null : marks.ready - marks.start,
      activateMs: marks.activated - marks.start,
      commands: registered.size,
      expectedCommands: expectedCommands.size,
      missing: [...expectedCommands].filter((c) => !registered.has(c)),
      chatView: views > 0 && api !== undefined && api.chatView !== undefined,
      runtime: api?.chatBackend !== undefined,
      error: marks.error ?? null,
      vendorLoaded: vendorBeforeDone,
    }) + '\n',
  );
  process.exit(0);
})().catch((error) => {
  process.stdout.write(JSON.stringify({ failed: String(error && error.stack ? error.stack : error) }) + '\n');
  process.exit(1);
});
