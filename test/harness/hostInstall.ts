/**
 * Finds (installing on first use) what the offline VS Code needs: Node 24, code-server, Chromium.
 * `scripts/install-host.sh` does the work and caches it outside the repo; this reads its result lines.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface HostPaths {
  /** Node 24 binary that runs code-server (Node 20 cannot). */
  node24: string;
  /** code-server's out/node/entry.js. */
  codeServerEntry: string;
  /** Debian's Chromium, driven by playwright-core. */
  chromium: string;
}

export function installHost(repoRoot: string): HostPaths {
  const script = path.join(repoRoot, 'scripts', 'install-host.sh');
  // stderr is the script's progress log: let the user see it; stdout is the machine-readable result.
  const result = spawnSync('bash', [script], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(
      `Installing the offline VS Code host failed (bash ${script} exited with ${result.status ?? result.signal}). ` +
        'Its log is above; fix the cause and run it again (it resumes from what is already installed).',
    );
  }
  const values = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values.set(match[1], match[2]);
  }
  const paths: HostPaths = {
    node24: values.get('NODE24') ?? '',
    codeServerEntry: values.get('CODE_SERVER_ENTRY') ?? '',
    chromium: values.get('CHROMIUM') ?? '',
  };
  for (const [name, file] of Object.entries(paths)) {
    if (!file || !existsSync(file)) {
      throw new Error(
        `scripts/install-host.sh reported no usable ${name} (got "${file}"). ` +
          'Delete the half-installed cache folder it names in its log and run it again.',
      );
    }
  }
  return paths;
}
