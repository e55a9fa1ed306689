import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The package version, for `memgpt --version` and the MCP server's handshake. */
export function cliVersion(): string {
  // dist/cli.js → ../package.json; src/cli/version.ts (tsx) → ../../package.json.
  for (const candidate of [path.join(__dirname, '..', 'package.json'), path.join(__dirname, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'memgpt-vscode' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}
