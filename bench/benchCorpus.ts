/**
 * Real npm packages as benchmark corpora, fetched with `npm pack` into
 * .bench-cache/ (gitignored) once and unpacked beside the tarball.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const BENCH_CACHE = path.resolve(__dirname, '..', '.bench-cache');

/** Returns the unpacked `package/` folder of `name@version`. */
export function fetchPackage(name: string, version: string): string {
  const dir = path.join(BENCH_CACHE, `${name}-${version}`);
  const pkg = path.join(dir, 'package');
  if (existsSync(path.join(pkg, 'package.json'))) return pkg;
  mkdirSync(dir, { recursive: true });
  const tarball = path.join(BENCH_CACHE, `${name}-${version}.tgz`);
  if (!existsSync(tarball)) {
    console.log(`fetching ${name}@${version} with npm pack…`);
    execFileSync('npm', ['pack', `${name}@${version}`, '--silent'], { cwd: BENCH_CACHE, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  execFileSync('tar', ['xzf', tarball, '-C', dir]);
  return pkg;
}

/** A deterministic sentence of `words` code-flavoured words (message `i` of a synthetic history). */
export function benchSentence(i: number, words: number): string {
  const vocab = [
    'parse',
    'config',
    'user',
    'index',
    'render',
    'the',
    'file',
    'request',
    'token',
    'window',
    'memory',
    'agent',
    'test',
    'build',
    'error',
    'cache',
  ];
  return Array.from({ length: words }, (_, k) => vocab[(i * 31 + k * 7) % vocab.length]).join(' ');
}
