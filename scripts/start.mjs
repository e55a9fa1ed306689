// `npm start`: the product. Installs what is missing, builds, and runs the real VS Code (code-server)
// on 127.0.0.1 with MemGPT loaded from this folder and a workspace open; prints the URL. Ctrl-C stops it.
//
//   npm start                    opens sample-workspace/ (ours, so trusted)
//   npm start -- ~/code/project  opens another folder (VS Code asks before trusting it)
//
// Environment: PORT (default 8080; a free port when taken), OPENAI_BASE_URL → memgpt.baseUrl,
// MEMGPT_MODEL or OPENAI_MODEL → memgpt.model, OPENAI_API_KEY → the extension host's environment
// (used when SecretStorage holds no key; never written to disk here).
// State (settings, chats, memory, indexes) survives restarts in ~/.cache/memgpt-vscode/product/
// (MEMGPT_PRODUCT_DIR moves it, e.g. for a test).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDependencies, ensureHost } from '../test/harness/bootstrap.mjs';
import { launchPlan } from './productLaunch.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_PORT = 8080;

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function productDir() {
  if (process.env.MEMGPT_PRODUCT_DIR) return path.resolve(process.env.MEMGPT_PRODUCT_DIR);
  const cache =
    process.env.MEMGPT_HOST_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'memgpt-vscode');
  return path.join(cache, 'product');
}

/** Settings taken from the environment; only the variables that are set. */
function settingsFromEnv(env) {
  const settings = {};
  if (env.OPENAI_BASE_URL) settings['memgpt.baseUrl'] = env.OPENAI_BASE_URL;
  const model = env.MEMGPT_MODEL || env.OPENAI_MODEL;
  if (model) settings['memgpt.model'] = model;
  return settings;
}

async function main() {
  const plan = launchPlan(root, process.argv[2]);
  const workspace = plan.workspace;
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
    fail(`the workspace folder ${workspace} does not exist. Pass an existing folder: npm start -- /path/to/project`);
  }
  const portText = process.env.PORT;
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`PORT must be a TCP port number (1-65535), got "${portText}".`);

  const t0 = Date.now();
  ensureDependencies(root);
  const build = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) fail('the build failed (output above). Fix the error and run npm start again.');
  const host = ensureHost(root);

  // The harness modules are TypeScript; tsx (installed above) loads them.
  const { tsImport } = await import('tsx/esm/api');
  const { startCodeServer, PRODUCT_SETTINGS } = await tsImport('../test/harness/codeServer.ts', import.meta.url);
  const { linkExtensionFolder } = await tsImport('../test/harness/extensionsDir.ts', import.meta.url);

  const dir = productDir();
  const extensionsDir = path.join(dir, 'extensions');
  linkExtensionFolder(extensionsDir, root);
  const settings = settingsFromEnv(process.env);
  const logFile = path.join(dir, 'logs', 'code-server.log');
  const server = await startCodeServer({
    host,
    stateDir: path.join(dir, 'state'),
    userDataDir: path.join(dir, 'user-data'),
    extensionsDir,
    logFile,
    port,
    settings,
    defaultSettings: PRODUCT_SETTINGS,
    // Our sample opens trusted; a folder the user passes gets the trust prompt and MemGPT's restricted mode.
    disableWorkspaceTrust: plan.disableWorkspaceTrust,
  });
  const url = `${server.url}/?folder=${encodeURIComponent(workspace)}`;
  const configured = [
    settings['memgpt.baseUrl'] ? `base URL ${settings['memgpt.baseUrl']}` : null,
    settings['memgpt.model'] ? `model ${settings['memgpt.model']}` : null,
    process.env.OPENAI_API_KEY ? 'API key from OPENAI_API_KEY' : null,
  ].filter(Boolean);
  console.log('');
  console.log(`MemGPT for VS Code is running (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s).`);
  console.log(`  Open:      ${url}`);
  if (server.port !== port) console.log(`  (port ${port} was taken; using ${server.port})`);
  console.log(`  Workspace: ${workspace}`);
  console.log(
    `  Model:     ${configured.length ? configured.join(', ') : 'not configured: the chat view offers setup (API key or a local server such as Ollama)'}`,
  );
  console.log(`  State:     ${dir}   log: ${logFile}`);
  if (!plan.ownSample) console.log('  Restricted Mode? Click "Manage" in its banner and trust the folder, so MemGPT may index it.');
  console.log('  Ctrl-C stops the server.');
  process.once('exit', () => console.log('\nMemGPT for VS Code stopped.'));
  // Stay alive until Ctrl-C / SIGTERM; the harness then stops the server's whole process group and exits.
  setInterval(() => undefined, 1 << 30);
}

main().catch((e) => fail(e instanceof Error ? e.message : String(e)));
