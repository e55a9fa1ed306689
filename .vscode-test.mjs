// For developers with a desktop VS Code and internet: `npx vscode-test` downloads VS Code and runs the
// same in-host suites (test/integration/suite/*.test.ts, bundled by `npm run build`). The offline
// harness used by `npm test` (code-server + Chromium, see README "Tests") needs neither.
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  files: 'dist/test/integration.js',
  workspaceFolder: './sample-workspace',
  mocha: { ui: 'bdd', timeout: 30_000 },
});
