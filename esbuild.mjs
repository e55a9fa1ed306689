// Builds every bundle of the project. `--production` minifies; `--watch` rebuilds on change.
// Entries whose source does not exist yet are skipped, so the file can name them all.
import * as esbuild from 'esbuild';
import { chmodSync, existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { integrationSuitesPlugin } from './test/integration/suitesPlugin.mjs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const root = path.dirname(new URL(import.meta.url).pathname);

/**
 * `import('vectra')` resolves to only the three classes the archival index uses: vectra's entry
 * re-exports its document index, web fetchers, gRPC server and more (about 3 MB we never run).
 * Its LocalIndex requires wink-nlp and wink's English model (3.9 MB) for a hybrid BM25 we never
 * call (the index does its own): they become a stub that says so if anything ever calls it.
 */
const vectraSlim = {
  name: 'vectra-slim',
  setup(build) {
    build.onResolve({ filter: /^wink-(nlp|eng-lite-web-model|bm25-text-search)$/ }, (args) => ({
      path: args.path,
      namespace: 'wink-stub',
    }));
    build.onLoad({ filter: /.*/, namespace: 'wink-stub' }, (args) => ({
      contents: `module.exports = function () { throw new Error(${JSON.stringify(`${args.path} is not bundled: MemGPT ranks with its own BM25.`)}); };`,
    }));
    build.onResolve({ filter: /^vectra$/ }, () => ({ path: 'vectra-slim', namespace: 'vectra-slim' }));
    build.onLoad({ filter: /.*/, namespace: 'vectra-slim' }, () => ({
      resolveDir: path.join(root, 'node_modules/vectra/lib'),
      contents: [
        "export { LocalIndex } from './LocalIndex.js';",
        "export { LocalFileStorage } from './storage/index.js';",
        "export { ProtobufCodec } from './codecs/index.js';",
      ].join('\n'),
    }));
  },
};

/**
 * web-tree-sitter's ESM build finds itself through import.meta.url, which a CommonJS bundle does not
 * have: bundle its CommonJS build instead (src/core/index/syntax/grammars.ts passes the .wasm paths).
 */
const treeSitterCjs = {
  name: 'web-tree-sitter-cjs',
  setup(build) {
    build.onResolve({ filter: /^web-tree-sitter$/ }, () => ({ path: path.join(root, 'node_modules/web-tree-sitter/web-tree-sitter.cjs') }));
  },
};

/**
 * The tokenizer encodings in use (src/core/tokens/tokenCounter.ts imports exactly these two) are
 * 5.9 MB of tables: each is its own file, dist/tokenizer/<name>.js, required when first counted,
 * so a process that never counts tokens (memgpt search, --version) does not parse them.
 */
export const TOKENIZER_ENCODINGS = ['o200k_base', 'cl100k_base'];
const tokenizerApart = {
  name: 'tokenizer-apart',
  setup(build) {
    build.onResolve({ filter: /^gpt-tokenizer\/encoding\/(o200k_base|cl100k_base)$/ }, (args) => ({
      path: args.path.split('/').pop(),
      namespace: 'tokenizer-apart',
    }));
    build.onLoad({ filter: /.*/, namespace: 'tokenizer-apart' }, (args) => ({
      // dist/<bundle>.js finds dist/tokenizer/; the integration bundle in dist/test/ looks one folder up
      contents: `const path = require('node:path'); const near = path.join(__dirname, 'tokenizer', '${args.path}.js');
module.exports = require(require('node:fs').existsSync(near) ? near : path.join(__dirname, '..', 'tokenizer', '${args.path}.js'));`,
      loader: 'js',
    }));
  },
};

/**
 * The heavy libraries, each in a file of its own (dist/vendor/<group>.js) that is required the first
 * time one of its exports is used: `memgpt --version` or `memgpt search` never parse the model
 * client (about 1 MB), the MCP SDK with its schema validators, pg or tree-sitter, and the extension
 * registers its commands before any of them load. Our code imports them as usual; in the bundles each
 * import becomes a small module whose exports are getters (their names are read from the built vendor
 * file, so they cannot drift). A group is one file, so classes compared with `instanceof` (McpError,
 * OpenAI.APIError) exist once. Importing another entry of these packages fails the build: add it to
 * its group rather than bundling a second copy.
 */
export const VENDOR_GROUPS = {
  openai: ['openai'],
  'mcp-sdk': [
    '@modelcontextprotocol/sdk/client/index.js',
    '@modelcontextprotocol/sdk/client/stdio.js',
    '@modelcontextprotocol/sdk/client/streamableHttp.js',
    '@modelcontextprotocol/sdk/server/index.js',
    '@modelcontextprotocol/sdk/server/stdio.js',
    '@modelcontextprotocol/sdk/types.js',
    '@modelcontextprotocol/sdk/validation/ajv-provider.js',
  ],
  pg: ['pg'],
  'web-tree-sitter': ['web-tree-sitter'],
  vectra: ['vectra'],
};
const VENDOR_PACKAGES = /^(openai|@modelcontextprotocol\/sdk|pg|web-tree-sitter|vectra)(\/|$)/;
const vendorGroupOf = new Map(Object.entries(VENDOR_GROUPS).flatMap(([group, specs]) => specs.map((s) => [s, group])));

function vendorBuild(group, specs) {
  return {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    minify: production,
    external: ['@huggingface/transformers'],
    mainFields: ['module', 'main'],
    logLevel: 'warning',
    plugins: [vectraSlim, treeSitterCjs],
    stdin: {
      // Imported, not required, so each package contributes its ES module build (the one the bundles used before).
      contents: specs.map((s, i) => `import * as m${i} from ${JSON.stringify(s)};\nexport { m${i} as ${JSON.stringify(s)} };\n`).join(''),
      resolveDir: root,
      sourcefile: `vendor-${group}.js`,
    },
    outfile: `dist/vendor/${group}.js`,
  };
}

/** The export names of every vendor entry, read from the built files. */
function vendorExportNames() {
  const load = createRequire(import.meta.url);
  const names = new Map();
  for (const [group, specs] of Object.entries(VENDOR_GROUPS)) {
    const file = path.join(root, 'dist/vendor', `${group}.js`);
    delete load.cache[file];
    const mod = load(file);
    for (const s of specs)
      names.set(
        s,
        Object.keys(mod[s]).filter((k) => k !== '__esModule'),
      );
  }
  return names;
}

function vendorApart(names) {
  return {
    name: 'vendor-apart',
    setup(build) {
      build.onResolve({ filter: VENDOR_PACKAGES }, (args) => {
        if (args.kind === 'import-statement' || args.kind === 'dynamic-import' || args.kind === 'require-call') {
          if (vendorGroupOf.has(args.path)) return { path: args.path, namespace: 'vendor-apart' };
          return { errors: [{ text: `${args.path} is not in VENDOR_GROUPS (esbuild.mjs): add it to its package's group.` }] };
        }
        return undefined;
      });
      build.onLoad({ filter: /.*/, namespace: 'vendor-apart' }, (args) => {
        const file = `${vendorGroupOf.get(args.path)}.js`;
        return {
          loader: 'js',
          // dist/<bundle>.js finds dist/vendor/; the integration bundle in dist/test/ looks one folder up
          contents: `const path = require('node:path');
let mod;
function load() {
  if (mod === undefined) {
    const near = path.join(__dirname, 'vendor', ${JSON.stringify(file)});
    mod = require(require('node:fs').existsSync(near) ? near : path.join(__dirname, '..', 'vendor', ${JSON.stringify(file)}))[${JSON.stringify(args.path)}];
  }
  return mod;
}
Object.defineProperty(exports, '__esModule', { value: true });
for (const name of ${JSON.stringify(names.get(args.path))}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
`,
        };
      });
    },
  };
}

/**
 * Node modules that cost a command nothing unless it uses them: `child_process` alone pulls in
 * the networking stack (about 15 ms of a 50 ms `node -e 0` on a busy machine), and only running a
 * command, git or an MCP server needs it. Each import becomes getters that require the module on
 * first use, as the vendor files are (their names are read from the running Node, which has the
 * same modules as the one that runs the bundle).
 */
const LAZY_BUILTINS = ['child_process', 'http', 'https', 'readline', 'readline/promises', 'worker_threads'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|').replace('/', '\\/')})$`);
    build.onResolve({ filter }, (args) =>
      // the getters' own require is the real module
      args.namespace === 'lazy-builtin'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const names = Object.keys(createRequire(import.meta.url)(`node:${args.path}`)).filter((n) => n !== 'default');
      return {
        loader: 'js',
        contents: `let mod;
const load = () => (mod ??= require(${JSON.stringify(`node:${args.path}`)}));
Object.defineProperty(exports, '__esModule', { value: true });
Object.defineProperty(exports, 'default', { enumerable: true, get: load });
for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });
`,
      };
    });
  },
};

