/**
 * Builds the companion test extension (test/integration/support/echoExtension.ts) and installs it
 * into a code-server extensions folder. (The web workbench honours only one extensionDevelopmentPath,
 * MemGPT's, so the companion is installed the way a user's extension would be.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { REGISTER_SCRIPTED_MODELS_COMMAND, SCRIPTED_VENDOR, USE_ECHO_BACKEND_COMMAND } from '../integration/support/echoCommand';
import { listInstalledExtension } from './extensionsDir';

const PUBLISHER = 'memgpt-vscode';
const NAME = 'memgpt-test-echo';
const VERSION = '0.0.0';

export async function installEchoExtension(repoRoot: string, extensionsDir: string): Promise<void> {
  const folderName = `${PUBLISHER}.${NAME}-${VERSION}`;
  const outDir = path.join(extensionsDir, folderName);
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(repoRoot, 'test/integration/support/echoExtension.ts')],
    outfile: path.join(outDir, 'extension.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    logLevel: 'warning',
  });
  const manifest = {
    name: NAME,
    displayName: 'MemGPT test: echo backend',
    publisher: PUBLISHER,
    version: VERSION,
    engines: { vscode: '^1.104.0' },
    main: './extension.js',
    activationEvents: [],
    contributes: {
      commands: [
        { command: USE_ECHO_BACKEND_COMMAND, title: 'Use Echo Backend', category: 'MemGPT Test' },
        { command: REGISTER_SCRIPTED_MODELS_COMMAND, title: 'Register Scripted Models', category: 'MemGPT Test' },
      ],
      // The scripted chat-model provider (test/integration/support/scriptedModels.ts), registered when a test asks.
      languageModelChatProviders: [{ vendor: SCRIPTED_VENDOR, displayName: 'MemGPT Test Models' }],
    },
  };
  writeFileSync(path.join(outDir, 'package.json'), JSON.stringify(manifest, null, 2));
  listInstalledExtension(extensionsDir, `${PUBLISHER}.${NAME}`, VERSION, folderName);
}
