// First step of `npm start` and `npm test` on any machine: make sure node_modules matches
// package-lock.json (else `npm ci`), and, when asked, that the offline VS Code host is installed.
// Plain JavaScript: it runs before tsx (a dev dependency) may exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Why node_modules does not match package-lock.json, or null when it does. Checks that every
 * locked package (optional ones aside: they may be absent on this platform) is installed at its
 * locked path with its locked version. Reads ~1 small file per package: tens of milliseconds.
 */
export function dependenciesStale(root) {
  const lockFile = path.join(root, 'package-lock.json');
  if (!existsSync(path.join(root, 'node_modules'))) return 'node_modules is missing';
  if (!existsSync(lockFile)) return null; // nothing to compare with; `npm install` is the user's call
  const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
  for (const [where, entry] of Object.entries(lock.packages ?? {})) {
    if (where === '' || entry.optional || entry.link || !where.includes('node_modules/')) continue;
    const manifest = path.join(root, where, 'package.json');
    if (!existsSync(manifest)) return `${where} is not installed`;
    if (entry.version) {
      const installed = JSON.parse(readFileSync(manifest, 'utf8')).version;
      if (installed !== entry.version) return `${where} is ${installed}, package-lock.json wants ${entry.version}`;
    }
  }
  return null;
}

function run(command, args, root) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    throw new Error(`\`${command} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal}); its output is above.`);
  }
}

/** Runs `npm ci` when node_modules is absent or stale. Returns what it did, for the log. */
export function ensureDependencies(root) {
  const reason = dependenciesStale(root);
  if (!reason) return 'dependencies up to date';
  console.log(`[bootstrap] ${reason}: running npm ci`);
  run('npm', ['ci', '--no-audit', '--no-fund'], root);
  return `npm ci (${reason})`;
}

/**
 * The linter and formatter live in tools/lint with a lock file of their own (see its package.json
 * for why): installed there with `npm ci` when absent or stale, like the project's own packages.
 */
export function ensureLintDependencies(root) {
  const dir = path.join(root, 'tools', 'lint');
  const reason = dependenciesStale(dir);
  if (!reason) return 'lint tools up to date';
  console.log(`[bootstrap] tools/lint: ${reason}: running npm ci`);
  run('npm', ['ci', '--no-audit', '--no-fund'], dir);
  return `lint tools: npm ci (${reason})`;
}

/** Installs (or finds, in well under a second) Node 24, code-server and Chromium; returns their paths. */
export function ensureHost(root) {
  const r = spawnSync('bash', [path.join(root, 'scripts/install-host.sh')], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error('scripts/install-host.sh failed; its log is above. Fix the cause and run again.');
  const values = Object.fromEntries(
    r.stdout
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l.trim()))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
  return { node24: values.NODE24, codeServerEntry: values.CODE_SERVER_ENTRY, chromium: values.CHROMIUM };
}