/**
 * The extension's entry (dist/extension.js) holds only what the editor needs first: the chat view
 * and the commands, registered the moment it activates. `require('./vscode/windowRuntime')` — the
 * runtime, the index and every command handler — becomes a require of dist/extensionRuntime.js,
 * its own bundle, read after that registration. The two share no module with state of its own
 * (src/extension.ts passes the chat view and the waiting commands over), so nothing exists twice.
 */
const windowRuntimeApart = {
  name: 'window-runtime-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/vscode\/windowRuntime$/ }, (args) =>
      args.kind === 'require-call' ? { path: 'windowRuntime', namespace: 'window-runtime-apart' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'window-runtime-apart' }, () => ({
      loader: 'js',
      contents: "module.exports = require(require('node:path').join(__dirname, 'extensionRuntime.js'));",
    }));
  },
};

const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: production,
  // vectra loads @huggingface/transformers lazily for its own local embeddings, which MemGPT never
  // uses (it has its own embedders); bundling it would pull in onnxruntime.
  external: ['vscode', '@huggingface/transformers'],
  logLevel: 'warning',
  // gpt-tokenizer's encodings are loaded lazily through dynamic import; keep them in the bundle.
  mainFields: ['module', 'main'],
  plugins: [vectraSlim, treeSitterCjs, tokenizerApart, lazyBuiltins],
};

/** The bundles that use the vendor files: built once those exist, so the getters carry their export names. */
const mainBuilds = (vendorPlugin) =>
  [
    {
      ...nodeCommon,
      plugins: [windowRuntimeApart, vendorPlugin, ...nodeCommon.plugins],
      entryPoints: ['src/extension.ts'],
      outfile: 'dist/extension.js',
    },
    {
      ...nodeCommon,
      plugins: [vendorPlugin, ...nodeCommon.plugins],
      entryPoints: ['src/vscode/windowRuntime.ts'],
      outfile: 'dist/extensionRuntime.js',
    },
    // The command line: dist/cli.js only compiles dist/cliMain.js through V8's code cache
    // (src/cli/launcher.ts). Without comments the bundle is ASCII, which Node reads and V8 scans
    // as one byte a character instead of two; the source map keeps stack traces readable.
    {
      ...nodeCommon,
      plugins: [vendorPlugin, ...nodeCommon.plugins],
      entryPoints: ['src/cli/main.ts'],
      outfile: 'dist/cliMain.js',
      minifyWhitespace: true,
    },
    {
      ...nodeCommon,
      plugins: [],
      entryPoints: ['src/cli/launcher.ts'],
      outfile: 'dist/cli.js',
      banner: { js: '#!/usr/bin/env node' },
    },
    // Rebuilds the recall index off the extension host's thread (src/core/memory/recallRebuildWorker.ts).
    {
      ...nodeCommon,
      plugins: [vendorPlugin, ...nodeCommon.plugins],
      entryPoints: ['src/core/memory/recallRebuildWorker.ts'],
      outfile: 'dist/recallRebuildWorker.js',
    },
    {
      bundle: true,
      platform: 'browser',
      target: 'es2022',
      format: 'iife',
      sourcemap: production ? false : 'inline',
      minify: production,
      entryPoints: ['src/webview/main.ts'],
      outfile: 'media/dist/webview.js',
      logLevel: 'warning',
    },
    // Integration tests run inside the real extension host (mocha), built as one bundle.
    {
      ...nodeCommon,
      minify: false,
      entryPoints: ['test/integration/index.ts'],
      outfile: 'dist/test/integration.js',
      external: ['vscode', 'mocha', '@huggingface/transformers'],
      plugins: [vendorPlugin, vectraSlim, treeSitterCjs, tokenizerApart, integrationSuitesPlugin(root)],
    },
    ...TOKENIZER_ENCODINGS.map((e) => ({
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: production,
      entryPoints: [`node_modules/gpt-tokenizer/esm/encoding/${e}.js`],
      outfile: `dist/tokenizer/${e}.js`,
      logLevel: 'warning',
    })),
  ].filter((b) => existsSync(path.join(root, b.entryPoints[0])));
const vendorBuilds = Object.entries(VENDOR_GROUPS).map(([group, specs]) => vendorBuild(group, specs));

/** Must match GRAMMAR_FILES in src/core/index/syntax/grammars.ts (a unit test compares them). */
export const TREE_SITTER_GRAMMARS = ['typescript', 'tsx', 'javascript', 'python', 'go', 'rust', 'java', 'c_sharp', 'c', 'cpp'];

function copyStaticAssets() {
  const out = path.join(root, 'media/dist');
  mkdirSync(out, { recursive: true });
  const codicons = path.join(root, 'node_modules/@vscode/codicons/dist');
  for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(path.join(codicons, f), path.join(out, f));
  // vectra's protobuf codec reads its schema from `<__dirname>/schemas/index.proto`; bundled, __dirname is dist/.
  const schemas = path.join(root, 'dist/schemas');
  mkdirSync(schemas, { recursive: true });
  copyFileSync(path.join(root, 'node_modules/vectra/lib/codecs/schemas/index.proto'), path.join(schemas, 'index.proto'));
  // …and from dist/vendor/schemas/ when vectra is its own file (dist/vendor/vectra.js).
  mkdirSync(path.join(root, 'dist/vendor/schemas'), { recursive: true });
  copyFileSync(path.join(schemas, 'index.proto'), path.join(root, 'dist/vendor/schemas/index.proto'));
  // tree-sitter's runtime and the grammars the index parses (src/core/index/syntax/grammars.ts reads
  // them from `<__dirname>/tree-sitter/`): only these ten of the package's grammars ship.
  const treeSitter = path.join(root, 'dist/tree-sitter');
  mkdirSync(treeSitter, { recursive: true });
  copyFileSync(path.join(root, 'node_modules/web-tree-sitter/web-tree-sitter.wasm'), path.join(treeSitter, 'web-tree-sitter.wasm'));
  for (const g of TREE_SITTER_GRAMMARS) {
    copyFileSync(
      path.join(root, `node_modules/@repomix/tree-sitter-wasms/out/tree-sitter-${g}.wasm`),
      path.join(treeSitter, `tree-sitter-${g}.wasm`),
    );
  }
}

copyStaticAssets();
const started = Date.now();
// The libraries in node_modules do not change while watching: their files are built once.
await Promise.all(vendorBuilds.map((b) => esbuild.build(b)));
const builds = mainBuilds(vendorApart(vendorExportNames()));
if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log(`[esbuild] watching ${builds.length} bundles`);
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  // `./dist/cli.js` runs straight from a checkout (npm sets the bit only when it installs a bin).
  if (existsSync(path.join(root, 'dist/cli.js'))) chmodSync(path.join(root, 'dist/cli.js'), 0o755);
  const count = vendorBuilds.length + builds.length;
  console.log(`[esbuild] built ${count} bundles in ${Date.now() - started} ms${production ? ' (production)' : ''}`);
}
